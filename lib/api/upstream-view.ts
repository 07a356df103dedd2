import { EntryError, STATUSES, compareKeys, sanitizedBytes, type Entry, type Status } from './entry.ts';
import { indexEntry } from './entry-index.ts';
import { EnvelopeError, EnvelopeScanner } from './envelope-scanner.ts';
import { instantKey } from './time.ts';

/**
 * The in-memory form of one snapshot's `upstream.json`: its versions in (name, version)
 * order, held as columns (names, versions, instants, flags, byte offsets into the snapshot's
 * own bytes) rather than one object per version, so that 30k versions cost a few MB beside
 * the snapshot bytes. Result rows are materialised on demand (`entry(i)`).
 *
 * A view can be *partial*: it is filled progressively from a prefix of the document (the
 * first bytes, fetched with a range request) and then from the rest, in small batches so
 * that the event loop keeps serving. Queries (upstream-query.ts) answer from the versions
 * present when the answer cannot change with more of them, and say MORE otherwise.
 *
 * Each element's JSON is fully checked (JSON.parse) when it is first served (`valid`); an
 * element that fails is reported and never served.
 */

export interface SkippedEntry {
  index: number;
  server?: string;
  reason: string;
}

const STATUS_MASK = 0b11;
const LATEST = 0b100;
const CHECKED = 0b1000;
const INVALID = 0b10000;

const decoder = new TextDecoder('utf-8', { fatal: true });

export class UpstreamView {
  /** versions that failed validation (reported, never served) */
  readonly skipped: SkippedEntry[] = [];
  #length = 0;
  #names: string[] = [];
  #versions: string[] = [];
  /** RFC 3339 as stored, and their instant keys (time.ts), computed on first use */
  #published: string[] = [];
  #updated: string[] = [];
  #publishedKeys: Array<string | undefined> = [];
  #updatedKeys: Array<string | undefined> = [];
  #flags = new Uint8Array(1024);
  #start = new Float64Array(1024);
  #end = new Float64Array(1024);
  #src: Uint8Array[] = [];
  /** re-serialised bytes of elements that cannot be served as they are */
  #own = new Map<number, Uint8Array>();
  #complete = false;
  #failure: Error | undefined;
  #unsorted = false;
  #waiters: Array<() => void> = [];
  #scanner = new EnvelopeScanner();
  #seen = 0;
  #newlinesIn: { bytes: Uint8Array; any: boolean } | undefined;
  /** bytes of the distinct source buffers the versions point into */
  #srcBytes = 0;
  #lastSrc: Uint8Array | undefined;
  /** bytes of what was derived from this view and lives as long as it (see heldBytes) */
  derivedBytes = 0;

  get length(): number {
    return this.#length;
  }

