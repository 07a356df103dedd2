import { RegistryError, toRegistryError } from '../errors.ts';
import { filterHash } from '../filter/hash.ts';
import { compileFilter } from '../filter/match.ts';
import { filterServerResponses, filterToolhiveRegistry } from '../filter/apply.ts';
import { createHash } from 'node:crypto';
import type { Problem } from '../formats/issues.ts';
import { DEFAULT_MAX_BYTES, decodeUtf8 } from '../formats/json-text.ts';
import { parseRegistryDocument, parseRegistryValue, type ParsedDocument } from '../formats/parse.ts';
import { convertPlanned, planToolhiveEntries, toolhiveHeader, type PlannedEntry } from '../formats/registry-conversion.ts';
import type { ToolhiveRegistry } from '../formats/toolhive-schema.ts';
import { OFFICIAL_META_KEY, type ServerResponse } from '../formats/upstream-schema.ts';
import type { MCPRegistrySpec } from '../kube/mcpregistry-spec.ts';
import { silentLogger, type Logger } from '../log.ts';
import { snapshotKey, type RegistryRef } from '../snapshots/layout.ts';
import type { SnapshotPointer } from '../snapshots/pointer.ts';
import { publishSnapshot } from '../snapshots/publish.ts';
import { CorruptPointerError, readPointer, type PointerRead } from '../snapshots/read.ts';
import { listSnapshots, pruneSnapshots } from '../snapshots/retention.ts';
import type { SnapshotStore } from '../snapshots/store.ts';
import { AggregateMemberError, membersOfState, servedSnapshot, type MemberState } from '../sources/aggregate.ts';
import { mergeIncremental } from '../sources/merge.ts';
import type { FetchResult, Source, SourceContext } from '../sources/types.ts';
import { JsonBytes, LazyEntries, sha256OfJsonArray } from './json-bytes.ts';
import { assignOfficialMeta, entryKeyOf, markLatest, sortEntries } from './official-meta.ts';

/**
 * The sync pipeline: fetch (or "unchanged") → detect format → validate → convert to both
 * formats → filter → hash → publish (objects first, pointer last) → prune.
 *
 * The result is a typed value, never a throw: `failed` carries the RegistryError naming the
 * cause, and in that case nothing the readers see has changed (the previous pointer and its
 * snapshot are untouched).
 */

export const DEFAULT_DEADLINE_MS = 5 * 60_000;
export const DEFAULT_KEEP_SNAPSHOTS = 3;

export interface SyncRequest {
  ref: RegistryRef;
  spec: MCPRegistrySpec;
  store: SnapshotStore;
  source: Source;
  /** what the source needs besides identity, signal and previous state */
  context: Pick<SourceContext, 'secrets' | 'policy' | 'kubeConfig'>;
  /** whole-sync deadline (default 5 min) */
  deadlineMs?: number;
  signal?: AbortSignal;
  /** fetch even when the source could answer "unchanged" (manual triggers) */
  force?: boolean;
  now?: () => Date;
  log?: Logger;
  keepSnapshots?: number;
  /** told each phase's duration (and the bytes the fetch returned): metrics and spans hang off it */
  onPhase?: (phase: SyncPhase, ms: number, detail?: { bytes?: number }) => void;
}

export type SyncPhase = 'fetch' | 'parse' | 'convert' | 'publish';

export interface SyncCounts {
  /** entries the source delivered (all versions) */
  fetched: number;
  valid: number;
  invalid: number;
  filteredOut: number;
  /** versions published */
  published: number;
  /** distinct server names published */
  servers: number;
}

export type FetchMode = 'full' | 'incremental' | 'unchanged' | 'refiltered';

export interface SyncResult {
  outcome: 'published' | 'unchanged' | 'failed';
  ref: RegistryRef;
  fetch?: FetchMode;
  counts: SyncCounts;
  hash?: string;
  revision?: string;
  format?: 'toolhive' | 'upstream';
  pointer?: SnapshotPointer;
  /** each invalid entry with its reason (lenient mode) */
  invalid: Problem[];
  /** objects written to the store (0 for an unchanged sync) */
  objectsWritten: number;
  durationMs: number;
  startedAt: string;
  error?: RegistryError;
  /** aggregate sources: each member as this sync saw it */
  members?: MemberState[];
}

