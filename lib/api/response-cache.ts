import type { PreparedResponse } from './prepared.ts';

/**
 * Least-recently-used cache of prepared responses, bounded by the bytes they hold (their
 * bodies and every compressed variant, re-counted as soon as a variant is ready). Keys carry
 * the snapshot hash, so a new snapshot never serves old bytes; `dropPrefix` frees a
 * registry's entries at once when its snapshot changes.
 *
 * The bound may be a function (memory-budget.ts: what the snapshots leave of the budget),
 * read on every insertion and growth, so the cache shrinks as snapshots load. `onEvict` is
 * told of every key that leaves, so that anything referring to the entry (the handler's
 * replies by URL) goes with it and no response outlives its accounting.
 */
export class ResponseCache {
  readonly #max: () => number;
  #bytes = 0;
  readonly #map = new Map<string, { response: PreparedResponse; size: number }>();

  readonly #onLookup: ((hit: boolean) => void) | undefined;
  readonly #onEvict: ((key: string) => void) | undefined;

  /** `onLookup` is told whether each get hit (metrics); `onEvict` each key that leaves */
  constructor(maxBytes: number | (() => number), onLookup?: (hit: boolean) => void, onEvict?: (key: string) => void) {
    this.#max = typeof maxBytes === 'number' ? () => maxBytes : maxBytes;
    this.#onLookup = onLookup;
    this.#onEvict = onEvict;
  }

  get(key: string): PreparedResponse | undefined {
    const hit = this.#map.get(key);
    this.#onLookup?.(hit !== undefined);
    if (!hit) return undefined;
    // refresh recency
    this.#map.delete(key);
    this.#map.set(key, hit);
    return hit.response;
  }

  /** refreshes an entry's recency without a lookup (the handler's fast path) */
  touch(key: string): void {
    const hit = this.#map.get(key);
    if (!hit) return;
    this.#map.delete(key);
    this.#map.set(key, hit);
  }

  has(key: string): boolean {
    return this.#map.has(key);
  }

  /** Keeps the response; false when it is too large to keep (over a quarter of the bound). */
  set(key: string, response: PreparedResponse): boolean {
    const size = response.size;
    if (size > this.#max() / 4) return false; // one response must not flush everything else
    const old = this.#map.get(key);
    if (old) this.#remove(key, old, old.response !== response);
    const entry = { response, size };
    this.#map.set(key, entry);
    this.#bytes += size;
    // a compressed variant grows the entry after insertion: count it when it is ready
    response.onResize = () => {
      if (this.#map.get(key) !== entry) return;
      this.#bytes += response.size - entry.size;
      entry.size = response.size;
      this.#evict();
    };
    this.#evict();
    return this.#map.get(key) === entry;
  }

  /**
   * Keeps the response only when its key was offered before (recently), for answers most of
   * which are never asked again (distinct searches): a one-off answer is not copied into the
   * cache, counted, aged out and collected from the old generation; a repeated one is kept
   * from its second time on. Remembers 32-bit hashes of the keys seen once in a fixed table
   * (256 KiB; a collision only admits early). True when kept.
   */
  offer(key: string, response: PreparedResponse): boolean {
    if (this.#map.has(key)) return this.set(key, response);
    const h = hashKey(key);
    const slot = h & (SEEN_SLOTS - 1);
    if (this.#seen[slot] !== h) {
      this.#seen[slot] = h;
      return false;
    }
    this.#seen[slot] = 0;
    return this.set(key, response);
  }

  readonly #seen = new Uint32Array(SEEN_SLOTS);

  dropPrefix(prefix: string): void {
    for (const [key, v] of this.#map) if (key.startsWith(prefix)) this.#remove(key, v, true);
  }

  /** frees entries until the bytes fit the bound (call when the bound shrank) */
  trim(): void {
    this.#evict();
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#map.size;
  }

  get maxBytes(): number {
    return this.#max();
  }

  #remove(key: string, v: { response: PreparedResponse; size: number }, notify: boolean): void {
    this.#map.delete(key);
    this.#bytes -= v.size;
    v.response.onResize = undefined;
    if (notify) this.#onEvict?.(key);
  }

  #evict(): void {
    const max = this.#max();
    while (this.#bytes > max) {
      const oldest = this.#map.keys().next();
      if (oldest.done) break;
      this.#remove(oldest.value, this.#map.get(oldest.value)!, true);
    }
  }
}

const SEEN_SLOTS = 1 << 16;

/** FNV-1a over the key's UTF-16 code units, never 0 (an empty slot) */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}
