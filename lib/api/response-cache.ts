import type { PreparedResponse } from './prepared.ts';

/**
 * Least-recently-used cache of prepared responses, bounded by the bytes they hold. Keys carry
 * the snapshot hash, so a new snapshot never serves old bytes; `dropPrefix` frees a
 * registry's entries at once when its snapshot changes.
 */
export class ResponseCache {
  readonly #max: number;
  #bytes = 0;
  readonly #map = new Map<string, { response: PreparedResponse; size: number }>();

  readonly #onLookup: ((hit: boolean) => void) | undefined;

  /** `onLookup` is told whether each get hit (metrics) */
  constructor(maxBytes: number, onLookup?: (hit: boolean) => void) {
    this.#max = maxBytes;
    this.#onLookup = onLookup;
  }

  get(key: string): PreparedResponse | undefined {
    const hit = this.#map.get(key);
    this.#onLookup?.(hit !== undefined);
    if (!hit) return undefined;
    // refresh recency; re-account bytes (compressed variants grow an entry after insertion)
    this.#map.delete(key);
    this.#map.set(key, hit);
    const size = hit.response.size;
    if (size !== hit.size) {
      this.#bytes += size - hit.size;
      hit.size = size;
      this.#evict();
    }
    return hit.response;
  }

  set(key: string, response: PreparedResponse): void {
    const size = response.size;
    if (size > this.#max / 4) return; // one response must not flush everything else
    const old = this.#map.get(key);
    if (old) {
      this.#bytes -= old.size;
      this.#map.delete(key);
    }
    this.#map.set(key, { response, size });
    this.#bytes += size;
    this.#evict();
  }

  dropPrefix(prefix: string): void {
    for (const [key, v] of this.#map) {
      if (key.startsWith(prefix)) {
        this.#map.delete(key);
        this.#bytes -= v.size;
      }
    }
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#map.size;
  }

  #evict(): void {
    while (this.#bytes > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done) break;
      const v = this.#map.get(oldest.value)!;
      this.#map.delete(oldest.value);
      this.#bytes -= v.size;
    }
  }
}