/** ToolHive maps serialised entry by entry */
const TOOLHIVE_ENTRY_MAPS = ['servers', 'remote_servers'];

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const EMPTY_COUNTS: SyncCounts = { fetched: 0, valid: 0, invalid: 0, filteredOut: 0, published: 0, servers: 0 };
const decoder = new TextDecoder('utf-8', { fatal: true });

function rfc3339(d: Date): string {
  return d.toISOString();
}

/** What the pipeline works on once the source has been read, whatever the source type. */
interface SourceContent {
  format: 'toolhive' | 'upstream';
  /** the ToolHive registry as read (ToolHive sources), for a faithful toolhive.json */
  toolhive?: ToolhiveRegistry;
  /** every valid entry, upstream form */
  servers: ServerResponse[];
  invalid: Problem[];
  fetched: number;
  lastUpdated?: string;
  version?: string;
  /** size of the source content in bytes (0 when unknown): sizes the output buffers */
  sizeHint: number;
  /** bytes to store as source.json (only a filtered snapshot needs them), and how to read them back */
  stored: { bytes: () => Uint8Array; kind: 'document' | 'upstream-list'; file?: string };
}

export async function runSync(request: SyncRequest): Promise<SyncResult> {
  const now = request.now ?? (() => new Date());
  const log = request.log ?? silentLogger;
  const started = now();
  const t0 = performance.now();
  const deadline = AbortSignal.timeout(request.deadlineMs ?? DEFAULT_DEADLINE_MS);
  const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
  const base = { ref: request.ref, invalid: [] as Problem[], objectsWritten: 0, startedAt: rfc3339(started) };
  try {
    const result = await sync(request, signal, now, log);
    const members = request.spec.source.type === 'aggregate' ? membersOfState(result.pointer?.source?.state) : undefined;
    return { ...base, ...result, ...(members ? { members } : {}), durationMs: Math.round(performance.now() - t0) };
  } catch (e) {
    let error = toRegistryError(e, 'internal', { source: request.spec.source.type });
    if (deadline.aborted && (error.code === 'aborted' || error.code === 'source_timeout')) {
      error = new RegistryError('deadline_exceeded', `sync did not finish within ${request.deadlineMs ?? DEFAULT_DEADLINE_MS} ms`, {
        where: error.where,
        transient: true,
        cause: error,
      });
    }
    log.warn('sync failed', { registry: `${request.ref.namespace}/${request.ref.name}`, code: error.code, error: error.describe() });
    const members = error instanceof AggregateMemberError ? { members: error.members } : {};
    return { ...base, outcome: 'failed', counts: EMPTY_COUNTS, error, ...members, durationMs: Math.round(performance.now() - t0) };
  }
}

/** what sync() decides; runSync adds identity and timing */
type SyncBody = Omit<SyncResult, 'durationMs' | 'startedAt' | 'ref'>;

