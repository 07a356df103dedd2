// builtins through getBuiltinModule: ESM facades of builtins cost cold-start time
const { createHash, hash: oneShotHash } = process.getBuiltinModule('node:crypto');
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
const GZIP_LEVEL = 6;

/**
 * Large bodies (a whole registry: tens of MB) are compressed differently, so that they never
 * hold up the small requests around them: one at a time (the other libuv threads stay free
 * for the small compressions), at a bounded level (brotli 3, gzip 4: about a third of the CPU
 * of 5 and 6 for 10–15 % more bytes), and remembered by content (LARGE_VARIANTS_BYTES, LRU) so
 * that a large answer rebuilt for the same snapshot is compressed once. Their ETag is hashed
 * in slices between turns of the event loop (`prepareResponse`).
 */
export const LARGE_BYTES = 1024 * 1024;
const LARGE_BROTLI_QUALITY = 3;
const LARGE_GZIP_LEVEL = 4;
export const LARGE_VARIANTS_BYTES = 16 * 1024 * 1024;
const HASH_SLICE = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

function tagOf(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url').slice(0, 27);
}

/**
 * A tag made from a response-cache key instead of the body, for answers built per request and
 * mostly never asked again (distinct searches): the key carries the snapshot hashes and every
 * parameter, and the body is a pure function of it, so the tag is as strong as the body's own
 * hash and costs a hash of the key (~100 bytes) instead of the body (tens of KB).
 */
export function tagOfKey(key: string): string {
  // the one-shot hash: no Hash object per request
  return oneShotHash('sha256', `key\u0000${key}`, 'base64url').slice(0, 27);
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** the tag of a body, hashed a slice per turn of the event loop */
async function tagOfSliced(body: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < body.length; at += HASH_SLICE) {
    hash.update(body.subarray(at, Math.min(body.length, at + HASH_SLICE)));
    if (at + HASH_SLICE < body.length) await tick();
  }
  return hash.digest('base64url').slice(0, 27);
}

function compress(encoding: 'br' | 'gzip', body: Buffer, large: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (e: Error | null, out: Buffer) => (e ? reject(e) : resolve(out));
    const z = zlib();
    if (encoding === 'gzip') z.gzip(body, { level: large ? LARGE_GZIP_LEVEL : GZIP_LEVEL }, done);
    else
      z.brotliCompress(
        body,
        {
          params: {
            [z.constants.BROTLI_PARAM_QUALITY]: large ? LARGE_BROTLI_QUALITY : BROTLI_QUALITY,
            [z.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
            // a window no larger than the body: the same bytes out, but the encoder's buffers
            // are sized to it (a page of 37 KB cost 4× the event-loop time with the default
            // 4 MiB window under the image's malloc settings)
            [z.constants.BROTLI_PARAM_LGWIN]: windowBits(body.length),
          },
        },
        done,
      );
  });
}

/** brotli's window for a body: the smallest power of two holding it, 2^16 to 2^22 (the default) */
function windowBits(bytes: number): number {
  return Math.max(16, Math.min(22, Math.ceil(Math.log2(bytes + 1))));
}

/** compressed variants of large bodies by `${tag}-${encoding}`, in flight or done (LRU by bytes) */
const largeVariants = new Map<string, Promise<Buffer> | Buffer>();
let largeVariantBytes = 0;
/** the queue of large compressions: each starts when the one before has finished */
let largeQueue: Promise<unknown> = Promise.resolve();

function rememberLarge(key: string, out: Buffer): void {
  if (out.length > LARGE_VARIANTS_BYTES) {
    largeVariants.delete(key);
    return;
  }
  largeVariants.delete(key);
  largeVariants.set(key, out);
  largeVariantBytes += out.length;
  for (const [k, v] of largeVariants) {
    if (largeVariantBytes <= LARGE_VARIANTS_BYTES) break;
    if (!(v instanceof Buffer)) continue;
    largeVariants.delete(k);
    largeVariantBytes -= v.length;
  }
}

function compressLarge(tag: string, encoding: 'br' | 'gzip', body: Buffer): Promise<Buffer> {
  const key = `${tag}-${encoding}`;
  const have = largeVariants.get(key);
  if (have instanceof Buffer) {
    // refresh recency
    largeVariants.delete(key);
    largeVariants.set(key, have);
    return Promise.resolve(have);
  }
  if (have) return have as Promise<Buffer>;
  const pending = largeQueue.then(() => compress(encoding, body, true));
  largeQueue = pending.catch(() => undefined);
  largeVariants.set(key, pending);
  pending.then(
    (out) => rememberLarge(key, out),
    () => largeVariants.delete(key),
  );
  return pending;
}

