/**
 * Substring search over a fixed list of lower-cased texts, from an index instead of a scan:
 * `search(q)` returns the ids (ascending) of the texts that contain `q`, exactly as
 * `texts.filter(t => t.includes(q))` would. The index maps every trigram (three UTF-16 code
 * units) to the ids of the texts holding it; a query of three or more units takes the
 * shortest posting list of its trigrams and checks each candidate with `includes`, so the
 * answer is exact and costs the rarest trigram's list, not the whole list. Queries of one or
 * two units scan (they match so many texts that a scan is the answer's own size anyway).
 *
 * Used by `search=` on the upstream list (server names) and on `/api/v1/servers` (names,
 * title, description, tags): about 5 bytes per indexed character.
 */
export class SubstringIndex {
  readonly #texts: readonly string[];
  readonly #postings: Map<number, Uint32Array>;
  /** bytes held by the postings (the memory budget counts them) */
  readonly bytes: number;

  private constructor(texts: readonly string[], postings: Map<number, Uint32Array>, bytes: number) {
    this.#texts = texts;
    this.#postings = postings;
    this.bytes = bytes;
  }

  static build(texts: readonly string[]): SubstringIndex {
    const lists = new Map<number, number[]>();
    for (let id = 0; id < texts.length; id++) {
      const t = texts[id]!;
      for (let i = 0; i + 3 <= t.length; i++) {
        const key = trigram(t, i);
        let list = lists.get(key);
        if (!list) {
          list = [];
          lists.set(key, list);
        }
        // ids arrive in ascending order: a text's repeated trigram is pushed once
        if (list[list.length - 1] !== id) list.push(id);
      }
    }
    const postings = new Map<number, Uint32Array>();
    let bytes = 0;
    for (const [key, list] of lists) {
      const ids = Uint32Array.from(list);
      postings.set(key, ids);
      bytes += ids.byteLength + 48;
    }
    return new SubstringIndex(texts, postings, bytes);
  }

  get size(): number {
    return this.#texts.length;
  }

  /** ids of the texts containing `q` (lower-cased like the texts), ascending */
  search(q: string): number[] {
    const out: number[] = [];
    this.each(q, 0, (id) => {
      out.push(id);
      return true;
    });
    return out;
  }

  /**
   * Calls `visit` with the ids (ascending, from `fromId` on) of the texts containing `q`
   * until it returns false: a page needs only its first matches, not every candidate checked.
   */
  each(q: string, fromId: number, visit: (id: number) => boolean): void {
    const texts = this.#texts;
    if (q.length < 3) {
      for (let id = fromId; id < texts.length; id++) if (texts[id]!.includes(q) && !visit(id)) return;
      return;
    }
    let best: Uint32Array | undefined;
    for (let i = 0; i + 3 <= q.length; i++) {
      const list = this.#postings.get(trigram(q, i));
      if (!list) return;
      if (!best || list.length < best.length) best = list;
    }
    const ids = best!;
    // the first candidate at or after fromId
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid]! < fromId) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < ids.length; k++) {
      const id = ids[k]!;
      if (texts[id]!.includes(q) && !visit(id)) return;
    }
  }
}

function trigram(s: string, i: number): number {
  return s.charCodeAt(i) * 4294967296 + s.charCodeAt(i + 1) * 65536 + s.charCodeAt(i + 2);
}
