/**
 * SSH host keys: OpenSSH `known_hosts` files and SHA256 fingerprints. Pure.
 *
 * known_hosts (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): one key a line,
 * `[marker] hostnames keytype base64-key [comment]`, where hostnames is a comma-separated list
 * of patterns (`*` and `?` wildcards, `!` negates) or one hashed name `|1|base64(salt)|
 * base64(HMAC-SHA1(salt, name))` (what `ssh-keyscan -H` and `HashKnownHosts` write). A host on
 * a port other than 22 is named `[host]:port`. Markers: `@revoked` (the key is refused for those
 * hosts) and `@cert-authority` (host certificates: not supported here, such lines are skipped).
 *
 * A fingerprint is what `ssh-keygen -l` prints: `SHA256:` and the unpadded base64 of the
 * SHA-256 digest of the key blob.
 */
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostLine {
  /** 1-based line number, for error messages */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  patterns: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  key: Buffer;
}

export interface KnownHostsParse {
  entries: KnownHostLine[];
  /** lines that could not be read: number and why (never their content) */
  skipped: Array<{ line: number; reason: string }>;
}

export function parseKnownHosts(text: string): KnownHostsParse {
  const entries: KnownHostLine[] = [];
  const skipped: KnownHostsParse['skipped'] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) return;
    const fields = t.split(/\s+/);
    let marker: KnownHostLine['marker'];
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return void skipped.push({ line, reason: `unknown marker ${m}` });
    }
    const [hosts, keyType, keyText] = fields;
    if (!hosts || !keyType || !keyText) return void skipped.push({ line, reason: 'expected hostnames, key type and key' });
    const key = Buffer.from(keyText, 'base64');
    if (key.length === 0 || keyTypeOf(key) !== keyType) return void skipped.push({ line, reason: `the key is not a valid ${keyType} key` });
    const entry: KnownHostLine = { line, patterns: [], keyType, key, ...(marker ? { marker } : {}) };
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) return void skipped.push({ line, reason: 'malformed hashed host name' });
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else entry.patterns = hosts.split(',').filter(Boolean);
    entries.push(entry);
  });
  return { entries, skipped };
}

/** The name known_hosts uses for a host on a port: `host` on 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

export function lineMatchesHost(entry: KnownHostLine, host: string, port: number): boolean {
  const name = knownHostName(host.toLowerCase(), port);
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return digest.equals(entry.hashed.hash);
  }
  let matched = false;
  for (const p of entry.patterns) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

/** The algorithm name inside an SSH public key blob (its first string), or undefined. */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || 4 + n > blob.length) return undefined;
  const name = blob.toString('latin1', 4, 4 + n);
  return /^[\x21-\x7e]+$/.test(name) ? name : undefined;
}

/** `SHA256:…` as `ssh-keygen -l` prints it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** A fingerprint as written in a spec, normalised (prefix case, padding); undefined when it is not a SHA256 fingerprint. */
export function normaliseFingerprint(text: string): string | undefined {
  const m = /^SHA256:([A-Za-z0-9+/]{43})=?$/i.exec(text.trim());
  return m ? `SHA256:${m[1]}` : undefined;
}

/** Host key algorithms to offer for keys of these known_hosts types (so the server shows one we know). */
export function hostKeyAlgorithms(keyTypes: Iterable<string>): string[] {
  const out: string[] = [];
  for (const t of keyTypes) {
    const algs = t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t];
    for (const a of algs) if (!out.includes(a)) out.push(a);
  }
  return out;
}

export type HostKeyVerdict =
  | { ok: true }
  | { ok: false; reason: 'unknown' | 'changed' | 'revoked'; message: string };

function describeKey(blob: Buffer): string {
  return `${keyTypeOf(blob) ?? 'unknown type'} ${fingerprintOf(blob)}`;
}

/**
 * Checks the key a server presented against known_hosts entries and/or a fingerprint. Both
 * given: both must accept it. Neither: refused (no host key is ever accepted unchecked).
 */
export function verifyHostKey(
  presented: Buffer,
  host: string,
  port: number,
  trust: { knownHosts?: KnownHostLine[]; fingerprint?: string },
): HostKeyVerdict {
  const name = knownHostName(host, port);
  const shown = describeKey(presented);
  if (!trust.knownHosts && !trust.fingerprint) {
    return { ok: false, reason: 'unknown', message: `no known_hosts and no fingerprint to check the host key of ${name} (${shown}) against` };
  }
  if (trust.knownHosts) {
    const forHost = trust.knownHosts.filter((e) => lineMatchesHost(e, host, port));
    if (forHost.some((e) => e.marker === 'revoked' && e.key.equals(presented))) {
      return { ok: false, reason: 'revoked', message: `the host key of ${name} (${shown}) is marked @revoked in known_hosts` };
    }
    const plain = forHost.filter((e) => !e.marker);
    if (!plain.some((e) => e.key.equals(presented))) {
      if (plain.length === 0) {
        const ca = forHost.some((e) => e.marker === 'cert-authority') ? '; @cert-authority lines are not supported' : '';
        return { ok: false, reason: 'unknown', message: `host ${name} is not in known_hosts (it presented ${shown})${ca}` };
      }
      const known = plain.map((e) => `${describeKey(e.key)} (line ${e.line})`).join(', ');
      return {
        ok: false,
        reason: 'changed',
        message: `the host key of ${name} has changed: it presented ${shown}, known_hosts has ${known}`,
      };
    }
  }
  if (trust.fingerprint && fingerprintOf(presented) !== trust.fingerprint) {
    return {
      ok: false,
      reason: 'changed',
      message: `the host key of ${name} (${shown}) does not match sshHostKeyFingerprint ${trust.fingerprint}`,
    };
  }
  return { ok: true };
}