/**
 * Large answers by the response-cache key that produced them (keys carry the snapshot hashes):
 * a large answer does not fit the response cache, so without this every request would build
 * its tens of MB again only to find its compressed bytes remembered. With it, a request that
 * accepts br or gzip is answered from the remembered variant without building anything.
 */
const largeAnswers = new Map<string, { tag: string; status: number; contentType: string }>();
const LARGE_ANSWERS = 256;

/** remembers a large answer's tag under its cache key (small answers are not remembered) */
export function rememberLargeAnswer(key: string, r: PreparedResponse): void {
  if (r.body.length < LARGE_BYTES) return;
  largeAnswers.delete(key);
  largeAnswers.set(key, { tag: r.tag, status: r.status, contentType: r.contentType });
  if (largeAnswers.size > LARGE_ANSWERS) largeAnswers.delete(largeAnswers.keys().next().value as string);
}

/**
 * The large answer of `key` in `encoding`, when its compressed bytes are remembered: a
 * response holding only that representation (same ETag as ever). Undefined otherwise (and
 * always for identity): build the answer.
 */
export function compressedAnswer(key: string, encoding: Encoding): PreparedResponse | undefined {
  if (encoding === 'identity') return undefined;
  const a = largeAnswers.get(key);
  if (!a) return undefined;
  const v = largeVariants.get(`${a.tag}-${encoding}`);
  if (!(v instanceof Buffer)) return undefined;
  return PreparedResponse.compressedOnly(a.status, a.contentType, a.tag, encoding, v);
}

/** large compressed variants remembered (tests) */
export function largeVariantStats(): { entries: number; bytes: number } {
  return { entries: largeVariants.size, bytes: largeVariantBytes };
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

  /** `tag`: the body's tag when already computed (prepareResponse) */
  constructor(status: number, contentType: string, body: Buffer, tag?: string) {
    this.status = status;
    this.contentType = contentType;
    this.body = body;
    this.#tag = tag ?? tagOf(body);
    this.etag = `"${this.#tag}"`;
  }

  /**
   * A response that holds one compressed representation and no body (compressedAnswer): only
   * handed out for a request whose Accept-Encoding negotiates exactly that encoding.
   */
  static compressedOnly(status: number, contentType: string, tag: string, encoding: 'br' | 'gzip', bytes: Buffer): PreparedResponse {
    const r = new PreparedResponse(status, contentType, EMPTY, tag);
    r.#packedOnly = true;
    r.#variants[encoding] = bytes;
    return r;
  }

  #packedOnly = false;

  /** the tag the ETags are made of (without quotes or suffix) */
  get tag(): string {
    return this.#tag;
  }

  get compressible(): boolean {
    return this.#packedOnly || this.body.length >= MIN_COMPRESS_BYTES;
  }

  etagFor(encoding: Encoding): string {
    return encoding === 'identity' ? this.etag : `"${this.#tag}-${encoding === 'gzip' ? 'gz' : 'br'}"`;
  }

  /** the body in an encoding: a Buffer when ready, a Promise the first time */
  variant(encoding: Encoding): Buffer | Promise<Buffer> {
    if (this.#packedOnly) {
      const have = encoding === 'identity' ? undefined : this.#variants[encoding];
      if (have instanceof Buffer) return have;
      throw new Error(`a compressed-only response has no ${encoding} representation`);
    }
    if (encoding === 'identity' || !this.compressible) return this.body;
    const have = this.#variants[encoding];
    if (have) return have;
    const pending = (this.body.length >= LARGE_BYTES ? compressLarge(this.#tag, encoding, this.body) : compress(encoding, this.body, false)).then((out) => {
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

/**
 * A response whose body may be large: its ETag is hashed a slice per event-loop turn instead
 * of in one go (36 MB took ~50 ms of the event loop). The same response as the constructor's.
 */
export async function prepareResponse(status: number, contentType: string, body: Buffer): Promise<PreparedResponse> {
  if (body.length < LARGE_BYTES) return new PreparedResponse(status, contentType, body);
  return new PreparedResponse(status, contentType, body, await tagOfSliced(body));
}

/** `build(item)` for each item, a slice of them per turn of the event loop (large listings) */
export async function mapSliced<T, R>(items: readonly T[], build: (item: T) => R, slice = 500): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i++) {
    out.push(build(items[i]!));
    if ((i + 1) % slice === 0 && i + 1 < items.length) await tick();
  }
  return out;
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