async function sync(req: SyncRequest, signal: AbortSignal, now: () => Date, log: Logger): Promise<SyncBody> {
  const { store, ref, spec } = req;
  // A corrupt pointer must not wedge the registry: rebuild from the source and replace it
  // (conditionally, on the corrupt object's own ETag).
  let current: PointerRead | null;
  let expectedEtag: string | null;
  try {
    current = await readPointer(store, ref);
    expectedEtag = current?.etag ?? null;
  } catch (e) {
    if (!(e instanceof CorruptPointerError)) throw e;
    log.warn('current pointer is unreadable; rebuilding it from the source', { registry: `${ref.namespace}/${ref.name}`, error: e.message });
    current = null;
    expectedEtag = e.etag;
  }
  const previous = current?.pointer;
  const filter = compileFilter(spec.filter);
  const fHash = filterHash(spec.filter);
  // what a pointer must say besides the content: an edit of these alone rewrites the pointer
  const display = { ...(spec.displayName !== undefined ? { displayName: spec.displayName } : {}), ...(spec.description !== undefined ? { description: spec.description } : {}) };
  const upToDate = (p: SnapshotPointer) => p.filterHash === fHash && p.displayName === display.displayName && p.description === display.description;
  // An aggregate re-reads its members (they are in the store already) rather than keeping a
  // copy of their union: it never stores source.json, and its snapshot is no source content.
  const aggregate = spec.source.type === 'aggregate';
  signal.throwIfAborted();

  const read = await fetchAndRead(req, current, upToDate, !filter.keepsAll && !aggregate, signal);
  if (read.unchanged) return read.unchanged;
  const { content, fetchMode, revision, sourceState } = read;

  const tConvert = performance.now();
  const syncedAt = rfc3339(now());
  // The unfiltered content's hash is taken as the source delivered it, before registry
  // timestamps are filled in: entries the filter drops have no previous timestamps to carry
  // forward, and their fresh ones must not make an unchanged source look changed.
  const sourceHash = filter.keepsAll || aggregate ? undefined : sha256OfJsonArray(content.servers);
  // an aggregate's timestamps are its own, set once it knows what it serves (below)
  const all = aggregate ? content.servers : await completeOfficialMeta(store, previous, content.servers, syncedAt);
  signal.throwIfAborted();

  const kept = filter.keepsAll ? all : filterServerResponses(all, filter);
  if (kept.length === 0 && !spec.allowEmpty) {
    const why =
      all.length === 0
        ? content.invalid.length > 0
          ? `the source has no valid entries (${content.invalid.length} invalid)`
          : 'the source has no entries'
        : `the filter removed all ${all.length} entries`;
    throw new RegistryError('empty_result', `${why}; refusing to publish an empty registry (set spec.allowEmpty to allow it)`, {
      where: { source: req.spec.source.type },
    });
  }
  let served = kept;
  let state = sourceState;
  if (aggregate) ({ entries: served, state } = await servedSnapshot(store, previous, kept, syncedAt, sourceState));
  signal.throwIfAborted();
  // after servedSnapshot, which sets an aggregate's own timestamps on the kept entries
  const { names, lastUpdated: newestUpdate } = namesAndNewest(kept);
  const counts: SyncCounts = {
    fetched: content.fetched,
    valid: all.length,
    invalid: content.invalid.length,
    filteredOut: all.length - kept.length,
    published: kept.length,
    servers: names,
  };

  // The content hash covers the bytes we publish, minus the registry's own last_updated.
  // Entry timestamps are carried forward (official-meta.ts), so unchanged content serialises
  // to the same bytes; hashing them is several times cheaper than a canonical re-walk.
  // Estimates only size the buffers: pages past what is written are never touched.
  const toolhiveOut = new JsonBytes(content.sizeHint + 65_536);
  toolhiveOut.object(toolhiveDocument(content, kept, filter, syncedAt, newestUpdate), { entryMaps: TOOLHIVE_ENTRY_MAPS, standIns: { last_updated: 'null' } });
  // Past this point only upstream.json needs the entries, and it lets go of each once written:
  // the parsed entries shrink as the bytes grow instead of both being held at their full size.
  const fromToolhive = content.toolhive !== undefined;
  content.servers = [];
  delete content.toolhive;
  if (all !== kept) all.length = 0;
  const upstreamOut = upstreamList(served, content.sizeHint * 1.25 + 65_536, true);
  // upstream.json has no stand-ins: its hash is that of its bytes, which the store can reuse
  const upstreamSha256 = upstreamOut.sha256();
  const hash = sha256([fHash, upstreamSha256, toolhiveOut.sha256(), sourceHash ?? ''].join('\n'));
  req.onPhase?.('convert', performance.now() - tConvert);
  signal.throwIfAborted();
  const tPublish = performance.now();

  if (previous && current && previous.hash === hash) {
    // Same content (timestamps aside): nothing new to serve. Record a new revision in the
    // pointer so the next sync can answer "unchanged" without fetching the body again.
    if (previous.revision === revision && upToDate(previous)) {
      return { outcome: 'unchanged', fetch: fetchMode, counts, hash, revision, format: content.format, pointer: previous, invalid: content.invalid, objectsWritten: 0 };
    }
  }

  // Where the unfiltered content lives. Without a filter the snapshot itself is it: toolhive.json
  // for a ToolHive source (full fidelity), upstream.json otherwise. With a filter, source.json
  // beside the snapshot holds the raw document (or the merged registry API list).
  let source: { key: string; kind: 'document' | 'upstream-list'; file?: string };
  let objectsWritten = 0;
  if (filter.keepsAll || aggregate) {
    source = fromToolhive
      ? { key: snapshotKey(ref, hash, 'toolhive.json'), kind: 'document', file: 'toolhive.json' }
      : { key: snapshotKey(ref, hash, 'upstream.json'), kind: 'upstream-list' };
  } else {
    source = { key: snapshotKey(ref, hash, 'source.json'), kind: content.stored.kind, ...(content.stored.file !== undefined ? { file: content.stored.file } : {}) };
    if (!(await store.exists(source.key))) {
      await store.put(source.key, content.stored.bytes(), { contentType: 'application/json' });
      objectsWritten++;
    }
  }
  signal.throwIfAborted();

  // what retention will list, listed while the files upload rather than after the pointer
  const listing = listSnapshots(store, ref);
  listing.catch(() => {}); // a failure is retention's to handle (it lists again)
  const published = await publishSnapshot(store, ref, {
    hash,
    files: { toolhive: toolhiveOut.bytes(), upstream: upstreamOut.bytes() },
    sha256: { upstream: upstreamSha256 },
    expectedPointerEtag: expectedEtag,
    // content-addressed objects can only exist already for a hash this registry has published
    mayExist: previous !== undefined && (previous.hash === hash || (previous.history ?? []).some((h) => h.hash === hash)),
    pointer: {
      revision,
      format: content.format,
      filterHash: fHash,
      ...display,
      syncedAt,
      counts: { servers: names, versions: counts.published, invalid: counts.invalid, filteredOut: counts.filteredOut },
      source: { hash: sourceHash ?? hash, ...source, ...(state !== undefined ? { state } : {}) },
    },
  });
  objectsWritten += published.objectsWritten + 1;
  if (published.objectsUnverified > 0) {
    log.warn('published, but reused snapshot objects could not be checked or rewritten', { registry: `${ref.namespace}/${ref.name}`, hash: hash.slice(0, 12), objects: published.objectsUnverified });
  }
  const samePublished = previous?.hash === hash;
  log.info(samePublished ? 'pointer refreshed' : 'snapshot published', {
    registry: `${ref.namespace}/${ref.name}`,
    hash: hash.slice(0, 12),
    versions: counts.published,
    servers: names,
    invalid: content.invalid.length,
  });

  try {
    await pruneSnapshots(store, ref, { keep: req.keepSnapshots ?? DEFAULT_KEEP_SNAPSHOTS, current: { pointer: published.pointer, etag: published.etag }, listing });
  } catch (e) {
    // retention is housekeeping: a failure here must not fail a published sync
    log.warn('pruning old snapshots failed', { registry: `${ref.namespace}/${ref.name}`, error: toRegistryError(e).message });
  }
  req.onPhase?.('publish', performance.now() - tPublish);

  return {
    outcome: samePublished ? 'unchanged' : 'published',
    fetch: fetchMode,
    counts,
    hash,
    revision,
    format: content.format,
    pointer: published.pointer,
    invalid: content.invalid,
    objectsWritten,
  };
}

