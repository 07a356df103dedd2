/**
 * Finds the byte ranges of the elements of the top-level `servers` array in an upstream list
 * envelope (`{"servers":[{…},{…}],"metadata":{…}}`) without parsing the whole document.
 *
 * Why: a snapshot of 10k server versions is ~20 MB. Framing the elements lets the query
 * function (a) answer the first pages of a cold registry from the first bytes while the rest
 * is still loading, (b) JSON.parse one element at a time in small batches instead of blocking
 * the event loop for one 100 ms parse, and (c) serve each entry's original bytes without
 * re-serialising it. This is framing only: every element is still validated by JSON.parse,
 * so malformed content inside an element is caught there.
 *
 * The scanner is resumable: call `next` with the first N bytes of the document, then again
 * with a longer prefix (the same leading bytes), or with all of it and `final = true`.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

export function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export const INCOMPLETE = -1;

/** Index just after the closing quote of the string whose opening quote is at `open`, or INCOMPLETE. */
export function stringEnd(b: Uint8Array, open: number, n: number): number {
  let from = open + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, from);
    if (q < 0 || q >= n) return INCOMPLETE;
    let slashes = 0;
    for (let i = q - 1; i > open && b[i] === BACKSLASH; i--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Index just after the JSON value starting at `pos` (no leading whitespace), or INCOMPLETE. */
export function valueEnd(b: Uint8Array, pos: number, n: number, final: boolean): number {
  const first = b[pos];
  if (first === QUOTE) return stringEnd(b, pos, n);
  if (first === LBRACE || first === LBRACKET) {
    let depth = 0;
    for (let i = pos; i < n; i++) {
      const c = b[i];
      if (c === QUOTE) {
        const end = stringEnd(b, i, n);
        if (end === INCOMPLETE) return INCOMPLETE;
        i = end - 1;
      } else if (c === LBRACE || c === LBRACKET) depth++;
      else if (c === RBRACE || c === RBRACKET) {
        if (--depth === 0) return i + 1;
      }
    }
    return INCOMPLETE;
  }
  // a scalar: runs to the next delimiter
  for (let i = pos; i < n; i++) {
    const c = b[i];
    if (c === COMMA || c === RBRACE || c === RBRACKET || isWs(c)) return i;
  }
  return final ? n : INCOMPLETE;
}

export class EnvelopeError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'EnvelopeError';
    this.offset = offset;
  }
}

type Phase = 'object' | 'key' | 'colon' | 'value' | 'after-value' | 'array' | 'element' | 'after-element' | 'done';

export class EnvelopeScanner {
  #pos = 0;
  #phase: Phase = 'object';
  #key = '';
  #elements = 0;

  /** true once the closing `]` of the servers array has been seen */
  get done(): boolean {
    return this.#phase === 'done';
  }

  /** number of elements found so far */
  get count(): number {
    return this.#elements;
  }

  /** the first byte not consumed yet, in the coordinates of the last `next` call */
  get position(): number {
    return this.#pos;
  }

  /**
   * The next call's bytes begin at `position` (a later, element-aligned part of the document):
   * continue from their first byte. Everything before `position` has been consumed.
   */
  rebase(): void {
    this.#pos = 0;
  }

  /**
   * Scans further into `bytes` (a prefix of the document, or all of it when `final`) and
   * returns the [start, end) ranges of up to `max` newly completed elements. Throws
   * EnvelopeError when the document is not an envelope with a `servers` array.
   */
  next(bytes: Uint8Array, final: boolean, max = Infinity): Array<[number, number]> {
    const b = bytes;
    const n = bytes.length;
    const out: Array<[number, number]> = [];
    let pos = this.#pos;
    const skipWs = () => {
      while (pos < n && isWs(b[pos])) pos++;
    };
    const truncated = (what: string): never => {
      throw new EnvelopeError(`unexpected end of document inside ${what}`, pos);
    };
    const need = (what: string): never => {
      throw new EnvelopeError(pos >= n ? `unexpected end of document, expected ${what}` : `expected ${what}`, pos);
    };
    try {
      while (out.length < max && this.#phase !== 'done') {
        skipWs();
        if (pos >= n) {
          if (final) need(this.#phase === 'element' || this.#phase === 'after-element' ? "',' or ']' in servers" : 'more of the envelope');
          break;
        }
        const c = b[pos];
        switch (this.#phase) {
          case 'object':
            if (c !== LBRACE) need("'{' (an object with a servers array)");
            pos++;
            this.#phase = 'key';
            break;
          case 'key': {
            if (c === RBRACE) need('a "servers" array (the envelope has none)');
            if (c !== QUOTE) need('a key string');
            const end = stringEnd(b, pos, n);
            if (end === INCOMPLETE) {
              if (final) truncated('a key');
              return out;
            }
            this.#key = JSON.parse(Buffer.from(b.buffer, b.byteOffset + pos, end - pos).toString('utf8')) as string;
            pos = end;
            this.#phase = 'colon';
            break;
          }
          case 'colon':
            if (c !== COLON) need("':'");
            pos++;
            this.#phase = this.#key === 'servers' ? 'array' : 'value';
            break;
          case 'value': {
            const end = valueEnd(b, pos, n, final);
            if (end === INCOMPLETE) {
              if (final) truncated(`the value of "${this.#key}"`);
              return out;
            }
            pos = end;
            this.#phase = 'after-value';
            break;
          }
          case 'after-value':
            if (c === COMMA) {
              pos++;
              this.#phase = 'key';
              this.#key = '';
            } else if (c === RBRACE) need('a "servers" array (the envelope has none)');
            else need("',' or '}'");
            break;
          case 'array':
            if (c !== LBRACKET) need('an array as the value of "servers"');
            pos++;
            this.#phase = 'element';
            break;
          case 'element': {
            if (c === RBRACKET && this.#elements === 0) {
              pos++;
              this.#phase = 'done';
              break;
            }
            if (c !== LBRACE) need(`an object as servers[${this.#elements}]`);
            const end = valueEnd(b, pos, n, final);
            if (end === INCOMPLETE) {
              if (final) truncated(`servers[${this.#elements}]`);
              return out;
            }
            out.push([pos, end]);
            this.#elements++;
            pos = end;
            this.#phase = 'after-element';
            break;
          }
          case 'after-element':
            if (c === COMMA) {
              pos++;
              this.#phase = 'element';
            } else if (c === RBRACKET) {
              pos++;
              this.#phase = 'done';
            } else need("',' or ']' after a server");
            break;
        }
      }
    } finally {
      this.#pos = pos;
    }
    return out;
  }
}
