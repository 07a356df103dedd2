/**
 * Removing secret values from text a server sent back, in every spelling a server is likely to
 * echo them: as sent, upper/lower case, URL- and form-encoded, hex, and base64 (standard and
 * url-safe, padded or not, at any of the three byte alignments inside a longer base64 text).
 * Only debug log excerpts go through here: status and Events never carry a response body.
 */

export const REDACTED = '[redacted]';

/** Below this many characters a secret cannot be told from ordinary text: excerpts are withheld. */
export const MIN_SCRUBBABLE = 4;

function base64Spellings(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const text = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64').replace(/=+$/, '');
    // characters that depend only on the secret's bits, not on what precedes or follows it
    const start = Math.ceil((shift * 8) / 6);
    const end = Math.floor(((shift + bytes.length) * 8) / 6);
    const core = text.slice(start, end);
    if (core.length >= MIN_SCRUBBABLE) out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  // whole-value encodings with their padding, so that no stray tail is left behind
  const whole = bytes.toString('base64');
  out.push(whole, bytes.toString('base64url'));
  return out;
}

/** Every spelling of `secret` that `scrub` removes (exported for tests). */
export function spellings(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const all = new Set<string>([
    secret,
    encodeURIComponent(secret),
    encodeURI(secret),
    new URLSearchParams({ v: secret }).toString().slice(2),
    bytes.toString('hex'),
    JSON.stringify(secret).slice(1, -1),
    ...base64Spellings(bytes),
  ]);
  return [...all].filter((s) => s.length > 0);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether some secret is too short to be scrubbed without destroying the text around it. */
export function hasUnscrubbable(secrets: readonly string[]): boolean {
  return secrets.some((s) => s.length < MIN_SCRUBBABLE);
}

/**
 * Replaces every spelling of every secret in `text`, case-insensitively (base64 matched without
 * regard to case may redact a little more than needed, never less). Longest spellings first, so
 * that a value is not left half-replaced by a shorter one inside it.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  const all = [...new Set(secrets.filter((s) => s.length > 0).flatMap(spellings))].sort((a, b) => b.length - a.length);
  if (all.length === 0) return text;
  return text.replace(new RegExp(all.map(escapeRegExp).join('|'), 'gi'), REDACTED);
}

/** A one-line, bounded, scrubbed excerpt of a body for a debug log, or why there is none. */
export function excerpt(text: string, secrets: readonly string[], options: { maxChars?: number; truncated?: boolean } = {}): string {
  const maxChars = options.maxChars ?? 300;
  if (hasUnscrubbable(secrets)) return `(withheld: a credential shorter than ${MIN_SCRUBBABLE} characters cannot be scrubbed reliably)`;
  // a body read only in part may end inside a secret: its tail is dropped, since a partial
  // spelling would not be found
  const longest = Math.max(0, ...secrets.flatMap(spellings).map((s) => s.length));
  const whole = options.truncated ? text.slice(0, Math.max(0, text.length - longest)) : text;
  // scrub before cutting, so that a secret split by the cut is still found whole
  const one = scrub(whole, secrets).replace(/\s+/g, ' ').trim();
  return one.length > maxChars ? `${one.slice(0, maxChars)}…` : one;
}