/**
 * Fetch, then read what was fetched. A function of its own so that nothing keeps the fetched
 * bytes alive once they are parsed (unless a filtered snapshot stores them as source.json).
 */
async function fetchAndRead(
  req: SyncRequest,
  current: PointerRead | null,
  /** whether a pointer already says what the spec asks for (filter, display fields) */
  upToDate: (p: SnapshotPointer) => boolean,
  keepSource: boolean,
  signal: AbortSignal,
): Promise<{ unchanged: SyncBody } | { unchanged?: undefined; content: SourceContent; fetchMode: FetchMode; revision: string; sourceState: unknown }> {
  const { ref } = req;
  const previous = current?.pointer;
  // A source can only answer "unchanged" when we still hold what it is unchanged from (an
  // aggregate holds no copy of its members: it re-reads them for anything but an unchanged pointer).
  const canReuse = previous?.source !== undefined && (req.spec.source.type !== 'aggregate' || upToDate(previous));
  const tFetch = performance.now();
  const fetched = await req.source.fetch({
    ...req.context,
    ...(req.log ? { logger: req.log.child({ registry: `${ref.namespace}/${ref.name}` }) } : {}),
    store: req.store,
    allowPartial: req.spec.allowPartial,
    namespace: ref.namespace,
    registryName: ref.name,
    signal,
    previous: canReuse ? { revision: previous?.revision, state: previous?.source?.state } : undefined,
    force: req.force === true || !canReuse,
  });
  req.onPhase?.('fetch', performance.now() - tFetch, { bytes: fetchedBytes(fetched) });
  signal.throwIfAborted();

  if (fetched.kind === 'unchanged' && previous && upToDate(previous)) {
    return {
      unchanged: {
        outcome: 'unchanged',
        fetch: 'unchanged',
        counts: countsOf(previous),
        hash: previous.hash,
        revision: previous.revision ?? fetched.revision,
        format: previous.format,
        pointer: previous,
        invalid: [],
        objectsWritten: 0,
      },
    };
  }

  const tParse = performance.now();
  const content = await readContent(req, fetched, current, keepSource, signal);
  req.onPhase?.('parse', performance.now() - tParse);
  signal.throwIfAborted();
  return {
    content,
    fetchMode: fetched.kind === 'unchanged' ? 'refiltered' : fetched.kind === 'entries' ? fetched.mode : 'full',
    revision: fetched.revision,
    sourceState: fetched.kind === 'unchanged' ? previous?.source?.state : fetched.state,
  };
}

