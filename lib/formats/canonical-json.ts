import { RegistryError } from '../errors.ts';

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, numbers and strings
 * as JSON.stringify writes them (the same text RFC 8785 produces for registry data), properties
 * whose value is undefined left out, as JSON.stringify does. Written in chunks to a sink so that
 * hashing a large registry never holds its whole text in memory.
 */

/** decides whether `key` of an object is left out; `parentKey` is the key the object sits under */
export type KeyFilter = (key: string, parentKey: string | undefined, depth: number) => boolean;

export interface CanonicalOptions {
  /** leave keys out (e.g. timestamps) */
  omit?: KeyFilter | undefined;
  /** chunk size handed to the sink (default 64 KiB) */
  chunkSize?: number | undefined;
}

/** refuse deeper values instead of overflowing the stack (parsed documents are limited to 64) */
const MAX_DEPTH = 1000;

/** quoted keys, memoised: registry documents repeat the same few hundred keys */
const quotedKeys = new Map<string, string>();
function quoteKey(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = JSON.stringify(key);
    if (quotedKeys.size < 10000 && key.length < 64) quotedKeys.set(key, q);
  }
  return q;
}

/** strings JSON.stringify would change: quotes, backslashes, control characters, surrogates */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj);
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) return keys.sort();
  }
  return keys;
}

export function writeCanonicalJson(value: unknown, sink: (chunk: string) => void, options: CanonicalOptions = {}): void {
  const omit = options.omit;
  const chunkSize = options.chunkSize ?? 65536;
  let buf = '';
  const write = (v: unknown, parentKey: string | undefined, depth: number): void => {
    if (depth > MAX_DEPTH) throw new RegistryError('too_deep', `value nested deeper than ${MAX_DEPTH} levels`);
    if (typeof v === 'string') {
      buf += NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
    } else if (v === null || typeof v !== 'object') {
      buf += v === undefined || typeof v === 'function' || typeof v === 'symbol' ? 'null' : JSON.stringify(v);
    } else if (Array.isArray(v)) {
      buf += '[';
      for (let i = 0; i < v.length; i++) {
        if (i > 0) buf += ',';
        write(v[i], parentKey, depth + 1);
      }
      buf += ']';
    } else {
      const obj = v as Record<string, unknown>;
      const keys = sortedKeys(obj);
      buf += '{';
      let first = true;
      for (const key of keys) {
        const child = obj[key];
        if (child === undefined || typeof child === 'function' || typeof child === 'symbol') continue;
        if (omit !== undefined && omit(key, parentKey, depth)) continue;
        if (!first) buf += ',';
        first = false;
        buf += quoteKey(key);
        buf += ':';
        write(child, key, depth + 1);
      }
      buf += '}';
    }
    if (buf.length >= chunkSize) {
      sink(buf);
      buf = '';
    }
  };
  write(value, undefined, 0);
  if (buf.length > 0) sink(buf);
}

export function canonicalJson(value: unknown, options: Omit<CanonicalOptions, 'chunkSize'> = {}): string {
  const parts: string[] = [];
  writeCanonicalJson(value, (c) => parts.push(c), options);
  return parts.join('');
}
