import { EntryError, compareKeys, toEntry, type Entry } from './entry.ts';
import { EnvelopeError, EnvelopeScanner } from './envelope-scanner.ts';

/**
 * The in-memory form of one snapshot's `upstream.json`: its entries in (name, version) order.
 *
 * A view can be *partial*: it is filled progressively from a prefix of the document (the
 * first bytes, fetched with a range request) and then from the whole document, in small
 * batches so that the event loop keeps serving. Queries (upstream-query.ts) answer from the
 * entries present when the answer cannot change with more entries, and say MORE otherwise.
 */

export interface SkippedEntry {
  index: number;
  server?: string;
  reason: string;
}

export class UpstreamView {
  readonly entries: Entry[] = [];
  /** entries that failed validation (reported, not served) */
  readonly skipped: SkippedEntry[] = [];
  #complete = false;
  #failure: Error | undefined;
  #unsorted = false;
  #waiters: Array<() => void> = [];
  #scanner = new EnvelopeScanner();
  #seen = 0;
  #byName: Map<string, [number, number]> | undefined;

  /** all entries are present */
  get complete(): boolean {
    return this.#complete;
  }

  /** loading failed; the view can never complete */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** true when answers may be given from the entries present so far */
  get answersFromPrefix(): boolean {
    return !this.#unsorted;
  }

  /**
   * Frames and adds up to `maxEntries` more entries from `bytes` (a prefix of the document,
   * or all of it when `final`). Returns true when it stopped because of `maxEntries` (call
   * again), false when it consumed what `bytes` allows.
   */
  feed(bytes: Uint8Array, final: boolean, maxEntries = Infinity): boolean {
    if (this.#complete || this.#failure) return false;
    let ranges: Array<[number, number]>;
    try {
      ranges = this.#scanner.next(bytes, final, maxEntries);
    } catch (e) {
      this.fail(e instanceof EnvelopeError ? e : new Error(String(e)));
      return false;
    }
    const decoder = new TextDecoder('utf-8', { fatal: true });
    for (const [start, end] of ranges) {
      const index = this.#seen++;
      const raw = bytes.subarray(start, end);
      let entry: Entry;
      try {
        entry = toEntry(JSON.parse(decoder.decode(raw)), raw);
      } catch (e) {
        const server = e instanceof EntryError ? e.server : undefined;
        this.skipped.push({ index, ...(server ? { server } : {}), reason: e instanceof Error ? e.message : String(e) });
        continue;
      }
      const last = this.entries[this.entries.length - 1];
      if (last) {
        const order = compareKeys(last.name, last.version, entry.name, entry.version);
        if (order === 0) {
          this.skipped.push({ index, server: entry.name, reason: `duplicate version ${JSON.stringify(entry.version)}` });
          continue;
        }
        if (order > 0) this.#unsorted = true;
      }
      this.entries.push(entry);
    }
    const more = ranges.length >= maxEntries && !this.#scanner.done;
    if (this.#scanner.done && final) this.#finish();
    else if (!more && final && !this.#scanner.done) this.fail(new EnvelopeError('the servers array is not closed', bytes.length));
    this.#wake();
    return more;
  }

  fail(error: Error): void {
    if (this.#complete) return;
    this.#failure = error;
    this.#wake();
  }

  /** Resolves when entries were added, the view completed, or it failed. */
  changed(): Promise<void> {
    if (this.#complete || this.#failure) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** [first, end) indexes of a name's versions; only on a complete view */
  rangeOf(name: string): [number, number] | undefined {
    if (!this.#byName) {
      const map = new Map<string, [number, number]>();
      const es = this.entries;
      for (let i = 0; i < es.length; ) {
        const n = es[i]!.name;
        let j = i + 1;
        while (j < es.length && es[j]!.name === n) j++;
        map.set(n, [i, j]);
        i = j;
      }
      this.#byName = map;
    }
    return this.#byName.get(name);
  }

  #finish(): void {
    if (this.#unsorted) {
      this.entries.sort((a, b) => compareKeys(a.name, a.version, b.name, b.version));
      // duplicates that were not adjacent in the input
      let w = 0;
      for (let r = 0; r < this.entries.length; r++) {
        const e = this.entries[r]!;
        const prev = this.entries[w - 1];
        if (prev && prev.name === e.name && prev.version === e.version) {
          this.skipped.push({ index: -1, server: e.name, reason: `duplicate version ${JSON.stringify(e.version)}` });
          continue;
        }
        this.entries[w++] = e;
      }
      this.entries.length = w;
      this.#unsorted = false;
    }
    this.#complete = true;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** Builds a complete view from a whole document at once (tests, small snapshots). */
export function viewOf(bytes: Uint8Array): UpstreamView {
  const view = new UpstreamView();
  view.feed(bytes, true);
  if (view.failure) throw view.failure;
  return view;
}