function fetchedBytes(f: FetchResult): number | undefined {
  if (f.kind === 'document') return f.bytes.length;
  if (f.kind === 'entries') return f.bytes;
  return undefined;
}

function countsOf(p: SnapshotPointer): SyncCounts {
  return {
    fetched: p.counts.versions + p.counts.filteredOut + p.counts.invalid,
    valid: p.counts.versions + p.counts.filteredOut,
    invalid: p.counts.invalid,
    filteredOut: p.counts.filteredOut,
    published: p.counts.versions,
    servers: p.counts.servers,
  };
}

/** distinct names of sorted entries, and the newest official `updatedAt` among them: one pass */
function namesAndNewest(sorted: readonly ServerResponse[]): { names: number; lastUpdated: string | undefined } {
  let n = 0;
  let last: string | undefined;
  let lastUpdated: string | undefined;
  for (const e of sorted) {
    if (e.server.name !== last) {
      n++;
      last = e.server.name;
    }
    const u = e._meta?.[OFFICIAL_META_KEY]?.updatedAt;
    if (u && (!lastUpdated || u > lastUpdated)) lastUpdated = u;
  }
  return { names: n, lastUpdated };
}

/**
 * The snapshot's toolhive.json: the source's own entries when it was ToolHive (full fidelity),
 * else the conversion of the upstream entries, whose entries are converted one at a time as
 * they are written (LazyEntries) rather than all held at once: the same document as
 * upstreamToToolhive's registry (same plan, same order).
 */
