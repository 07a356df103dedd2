// builtins through getBuiltinModule: ESM facades of builtins cost cold-start time
const { createHash } = process.getBuiltinModule('node:crypto');
const zlib = () => process.getBuiltinModule('node:zlib');
import type { Problem } from './problem.ts';

/**
 * A response body prepared once and served many times: its bytes, a strong ETag, and its
 * gzip and br variants (each computed on first demand, off the event loop, and memoised).
 * Every representation has its own strong ETag (`"…"`, `"…-gz"`, `"…-br"`).
 */

export type Encoding = 'br' | 'gzip' | 'identity';

/** bodies smaller than this are not worth compressing */
export const MIN_COMPRESS_BYTES = 1024;
const BROTLI_QUALITY = 5;

function tagOf(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url').slice(0, 27);
}

function compress(encoding: 'br' | 'gzip', body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (e: Error | null, out: Buffer) => (e ? reject(e) : resolve(out));
    const z = zlib();
    if (encoding === 'gzip') z.gzip(body, { level: 6 }, done);
    else z.brotliCompress(body, { params: { [z.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [z.constants.BROTLI_PARAM_SIZE_HINT]: body.length } }, done);
  });
}

export class PreparedResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  /** quoted strong ETag of the identity representation */
  readonly etag: string;
  #tag: string;
  /** told when a compressed variant is ready (the response cache re-counts the entry) */
  onResize: (() => void) | undefined;
  #variants: Partial<Record<'br' | 'gzip', Promise<Buffer> | Buffer>> = {};

  constructor(status: number, contentType: string, body: Buffer) {
    this.status = status;
    this.contentType = contentType;
    this.body = body;
    this.#tag = tagOf(body);
    this.etag = `"${this.#tag}"`;
  }

  get compressible(): boolean {
    return this.body.length >= MIN_COMPRESS_BYTES;
  }

  etagFor(encoding: Encoding): string {
    return encoding === 'identity' ? this.etag : `"${this.#tag}-${encoding === 'gzip' ? 'gz' : 'br'}"`;
  }

  /** the body in an encoding: a Buffer when ready, a Promise the first time */
  variant(encoding: Encoding): Buffer | Promise<Buffer> {
    if (encoding === 'identity' || !this.compressible) return this.body;
    const have = this.#variants[encoding];
    if (have) return have;
    const pending = compress(encoding, this.body).then((out) => {
      this.#variants[encoding] = out;
      this.onResize?.();
      return out;
    });
    pending.catch(() => {
      delete this.#variants[encoding];
    });
    this.#variants[encoding] = pending;
    return pending;
  }

  /** bytes held (cache accounting) */
  get size(): number {
    let n = this.body.length;
    for (const v of Object.values(this.#variants)) if (v instanceof Buffer) n += v.length;
    return n;
  }

  /** does an If-None-Match header match this response (weak comparison, RFC 9110 §13.1.2)? */
  matches(ifNoneMatch: string | undefined): boolean {
    if (!ifNoneMatch) return false;
    if (ifNoneMatch.trim() === '*') return true;
    for (const raw of ifNoneMatch.split(',')) {
      let t = raw.trim();
      if (t.startsWith('W/')) t = t.slice(2);
      if (t.length < 2 || t[0] !== '"') continue;
      const inner = t.slice(1, -1);
      if (inner === this.#tag || inner === `${this.#tag}-gz` || inner === `${this.#tag}-br`) return true;
    }
    return false;
  }
}

export function jsonResponse(status: number, value: unknown): PreparedResponse {
  return new PreparedResponse(status, 'application/json', Buffer.from(JSON.stringify(value)));
}

export function problemResponse(p: Problem): PreparedResponse {
  return new PreparedResponse(p.status, 'application/problem+json', Buffer.from(JSON.stringify(p)));
}

/** the preferred encoding of an Accept-Encoding header among br, gzip and identity */
export function chooseEncoding(acceptEncoding: string | undefined): Encoding {
  if (!acceptEncoding) return 'identity';
  let br = -1;
  let gz = -1;
  let star = -1;
  for (const part of acceptEncoding.split(',')) {
    const [token = '', ...params] = part.split(';');
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    const name = token.trim().toLowerCase();
    if (name === 'br') br = q;
    else if (name === 'gzip' || name === 'x-gzip') gz = q;
    else if (name === '*') star = q;
  }
  if (br < 0) br = star;
  if (gz < 0) gz = star;
  if (br > 0 && br >= gz) return 'br';
  if (gz > 0) return 'gzip';
  return 'identity';
}
