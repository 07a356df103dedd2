/**
 * Names known to have no snapshot pointer, each for a time-to-live, in a bounded LRU: the
 * query function answers "no such registry" for them without a store read, and a caller
 * inventing ever new names costs at most `maxEntries` keys.
 */
export class NegativeCache {
  /** key → when it was added; Map order is recency (oldest first) */
  readonly #entries = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(maxEntries: number, ttlMs: number, now: () => number) {
    this.#maxEntries = Math.max(0, maxEntries);
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** True when `key` was added within the TTL (and marks it recently used). */
  has(key: string): boolean {
    const at = this.#entries.get(key);
    if (at === undefined) return false;
    this.#entries.delete(key);
    if (this.#now() - at >= this.#ttlMs) return false;
    this.#entries.set(key, at);
    return true;
  }

  add(key: string): void {
    if (this.#maxEntries === 0) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(key, this.#now());
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