function toolhiveDocument(content: SourceContent, kept: readonly ServerResponse[], filter: ReturnType<typeof compileFilter>, syncedAt: string, newestUpdate: string | undefined): Record<string, unknown> {
  if (content.toolhive) {
    const filtered = filter.keepsAll ? content.toolhive : filterToolhiveRegistry(content.toolhive, filter);
    return (filtered.last_updated ? filtered : { ...filtered, last_updated: syncedAt }) as unknown as Record<string, unknown>;
  }
  // the source's own date, else the newest entry update (namesAndNewest)
  const lastUpdated = content.lastUpdated || newestUpdate;
  const plan = planToolhiveEntries(kept);
  const lazy = (entries: readonly PlannedEntry[]) =>
    new LazyEntries(
      entries.map((p) => p.key),
      (i) => convertPlanned(entries[i] as PlannedEntry).entry,
    );
  const doc: Record<string, unknown> = { ...toolhiveHeader({ version: content.version, lastUpdated: lastUpdated ?? syncedAt }), servers: lazy(plan.servers) };
  if (plan.remote_servers.length > 0) doc.remote_servers = lazy(plan.remote_servers);
  return doc;
}

async function readContent(req: SyncRequest, fetched: FetchResult, current: PointerRead | null, keepSource: boolean, signal: AbortSignal): Promise<SourceContent> {
  const { spec } = req;
  const mode = spec.validation;
  if (fetched.kind === 'document') {
    return fromDocument(takeBytes(fetched), { file: fetched.file, format: spec.format, mode, keepSource });
  }
  const previous = current?.pointer;
  if (fetched.kind === 'unchanged') {
    // only reached on a filter change: re-read what we stored instead of fetching again
    const stored = previous?.source;
    if (!stored) throw new RegistryError('internal', 'source answered unchanged but no source content is stored');
    const object = await req.store.get(stored.key);
    if (object === null || object === 'not-modified') {
      throw new RegistryError('not_found', 'the stored source content of the current snapshot is missing; the next sync fetches the source again', {
        where: { key: stored.key },
        transient: true,
      });
    }
    return stored.kind === 'document'
      ? fromDocument({ bytes: object.body }, { file: stored.file, format: spec.format, mode, keepSource })
      : fromDocument({ bytes: object.body }, { file: stored.key, format: 'upstream', mode, keepSource });
  }
  // registry API entries: validate each, then merge increments into what we hold
  const { valid, invalid } = fetched.validated ? { valid: fetched.entries as ServerResponse[], invalid: [] as Problem[] } : parseEntries(fetched.entries, mode);
  let servers = valid;
  let sizeHint = fetched.bytes ?? 0;
  if (fetched.mode === 'incremental') {
    const stored = previous?.source;
    if (!stored) throw new RegistryError('internal', 'incremental sync without stored source content');
    const base = await loadUpstreamEntries(req.store, stored.key);
    signal.throwIfAborted();
    servers = mergeIncremental(base.entries, valid).entries as ServerResponse[];
    sizeHint += base.bytes;
  }
  sortEntries(servers);
  markLatestWhereSourceFlagged(servers);
  return {
    format: 'upstream',
    servers,
    invalid,
    fetched: fetched.entries.length,
    sizeHint,
    // as received (before the official blocks are completed in place), and only when kept
    stored: { bytes: keepSource ? constant(upstreamList(servers, 0).bytes()) : sourceNotKept, kind: 'upstream-list' },
  };
}

/** the source's isLatest flags stand where they are consistent; markLatest repairs the rest */
function markLatestWhereSourceFlagged(sorted: ServerResponse[]): void {
  const needsOfficial = sorted.some((e) => e._meta?.[OFFICIAL_META_KEY] === undefined);
  if (!needsOfficial) markLatest(sorted);
}

/** A document's bytes, handed over: `fromDocument` takes them out so that they can be freed early. */
interface Held {
  bytes?: Uint8Array | undefined;
}

/** the bytes of a fetched document, taken out of the fetch result (which stays referenced meanwhile) */
function takeBytes(fetched: { bytes: Uint8Array }): Held {
  const held: Held = { bytes: fetched.bytes };
  (fetched as { bytes?: Uint8Array }).bytes = undefined;
  return held;
}

