/**
 * Candidates for a substring search over a fixed list of documents, from an index instead of a
 * scan. Each document is one or more lower-cased texts (`textsOf(id)`: a server's names, its
 * title and description, its tags); `candidates(q, fromId, visit)` calls `visit` with the ids
 * (ascending, from `fromId` on) of every document that may contain `q`, and the caller checks
 * each with the scan's own predicate. Every document that contains `q` in one of its texts is
 * visited (the answer is exactly the scan's); some that do not may be too.
 *
 * The index maps every trigram (three UTF-16 code units, within one text) to the ids holding
 * it. Trigrams are hashed into a fixed number of buckets, so one posting list may serve several
 * trigrams: a collision only adds candidates. A query of three or more units intersects the
 * posting lists of its trigrams, rarest first (leapfrogging with galloping searches), so a
 * candidate holds every trigram of the query; a query of one or two units visits every id
 * (such queries match so many documents that a scan is the answer's own size anyway).
 *
 * Layout: one `Uint32Array` of postings (bucket after bucket, ids ascending) and one of bucket
 * offsets: 4 bytes per (document, distinct trigram) and 4 per bucket, no object per list, so
 * the garbage collector has nothing to trace. Built in two passes over the texts (count, then
 * fill), without a map; `buildInSteps` yields to the event loop between slices of documents. Used by `search=` on the upstream list (lib/api/upstream-query.ts, the
 * distinct names) and on `/api/v1/servers` (lib/api/server-search.ts).
 */
export class SubstringIndex {
  readonly #count: number;
  readonly #shift: number;
  /** bucket b's ids are postings[offsets[b]] up to postings[offsets[b + 1]] */
  readonly #offsets: Uint32Array;
  readonly #postings: Uint32Array;

  private constructor(count: number, shift: number, offsets: Uint32Array, postings: Uint32Array) {
    this.#count = count;
    this.#shift = shift;
    this.#offsets = offsets;
    this.#postings = postings;
  }

  /** @internal the result of buildSteps */
  static fromParts(count: number, shift: number, offsets: Uint32Array, postings: Uint32Array): SubstringIndex {
    return new SubstringIndex(count, shift, offsets, postings);
  }

  /** `textsOf(id)`: the lower-cased texts of document `id` (0 ≤ id < count); a trigram never spans two texts */
  static build(count: number, textsOf: (id: number) => string | readonly string[]): SubstringIndex {
    const steps = buildSteps(count, textsOf, Infinity);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  }

  /**
   * The same index, built in slices of about `sliceMs` of work with a turn of the event loop
   * between them (two passes over the documents), so that other requests keep being answered
   * while a large one is built (33k servers' texts: ~200-400 ms in one piece).
   */
  static async buildInSteps(count: number, textsOf: (id: number) => string | readonly string[], sliceMs = 10): Promise<SubstringIndex> {
    const steps = buildSteps(count, textsOf, 256);
    let sliceStart = performance.now();
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      if (performance.now() - sliceStart < sliceMs) continue;
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }

  /** documents indexed */
  get size(): number {
    return this.#count;
  }

  /** bytes held (the memory budget counts them) */
  get bytes(): number {
    return this.#offsets.byteLength + this.#postings.byteLength + 64;
  }