  /**
   * Estimated bytes this view keeps alive: the snapshot bytes it serves from, its columns
   * (about 120 bytes a version with the name and version strings) and `derivedBytes`
   * (structures built from it, e.g. the latest servers of /api/v1/servers). For the memory
   * budget (memory-budget.ts).
   */
  get heldBytes(): number {
    let own = 0;
    for (const b of this.#own.values()) own += b.byteLength;
    return this.#srcBytes + this.#length * 120 + own + this.derivedBytes;
  }

  /** all versions are present */
  get complete(): boolean {
    return this.#complete;
  }

  /** loading failed; the view can never complete */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** true when answers may be given from the versions present so far */
  get answersFromPrefix(): boolean {
    return !this.#unsorted;
  }

  name(i: number): string {
    return this.#names[i]!;
  }
  version(i: number): string {
    return this.#versions[i]!;
  }
  status(i: number): Status {
    return STATUSES[this.#flags[i]! & STATUS_MASK]!;
  }
  isLatest(i: number): boolean {
    return (this.#flags[i]! & LATEST) !== 0;
  }
  publishedKey(i: number): string {
    return (this.#publishedKeys[i] ??= instantKey(this.#published[i]!) ?? '');
  }
  updatedKey(i: number): string {
    return (this.#updatedKeys[i] ??= instantKey(this.#updated[i]!) ?? '');
  }
  bytes(i: number): Uint8Array {
    return this.#own.get(i) ?? this.#src[i]!.subarray(this.#start[i]!, this.#end[i]!);
  }

  /** Is the version's JSON sound? Checked (JSON.parse) on first call; a failure is reported once. */
  valid(i: number): boolean {
    const f = this.#flags[i]!;
    if (f & CHECKED) return (f & INVALID) === 0;
    let ok = true;
    if (!this.#own.has(i)) {
      try {
        JSON.parse(decoder.decode(this.bytes(i)));
      } catch (e) {
        ok = false;
        this.skipped.push({ index: i, server: this.name(i), reason: `version ${JSON.stringify(this.version(i))} is not valid JSON: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    this.#flags[i] = f | CHECKED | (ok ? 0 : INVALID);
    return ok;
  }

  /** version i as a row; its instant keys are computed (and memoised) only when read */
  entry(i: number): Entry {
    return new ViewEntry(this, i);
  }

  /** the first byte not consumed yet, in the coordinates of the bytes last fed */
  get position(): number {
    return this.#scanner.position;
  }

  /** the bytes fed next begin at `position` (see EnvelopeScanner.rebase) */
  rebase(): void {
    this.#scanner.rebase();
  }

  /**
   * Frames and adds up to `maxEntries` more versions from `bytes` (a prefix of the document,
   * or all of it when `final`; or, after `rebase`, the document from `position` on). Returns true when it stopped because of `maxEntries` (call
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
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // one native scan per buffer instead of one per element (feed sees each buffer many times)
    if (this.#newlinesIn?.bytes !== bytes) this.#newlinesIn = { bytes, any: bytes.indexOf(0x0a) >= 0 || bytes.indexOf(0x0d) >= 0 };
    for (const [start, end] of ranges) this.#add(buffer, start, end, this.#newlinesIn.any);
    const more = ranges.length >= maxEntries && !this.#scanner.done;
    if (this.#scanner.done && final) this.#finish();
    this.#wake();
    return more;
  }

  #add(bytes: Buffer, start: number, end: number, mayHaveNewlines: boolean): void {
    const index = this.#seen++;
    let fields;
    let own: Uint8Array | undefined;
    try {
      fields = indexEntry(bytes, start, end, mayHaveNewlines);
      if (!fields.clean) own = sanitizedBytes(JSON.parse(decoder.decode(bytes.subarray(start, end))));
    } catch (e) {
      const server = e instanceof EntryError ? e.server : undefined;
      this.skipped.push({ index, ...(server ? { server } : {}), reason: e instanceof Error ? e.message : String(e) });
      return;
    }
    const n = this.#length;
    if (n > 0) {
      const order = compareKeys(this.#names[n - 1]!, this.#versions[n - 1]!, fields.name, fields.version);
      if (order === 0) {
        this.skipped.push({ index, server: fields.name, reason: `duplicate version ${JSON.stringify(fields.version)}` });
        return;
      }
      if (order > 0) this.#unsorted = true;
    }
    if (n === this.#flags.length) this.#grow(n * 2);
    // versions of one server share its name string
    this.#names.push(n > 0 && this.#names[n - 1] === fields.name ? this.#names[n - 1]! : fields.name);
    this.#versions.push(fields.version);
    this.#published.push(fields.publishedAt);
    this.#updated.push(fields.updatedAt);
    this.#flags[n] = STATUSES.indexOf(fields.status) | (fields.isLatest ? LATEST : 0) | (own ? CHECKED : 0);
    this.#start[n] = start;
    this.#end[n] = end;
    this.#src.push(bytes);
    if (bytes.buffer !== this.#lastSrc?.buffer || bytes.byteOffset !== this.#lastSrc.byteOffset) {
      this.#lastSrc = bytes;
      this.#srcBytes += bytes.byteLength;
    }
    if (own) this.#own.set(n, own);
    this.#length = n + 1;
  }

  #grow(size: number): void {
    const flags = new Uint8Array(size);
    flags.set(this.#flags);
    this.#flags = flags;
    const start = new Float64Array(size);
    start.set(this.#start);
    this.#start = start;
    const end = new Float64Array(size);
    end.set(this.#end);
    this.#end = end;
  }

  fail(error: Error): void {
    if (this.#complete) return;
    this.#failure = error;
    this.#wake();
  }

  /** Resolves when versions were added, the view completed, or it failed. */
  changed(): Promise<void> {
    if (this.#complete || this.#failure) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #finish(): void {
    if (this.#unsorted) this.#sort();
    this.#complete = true;
  }

  /** input out of order: sort the columns, dropping duplicate versions */
  #sort(): void {
    const n = this.#length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => compareKeys(this.#names[a]!, this.#versions[a]!, this.#names[b]!, this.#versions[b]!));
    const names: string[] = [];
    const versions: string[] = [];
    const published: string[] = [];
    const updated: string[] = [];
    const src: Uint8Array[] = [];
    const flags = new Uint8Array(Math.max(n, 1));
    const start = new Float64Array(Math.max(n, 1));
    const end = new Float64Array(Math.max(n, 1));
    const own = new Map<number, Uint8Array>();
    let w = 0;
    for (const r of order) {
      if (w > 0 && names[w - 1] === this.#names[r] && versions[w - 1] === this.#versions[r]) {
        this.skipped.push({ index: -1, server: this.#names[r]!, reason: `duplicate version ${JSON.stringify(this.#versions[r])}` });
        continue;
      }
      names.push(this.#names[r]!);
      versions.push(this.#versions[r]!);
      published.push(this.#published[r]!);
      updated.push(this.#updated[r]!);
      src.push(this.#src[r]!);
      flags[w] = this.#flags[r]!;
      start[w] = this.#start[r]!;
      end[w] = this.#end[r]!;
      const o = this.#own.get(r);
      if (o) own.set(w, o);
      w++;
    }
    [this.#names, this.#versions, this.#published, this.#updated, this.#src, this.#flags, this.#start, this.#end, this.#own] = [names, versions, published, updated, src, flags, start, end, own];
    this.#publishedKeys = [];
    this.#updatedKeys = [];
    this.#length = w;
    this.#unsorted = false;
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

/**
 * A row of a view. A list page reads only its name, version and bytes: the instant keys
 * (an RFC 3339 parse each, then memoised by the view for good) are left to those who sort by
 * them (versionsOf), so listing a version for the first time does not parse its timestamps.
 */
class ViewEntry implements Entry {
  readonly name: string;
  readonly version: string;
  readonly status: Status;
  readonly isLatest: boolean;
  readonly bytes: Uint8Array;
  readonly #view: UpstreamView;
  readonly #i: number;

  constructor(view: UpstreamView, i: number) {
    this.#view = view;
    this.#i = i;
    this.name = view.name(i);
    this.version = view.version(i);
    this.status = view.status(i);
    this.isLatest = view.isLatest(i);
    this.bytes = view.bytes(i);
  }

  get publishedKey(): string {
    return this.#view.publishedKey(this.#i);
  }

  get updatedKey(): string {
    return this.#view.updatedKey(this.#i);
  }
}