function fromDocument(
  held: Held,
  options: { file?: string | undefined; format?: 'toolhive' | 'upstream' | undefined; mode: 'strict' | 'lenient'; keepSource: boolean },
): SourceContent {
  let input: Uint8Array | string | undefined = held.bytes;
  if (input === undefined) throw new RegistryError('internal', 'document bytes already taken');
  held.bytes = undefined;
  const size = input.byteLength;
  const kept = options.keepSource ? input : undefined;
  // Unless source.json needs them, the bytes are decoded here and nothing refers to them while
  // JSON.parse builds the entries: for a 100 MB document that is 100 MB less at the peak. (Over
  // the size limit the parser refuses them as they are.)
  if (!options.keepSource && size <= DEFAULT_MAX_BYTES) input = decodeUtf8(input, options.file);
  const parsed: ParsedDocument = parseRegistryDocument(input, { file: options.file, format: options.format, mode: options.mode });
  const fetchedCount = parsed.servers.length + parsed.invalid.length;
  const content: SourceContent = {
    format: parsed.format,
    servers: parsed.servers,
    invalid: parsed.invalid,
    fetched: fetchedCount,
    sizeHint: size,
    stored: { bytes: kept ? () => kept : sourceNotKept, kind: 'document', ...(options.file !== undefined ? { file: options.file } : {}) },
  };
  if (parsed.toolhive) content.toolhive = parsed.toolhive;
  if (parsed.lastUpdated) content.lastUpdated = parsed.lastUpdated;
  if (parsed.version) content.version = parsed.version;
  return content;
}

function constant<T>(value: T): () => T {
  return () => value;
}

function sourceNotKept(): never {
  throw new RegistryError('internal', 'the source content was not kept for source.json');
}

/** `{"servers":[…],"metadata":{"count":N}}`, the upstream list envelope; `release` empties `entries` as it goes */
function upstreamList(entries: (ServerResponse | undefined)[], estimate: number, release = false): JsonBytes {
  const out = new JsonBytes(estimate);
  const count = entries.length;
  out.text('{"servers":');
  out.array(entries, release);
  out.text(`,"metadata":{"count":${count}}}`);
  return out;
}

/**
 * Completes `_meta[official]` of the entries in place; timestamps carry forward from the
 * previous snapshot's entries, read only when some entry lacks them (document sources; registry
 * API rows bring their own) and let go of on return.
 */
async function completeOfficialMeta(store: SnapshotStore, previous: SnapshotPointer | undefined, entries: ServerResponse[], now: string): Promise<ServerResponse[]> {
  const needsPrevious = previous !== undefined && entries.some((e) => !e._meta?.[OFFICIAL_META_KEY]?.publishedAt);
  const previousEntries = needsPrevious ? (await loadUpstreamEntries(store, previous.objects.upstream)).entries : undefined;
  const previousByKey = previousEntries ? new Map(previousEntries.map((e) => [entryKeyOf(e), e] as const)) : undefined;
  // the entries are ours (freshly parsed): completed in place rather than copied
  return assignOfficialMeta(entries, { previous: previousByKey, now, inPlace: true });
}

function parseEntries(entries: readonly unknown[], mode: 'strict' | 'lenient'): { valid: ServerResponse[]; invalid: Problem[] } {
  // The registry source hands over API rows; they go through the same validation as a document.
  const parsed = parseRegistryValue({ servers: entries, metadata: { count: entries.length } }, { file: 'registry API', format: 'upstream', mode });
  return { valid: parsed.servers, invalid: parsed.invalid };
}

async function loadUpstreamEntries(store: SnapshotStore, key: string): Promise<{ entries: ServerResponse[]; bytes: number }> {
  const object = await store.get(key);
  if (object === null || object === 'not-modified') return { entries: [], bytes: 0 };
  const text = decoder.decode(object.body);
  const doc = JSON.parse(text) as { servers?: ServerResponse[] };
  return { entries: Array.isArray(doc.servers) ? doc.servers : [], bytes: object.body.byteLength };
}