  /**
   * Calls `visit` with the ids (ascending, from `fromId` on) of the documents that may contain
   * `q` (lower-cased like the texts) until it returns false. Every document containing `q` is
   * visited; `visit` decides (the caller's scan predicate) and stops once its page is full.
   */
  candidates(q: string, fromId: number, visit: (id: number) => boolean): void {
    const count = this.#count;
    if (q.length < 3) {
      for (let id = Math.max(0, fromId); id < count; id++) if (!visit(id)) return;
      return;
    }
    const offsets = this.#offsets;
    const postings = this.#postings;
    // the query's distinct buckets, as [start, end) ranges of postings, rarest first
    const seen = new Set<number>();
    const starts: number[] = [];
    const ends: number[] = [];
    for (let i = 0; i + 3 <= q.length; i++) {
      const b = bucketOf(q, i, this.#shift);
      if (seen.has(b)) continue;
      seen.add(b);
      const s = offsets[b]!;
      const e = offsets[b + 1]!;
      if (s === e) return; // a trigram no document holds
      let at = starts.length;
      while (at > 0 && ends[at - 1]! - starts[at - 1]! > e - s) at--;
      starts.splice(at, 0, s);
      ends.splice(at, 0, e);
    }
    const lists = starts.length;
    // cursors into each list; the rarest list starts at the first id >= fromId
    const pos = starts.slice();
    pos[0] = gallop(postings, pos[0]!, ends[0]!, fromId);
    let candidate = pos[0]! < ends[0]! ? postings[pos[0]!]! : count;
    while (candidate < count) {
      // leapfrog: every list must hold the candidate; a list that skips past it names the next one
      let agreed = true;
      for (let l = 1; l < lists; l++) {
        const p = gallop(postings, pos[l]!, ends[l]!, candidate);
        pos[l] = p;
        if (p === ends[l]!) return;
        const v = postings[p]!;
        if (v !== candidate) {
          agreed = false;
          candidate = v;
          break;
        }
      }
      if (agreed) {
        if (!visit(candidate)) return;
        candidate++;
      }
      // the rarest list moves on to the candidate (or past the one just visited)
      const p = gallop(postings, pos[0]!, ends[0]!, candidate);
      pos[0] = p;
      if (p === ends[0]!) return;
      candidate = postings[p]!;
    }
  }

  /** ids of the documents that contain `q`, ascending, given the scan's predicate (tests, whole listings) */
  search(q: string, contains: (id: number) => boolean): number[] {
    const out: number[] = [];
    this.candidates(q, 0, (id) => {
      if (contains(id)) out.push(id);
      return true;
    });
    return out;
  }
}

/** the two passes of a build (count, then fill), yielding after every `docsPerStep` documents */
function* buildSteps(count: number, textsOf: (id: number) => string | readonly string[], docsPerStep: number): Generator<void, SubstringIndex> {
  let chars = 0;
  for (let id = 0; id < count; id++) {
    chars += lengthOf(textsOf(id));
    if ((id + 1) % docsPerStep === 0) yield;
  }
  // about one bucket for every 8 indexed characters, 2^10 to 2^18 of them
  const bits = Math.max(10, Math.min(18, Math.ceil(Math.log2(chars / 8 + 1))));
  const shift = 32 - bits;
  const buckets = 1 << bits;
  // the last id that put each bucket in a list: a document's repeated trigram counts once
  const last = new Int32Array(buckets).fill(-1);
  const sizes = new Uint32Array(buckets + 1);
  for (let id = 0; id < count; id++) {
    eachBucket(textsOf(id), shift, (b) => {
      if (last[b] === id) return;
      last[b] = id;
      sizes[b]!++;
    });
    if ((id + 1) % docsPerStep === 0) yield;
  }
  // prefix sums: sizes[b] becomes the start of bucket b
  let total = 0;
  for (let b = 0; b <= buckets; b++) {
    const n = sizes[b]!;
    sizes[b] = total;
    total += n;
  }
  const offsets = sizes;
  const postings = new Uint32Array(total);
  const fill = offsets.slice(0, buckets);
  last.fill(-1);
  for (let id = 0; id < count; id++) {
    eachBucket(textsOf(id), shift, (b) => {
      if (last[b] === id) return;
      last[b] = id;
      postings[fill[b]!++] = id;
    });
    if ((id + 1) % docsPerStep === 0) yield;
  }
  return SubstringIndex.fromParts(count, shift, offsets, postings);
}

function lengthOf(texts: string | readonly string[]): number {
  if (typeof texts === 'string') return texts.length;
  let n = 0;
  for (const t of texts) n += t.length;
  return n;
}

function eachBucket(texts: string | readonly string[], shift: number, f: (b: number) => void): void {
  if (typeof texts === 'string') {
    for (let i = 0; i + 3 <= texts.length; i++) f(bucketOf(texts, i, shift));
    return;
  }
  for (const t of texts) for (let i = 0; i + 3 <= t.length; i++) f(bucketOf(t, i, shift));
}

/** the bucket of the trigram at i: a multiplicative hash of its three code units, top bits */
function bucketOf(s: string, i: number, shift: number): number {
  const h = Math.imul(s.charCodeAt(i), 0x9e3779b1) ^ Math.imul(s.charCodeAt(i + 1), 0x85ebca77) ^ Math.imul(s.charCodeAt(i + 2), 0xc2b2ae3d);
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> shift;
}

/** the first position in [from, end) whose id is >= target (ids ascending), or end */
function gallop(a: Uint32Array, from: number, end: number, target: number): number {
  if (from >= end || a[from]! >= target) return from;
  // exponential steps, then a binary search in the last step
  let step = 1;
  let lo = from;
  let hi = from + 1;
  while (hi < end && a[hi]! < target) {
    lo = hi;
    step <<= 1;
    hi = lo + step;
  }
  if (hi > end) hi = end;
  // a[lo] < target; the answer is in (lo, hi]
  lo++;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
