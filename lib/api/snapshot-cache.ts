import { RegistryError, toRegistryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { pointerKey, type RegistryRef } from '../snapshots/layout.ts';
import type { SnapshotPointer } from '../snapshots/pointer.ts';
import type { GetOptions, SnapshotStore, StoredObject } from '../snapshots/store.ts';
import { NegativeCache } from './negative-cache.ts';
import { checkPointer } from './pointer-check.ts';
import { UpstreamView } from './upstream-view.ts';

/**
 * The query function's view of the snapshot store, per registry, loaded lazily:
 *
 * - the pointer (`current.json`) is revalidated by ETag at most every `pointerTtlMs`; a
 *   published event (`invalidate`) forces the next access to revalidate at once;
 * - `upstream.json` becomes an UpstreamView, filled from a ranged read of its first bytes
 *   (so a cold registry answers its first pages quickly) and then from the whole object in
 *   small batches;
 * - other snapshot files (`toolhive.json`) are indexed on first use by a caller-given function
 *   (counted in `heldBytes` by the value's own `heldBytes` when it has one, else 3× the file);
 * - when the store is unreachable or a new snapshot cannot be read, the last good one keeps
 *   serving (logged); a registry whose pointer disappeared is gone at once;
 * - a name without a pointer (never published, deleted, or simply made up by a caller) keeps
 *   no state: it becomes a negative entry (`negative-cache.ts`), answered "none" without I/O
 *   for `negativeTtlMs` and bounded in number, so requests for ever new unknown names cost
 *   bounded memory. A published event for the name drops its negative entry at once.
 */

export interface SnapshotCacheOptions {
  store: SnapshotStore;
  logger: Logger;
  /** revalidate a pointer at most this often (default 2000 ms) */
  pointerTtlMs?: number;
  /** how long the list of registries is reused (default 5000 ms) */
  registryListTtlMs?: number;
  /** bytes of upstream.json read first with a range request (default 128 KiB: a page of 100) */
  prefixBytes?: number;
  /** entries added per event-loop turn while loading (default 1000) */
  batchEntries?: number;
  /** at most this long per event-loop turn adding entries (default 4 ms) */
  sliceMs?: number;
  /** a prefetch (ReadOptions) loads past the first bytes after the first request or this long (default 1000 ms) */
  prefetchGraceMs?: number;
  /** entries of the first bytes added before the first requests are answered (default 40: a default page of 30 and some to spare) */
  firstBatchEntries?: number;
  /** size of the ranged reads that load the rest of upstream.json (default 4 MiB) */
  pieceBytes?: number;
  /** names remembered as having no pointer (default 10000; least recently used dropped first) */
  negativeMaxEntries?: number;
  /** how long a name is remembered as having no pointer (default: pointerTtlMs) */
  negativeTtlMs?: number;
  now?: () => number;
}

/** store options for a ranged read; stores that do not support it return the whole object */
export type RangeGetOptions = GetOptions & { range?: { start: number; end?: number } };
/** what a store that supports ranges adds to the object it returns */
type RangedObject = StoredObject & { range?: { start: number; end: number; size: number } };

export interface Current {
  ref: RegistryRef;
  pointer: SnapshotPointer;
}

export interface LoadedView {
  pointer: SnapshotPointer;
  /** the hash of the snapshot the view holds (the pointer's, or an older one still serving) */
  hash: string;
  view: UpstreamView;
}

interface UpstreamLoad {
  hash: string;
  view: UpstreamView;
  started: Promise<void>;
  failedAt?: number;
  /** lets a prefetch's load go on past the first bytes (set while it waits) */
  release?: () => void;
}

interface FileLoad {
  hash: string;
  value: Promise<unknown>;
  /** estimated bytes held: PARSED_FACTOR × the object's size, or the parsed value's own `heldBytes` */
  held: () => number;
}

/** parsed JSON in V8 takes about this many times its text (objects, strings, hidden classes) */
const PARSED_FACTOR = 3;

interface RegistryState {
  ref: RegistryRef;
  /** undefined: never read; null: no pointer (registry not published or deleted) */
  current: { pointer: SnapshotPointer; etag: string } | null | undefined;
  checkedAt: number;
  checking: Promise<void> | undefined;
  upstream: UpstreamLoad | undefined;
  goodUpstream: UpstreamLoad | undefined;
  files: Map<string, FileLoad>;
}

/**
 * How a read may be answered. `stale`: a listing across registries (`/api/v1/registries`,
 * `/api/v1/servers`) is as fresh as the registry list it walks: a pointer checked within the
 * longer of the pointer and list TTLs is taken as it is; past that it is revalidated in the
 * background and still taken, up to STALE_FACTOR × that TTL since its last check; one a
 * published event invalidated, or older than that, is read first as always. A thousand
 * registries' pointers would otherwise be re-read on the request path every TTL.
 */
export interface ReadOptions {
  stale?: boolean;
  /**
   * `upstream` only: a load started at the process's start, with no request waiting. Past the
   * first bytes it waits for the first request's answer (or `prefetchGraceMs`): a function
   * scaled from zero answers its first request before it frames the rest of the snapshot.
   */
  prefetch?: boolean;
}

const STALE_FACTOR = 5;
/** pointer reads the background revalidation makes at once */
const BACKGROUND_READS = 16;

const POINTER_KEY = /^registries\/([^/]+)\/([^/]+)\/current\.json$/;

export class SnapshotCache {
  readonly store: SnapshotStore;
  readonly #log: Logger;
  readonly #ttl: number;
  readonly #listTtl: number;
  readonly #prefixBytes: number;
  readonly #batch: number;
  readonly #firstBatch: number;
  readonly #sliceMs: number;
  readonly #graceMs: number;
  readonly #pieceBytes: number;
  readonly #now: () => number;
  readonly #states = new Map<string, RegistryState>();
  readonly #negative: NegativeCache;
  #list: { at: number; refs: RegistryRef[] } | undefined;
  #listing: Promise<RegistryRef[]> | undefined;
  readonly #listeners: Array<(ref: RegistryRef) => void> = [];
  readonly #heldListeners: Array<() => void> = [];
  /** registries whose pointer a listing found past its TTL, to revalidate in the background */
  readonly #later = new Set<RegistryState>();
  #laterRunning = 0;

  constructor(options: SnapshotCacheOptions) {
    this.store = options.store;
    this.#log = options.logger;
    this.#ttl = options.pointerTtlMs ?? 2000;
    this.#listTtl = options.registryListTtlMs ?? 5000;
    this.#prefixBytes = options.prefixBytes ?? 128 * 1024;
    this.#batch = options.batchEntries ?? 1000;
    this.#firstBatch = options.firstBatchEntries ?? 40;
    this.#sliceMs = options.sliceMs ?? 4;
    this.#graceMs = options.prefetchGraceMs ?? 1000;
    this.#pieceBytes = options.pieceBytes ?? 4 * 1024 * 1024;
    this.#now = options.now ?? (() => performance.now());
    this.#negative = new NegativeCache(options.negativeMaxEntries ?? 10_000, options.negativeTtlMs ?? this.#ttl, this.#now);
  }

  /** How many names the cache holds state for and remembers as missing (for tests and metrics). */
  sizes(): { registries: number; negative: number } {
    return { registries: this.#states.size, negative: this.#negative.size };
  }

  /**
   * Estimated bytes held by every loaded snapshot: upstream views (the one serving and a last
   * good one kept beside it) and parsed snapshot files. The memory budget gives the response
   * cache what this leaves (memory-budget.ts).
   */
  heldBytes(): number {
    let n = 0;
    for (const st of this.#states.values()) {
      if (st.upstream) n += st.upstream.view.heldBytes;
      if (st.goodUpstream && st.goodUpstream !== st.upstream) n += st.goodUpstream.view.heldBytes;
      for (const f of st.files.values()) n += f.held();
    }
    return n;
  }

  /** called when more snapshot bytes are held (the response cache shrinks to the budget) */
  onHeld(listener: () => void): void {
    this.#heldListeners.push(listener);
  }

  #onHeld(): void {
    for (const l of this.#heldListeners) l();
  }

  /** called when a registry's snapshot changes or disappears (response caches drop it) */
  onChange(listener: (ref: RegistryRef) => void): void {
    this.#listeners.push(listener);
  }

  #state(ref: RegistryRef): RegistryState {
    const key = `${ref.namespace}/${ref.name}`;
    let st = this.#states.get(key);
    if (!st) {
      st = { ref, current: undefined, checkedAt: -Infinity, checking: undefined, upstream: undefined, goodUpstream: undefined, files: new Map() };
      this.#states.set(key, st);
    }
    return st;
  }

  /**
   * The registry's current snapshot hash when its pointer was validated within the TTL (no
   * I/O, synchronous: the fast path of repeated requests); undefined when a revalidation is due.
   */
  freshHash(ref: RegistryRef): string | undefined {
    const st = this.#states.get(`${ref.namespace}/${ref.name}`);
    if (!st?.current || this.#now() - st.checkedAt >= this.#ttl) return undefined;
    return st.current.pointer.hash;
  }

  /**
   * For a listing across registries (`stale` reads), without I/O: the pointer when `current(ref,
   * { stale: true })` would answer it without waiting (a background revalidation is queued as
   * it would be), undefined when that call would have to read.
   */
  currentForListing(ref: RegistryRef): SnapshotPointer | undefined {
    const st = this.#states.get(`${ref.namespace}/${ref.name}`);
    if (!st?.current) return undefined;
    const age = this.#now() - st.checkedAt;
    if (age < this.#ttl) return st.current.pointer;
    const listing = Math.max(this.#ttl, this.#listTtl);
    if (age >= listing * STALE_FACTOR) return undefined;
    if (age >= listing) this.#revalidateLater(st);
    return st.current.pointer;
  }

  /** The registry's current pointer (revalidated when due), or null when it has none. */
  async current(ref: RegistryRef, options: ReadOptions = {}): Promise<Current | null> {
    const key = `${ref.namespace}/${ref.name}`;
    if (!this.#states.has(key) && this.#negative.has(key)) return null;
    const st = this.#state(ref);
    const age = this.#now() - st.checkedAt;
    const listing = Math.max(this.#ttl, this.#listTtl);
    if (options.stale && st.current && age >= this.#ttl && age < listing * STALE_FACTOR) {
      // a listing across registries does not wait for this one's revalidation
      if (age >= listing) this.#revalidateLater(st);
    } else if (st.current === undefined || age >= this.#ttl) {
      try {
        await this.#revalidate(st);
      } catch (e) {
        // nothing known yet: keep no state for a name whose first read failed
        if (st.current === undefined && this.#states.get(key) === st) this.#states.delete(key);
        throw e;
      }
    }
    if (st.current) return { ref, pointer: st.current.pointer };
    // no pointer: remembered as a bounded negative entry instead of a state
    if (this.#states.get(key) === st && !st.checking) {
      this.#states.delete(key);
      this.#negative.add(key);
    }
    return null;
  }

  /** queues a background revalidation (at most BACKGROUND_READS pointer reads at once) */
  #revalidateLater(st: RegistryState): void {
    if (st.checking) return;
    this.#later.add(st);
    this.#pumpLater();
  }

  #pumpLater(): void {
    for (const st of this.#later) {
      if (this.#laterRunning >= BACKGROUND_READS) return;
      this.#later.delete(st);
      if (st.checking || this.#now() - st.checkedAt < Math.max(this.#ttl, this.#listTtl)) continue;
      this.#laterRunning++;
      this.#revalidate(st)
        .catch(() => undefined)
        .finally(() => {
          this.#laterRunning--;
          this.#pumpLater();
        });
    }
  }

  #revalidate(st: RegistryState): Promise<void> {
    st.checking ??= this.#readPointer(st).finally(() => {
      st.checking = undefined;
    });
    return st.checking;
  }

  async #readPointer(st: RegistryState): Promise<void> {
    const key = pointerKey(st.ref);
    const cached = st.current;
    let got: StoredObject | 'not-modified' | null;
    try {
      got = await this.store.get(key, cached ? { ifNoneMatch: cached.etag } : {});
    } catch (e) {
      const err = toRegistryError(e, 'store_unavailable', { key });
      if (cached === undefined) throw err;
      // keep serving what we have; try again in a second
      this.#log.warn('snapshot store unreachable; serving the cached pointer', { registry: `${st.ref.namespace}/${st.ref.name}`, error: err.describe() });
      st.checkedAt = this.#now() - this.#ttl + Math.min(this.#ttl, 1000);
      return;
    }
    st.checkedAt = this.#now();
    if (got === 'not-modified') return;
    if (got === null) {
      if (cached) this.#log.info('registry pointer removed', { registry: `${st.ref.namespace}/${st.ref.name}` });
      this.#replace(st, null);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(got.body).toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const checked = checkPointer(st.ref, parsed);
    if ('error' in checked) {
      const err = new RegistryError('invalid_document', `unreadable snapshot pointer: ${checked.error}`, { where: { key } });
      if (!cached) throw err;
      this.#log.error('ignoring an invalid snapshot pointer; the previous snapshot keeps serving', { error: err.describe() });
      return;
    }
    if (cached && cached.pointer.hash === checked.pointer.hash) {
      st.current = { pointer: checked.pointer, etag: got.etag };
      return;
    }
    this.#replace(st, { pointer: checked.pointer, etag: got.etag });
  }

  #replace(st: RegistryState, next: { pointer: SnapshotPointer; etag: string } | null): void {
    const had = st.current;
    st.current = next;
    if (next === null) {
      st.upstream = undefined;
      st.goodUpstream = undefined;
      st.files.clear();
    } else {
      for (const [name, load] of st.files) if (load.hash !== next.pointer.hash) st.files.delete(name);
    }
    if (had) for (const l of this.#listeners) l(st.ref);
  }

  /**
   * A published event: when it names the hash being served it is a no-op (no I/O at all);
   * otherwise the next request revalidates the pointer (a conditional read) and the list of
   * registries. Nothing loaded is dropped on the event's word: the pointer decides, so a
   * forged or stale event costs one pointer read, never a re-read of the snapshot.
   */
  invalidate(ref: RegistryRef, hash?: string): void {
    const key = `${ref.namespace}/${ref.name}`;
    const st = this.#states.get(key);
    if (hash !== undefined && st?.current && st.current.pointer.hash === hash) return;
    this.#list = undefined;
    this.#negative.delete(key);
    if (st) st.checkedAt = -Infinity;
  }

  /** The upstream view of the registry's snapshot, started loading if needed; null when unpublished. */
  async upstream(ref: RegistryRef, options: ReadOptions = {}): Promise<LoadedView | null> {
    const cur = await this.current(ref, options);
    if (!cur) return null;
    const st = this.#state(ref);
    const hash = cur.pointer.hash;
    let load = st.upstream;
    const retry = load?.failedAt !== undefined && this.#now() - load.failedAt >= this.#ttl;
    if (!load || load.hash !== hash || retry) {
      load = this.#loadUpstream(st, cur.pointer, options.prefetch === true);
      st.upstream = load;
    }
    await load.started;
    if (!options.prefetch) load.release?.();
    if (load.view.failure) {
      const good = st.goodUpstream;
      if (good && good.view.complete) return { pointer: cur.pointer, hash: good.hash, view: good.view };
      throw this.#loadError(ref, load.view.failure);
    }
    return { pointer: cur.pointer, hash, view: load.view };
  }

  /** A view that failed while a request was waiting on it: the last good one, or an error. */
  fallback(ref: RegistryRef, failed: UpstreamView): { hash: string; view: UpstreamView } {
    const st = this.#state(ref);
    const good = st.goodUpstream;
    if (good && good.view !== failed && good.view.complete) return { hash: good.hash, view: good.view };
    throw this.#loadError(ref, failed.failure ?? new Error('snapshot load failed'));
  }

  #loadError(ref: RegistryRef, e: Error): RegistryError {
    if (e instanceof RegistryError) return e;
    return new RegistryError('invalid_document', `snapshot of ${ref.namespace}/${ref.name} is unreadable: ${e.message}`, { cause: e });
  }

  #loadUpstream(st: RegistryState, pointer: SnapshotPointer, prefetch: boolean): UpstreamLoad {
    const view = new UpstreamView();
    const key = pointer.objects.upstream;
    const registry = `${st.ref.namespace}/${st.ref.name}`;
    const load: UpstreamLoad = { hash: pointer.hash, view, started: Promise.resolve() };
    // past the first bytes: at once, or for a prefetch once a request took the view
    const released = prefetch
      ? new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#graceMs);
          timer.unref?.();
          load.release = () => {
            clearTimeout(timer);
            load.release = undefined;
            resolve();
          };
        })
      : Promise.resolve();
    const failed = (e: unknown) => {
      const err = toRegistryError(e, 'store_unavailable', { key });
      this.#log.error('snapshot load failed', { registry, error: err.describe() });
      load.failedAt = this.#now();
      view.fail(err);
    };
    /**
     * feeds `bytes` in batches, one event-loop turn each, until they yield no more versions; a
     * turn ends after `batchEntries` or `sliceMs`, whichever comes first (in a process that
     * just started, framing runs in the interpreter: 1000 entries could take 100 ms, which a
     * request arriving meanwhile would wait)
     */
    const feedAll = async (bytes: Uint8Array, final: boolean) => {
      const step = Math.min(this.#batch, 50);
      for (;;) {
        const until = performance.now() + this.#sliceMs;
        let fed = 0;
        let more: boolean;
        do {
          more = view.feed(bytes, final, Math.min(step, this.#batch - fed));
          fed += step;
        } while (more && fed < this.#batch && performance.now() < until);
        if (!more) break;
        await new Promise((r) => setImmediate(r));
      }
      if (view.failure) throw view.failure;
    };
    const completed = () => {
      if (st.upstream === load) {
        // the previous good snapshot is no longer needed as a fallback
        st.goodUpstream = load;
      }
      this.#onHeld();
      if (view.skipped.length > 0) this.#log.warn('snapshot entries skipped', { registry, count: view.skipped.length, first: view.skipped[0] });
    };
    load.started = (async () => {
      try {
        const options: RangeGetOptions = { range: { start: 0, end: this.#prefixBytes } };
        const first = (await this.store.get(key, options)) as RangedObject | 'not-modified' | null;
        if (first === null || first === 'not-modified') throw new RegistryError('not_found', 'snapshot object upstream.json is missing', { where: { key } });
        const r = first.range;
        if (!r || r.start !== 0 || r.end >= r.size) {
          // the whole object: the first batch now, the rest in the background
          const rest = feedAll(first.body, true).then(completed);
          rest.catch(failed);
          return;
        }
        // answer the first page from the first elements of the first bytes (before `started`
        // resolves): framing all of them would keep a cold start's first answer waiting
        view.feed(first.body, false, this.#firstBatch);
        // the rest after the requests waiting for the first bytes have been answered
        // (a turn later: the request that released it is answered first)
        void released
          .then(() => new Promise((resolve) => setImmediate(resolve)))
          .then(() => feedAll(first.body, false))
          .then(() => this.#loadRest(view, key, first.etag, r.size, feedAll))
          .then(completed, failed);
      } catch (e) {
        failed(e);
      }
    })();
    return load;
  }

  /**
   * Loads the rest of upstream.json after its first bytes: ranged reads of `pieceBytes`, each
   * starting where the view stopped (the first byte of an unfinished element), so that every
   * element lies whole inside one piece and the pieces themselves are the view's storage (no
   * copy into one big buffer). Every piece must come from the object with ETag `etag`
   * (snapshot objects are immutable; another ETag means the object was replaced).
   */
  async #loadRest(view: UpstreamView, key: string, etag: string, size: number, feedAll: (bytes: Uint8Array, final: boolean) => Promise<void>): Promise<void> {
    let offset = view.position;
    let pieceBytes = this.#pieceBytes;
    while (!view.complete) {
      const end = Math.min(size, offset + pieceBytes);
      const got = (await this.store.get(key, { range: { start: offset, end } } as RangeGetOptions)) as RangedObject | 'not-modified' | null;
      if (got === null || got === 'not-modified') throw new RegistryError('not_found', 'snapshot object upstream.json disappeared while loading', { where: { key } });
      if (got.etag !== etag) throw new RegistryError('conflict', 'snapshot object upstream.json changed while loading', { where: { key } });
      const r = got.range ?? { start: 0, end: got.body.length, size: got.body.length };
      if (r.size !== size || r.start !== offset || r.end !== end) {
        throw new RegistryError('store_unavailable', `the store answered bytes ${r.start}-${r.end}/${r.size} for ${offset}-${end}/${size}`, { where: { key } });
      }
      view.rebase();
      await feedAll(got.body, end === size);
      if (view.complete) return;
      if (end === size) throw new RegistryError('invalid_document', 'upstream.json ended inside the servers array', { where: { key } });
      // an element larger than a piece: read more at once
      if (view.position === 0) pieceBytes *= 2;
      offset += view.position;
    }
  }

  /**
   * A snapshot file other than upstream.json, parsed once per snapshot by `parse`
   * (memoised under `name`, e.g. the ToolHive index).
   */
  async file<T>(ref: RegistryRef, name: string, object: 'toolhive' | 'upstream', parse: (bytes: Uint8Array, pointer: SnapshotPointer) => T | Promise<T>, options: ReadOptions = {}): Promise<{ pointer: SnapshotPointer; value: T } | null> {
    const cur = await this.current(ref, options);
    if (!cur) return null;
    const st = this.#state(ref);
    let load = st.files.get(name);
    if (!load || load.hash !== cur.pointer.hash) {
      const pointer = cur.pointer;
      const key = pointer.objects[object];
      const loading: FileLoad = { hash: pointer.hash, value: Promise.resolve(), held: () => 0 };
      const value = (async () => {
        const got = await this.store.get(key);
        if (got === null || got === 'not-modified') throw new RegistryError('not_found', `snapshot object ${object}.json is missing`, { where: { key } });
        const size = got.body.byteLength;
        loading.held = () => size * PARSED_FACTOR;
        const parsed = await parse(got.body, pointer);
        // a value that says what it holds (and may grow: indexes built on first use) is counted by it
        const own = parsed as { heldBytes?: unknown };
        if (typeof own.heldBytes === 'number') loading.held = () => own.heldBytes as number;
        this.#onHeld();
        return parsed;
      })();
      loading.value = value;
      load = loading;
      st.files.set(name, load);
      value.catch((e: unknown) => {
        if (st.files.get(name) === load) st.files.delete(name);
        this.#log.error('snapshot file load failed', { registry: `${ref.namespace}/${ref.name}`, file: object, error: toRegistryError(e).describe() });
      });
    }
    return { pointer: cur.pointer, value: (await load.value) as T };
  }

  /** Every registry with a pointer in the store (reused for `registryListTtlMs`). */
  async registries(): Promise<RegistryRef[]> {
    const list = this.#list;
    const age = list ? this.#now() - list.at : Infinity;
    if (list && age < this.#listTtl) return list.refs;
    const refreshing = (this.#listing ??= (async () => {
      try {
        const keys = await this.store.list('registries/');
        const refs: RegistryRef[] = [];
        for (const key of keys) {
          const m = POINTER_KEY.exec(key);
          if (m) refs.push({ namespace: m[1]!, name: m[2]! });
        }
        refs.sort((a, b) => (a.namespace === b.namespace ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.namespace < b.namespace ? -1 : 1));
        this.#list = { at: this.#now(), refs };
        return refs;
      } catch (e) {
        if (list) {
          this.#log.warn('snapshot store unreachable; serving the cached registry list', { error: toRegistryError(e).describe() });
          return list.refs;
        }
        throw toRegistryError(e, 'store_unavailable');
      } finally {
        this.#listing = undefined;
      }
    })());
    // within STALE_FACTOR × its TTL the list answers as it is while it is listed again (the
    // listing reads every key under registries/); dropped by a published event, it is waited for
    if (list && age < this.#listTtl * STALE_FACTOR) {
      refreshing.catch(() => undefined);
      return list.refs;
    }
    return refreshing;
  }
}
