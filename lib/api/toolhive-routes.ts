import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { readExtension } from '../formats/toolhive-extension.ts';
import { assignToolhiveKeys } from '../formats/names.ts';
import type { ServerJson } from '../formats/upstream-schema.ts';
import type { RegistryRef } from '../snapshots/layout.ts';
import type { SnapshotPointer } from '../snapshots/pointer.ts';
import type { ReadOptions } from './snapshot-cache.ts';
import type { Caller } from './auth.ts';
import { answer, authenticate, authorize, dataReply, isReply, problemReply, readable, registryKey, registryNotFound, type Ctx, type Reply } from './context.ts';
import type { Entry } from './entry.ts';
import { PreparedResponse, chooseEncoding, compressedAnswer, mapSliced, prepareResponse, rememberLargeAnswer } from './prepared.ts';
import { problem } from './problem.ts';
import { loadEach, type RegistryFailure } from './registry-failures.ts';
import type { Route } from './router.ts';
import { parseRegistryRef } from './router.ts';
import { categoriesOf, matchesFilter, parseServerFilter, answersTo, type Facets, type ServerFilter, type ToolhiveIndex } from './toolhive-view.ts';
import { facetIndexOf, filterServers } from './server-search.ts';
import type { SubstringIndex } from './substring-index.ts';
import { MORE, type Answer } from './upstream-query.ts';
import type { UpstreamView } from './upstream-view.ts';
import type { SearchHit, ServerSearchIndex } from '../search/server-index.ts';
import { listServersPage, parsePageParams } from './toolhive-pages.ts';
import { indexToolhiveBytesInSteps, toolhiveItemBytes, writeToolhiveItems, type ItemGroup, type ToolhiveBytesIndex } from './toolhive-bytes.ts';

/**
 * The ToolHive-format API (`/api/v1/…`) across every registry the caller may read. Loaded on
 * first use (it is not on the upstream hot path). `?format=upstream` or
 * `Accept: application/json; format=upstream` switches server bodies to the upstream shapes.
 */

type ToolhiveRoute = Extract<Route, { kind: 'th-registries' | 'th-registry' | 'th-servers' | 'th-server' }>;
type Format = 'toolhive' | 'upstream';

/** a short key for the response cache from the (registry, snapshot) parts a listing was built from */
export function listingDigest(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join(',')).digest('base64url');
}

/** reads of a listing across registries: a pointer past its TTL serves while it is revalidated (snapshot-cache.ts) */
export const ACROSS: ReadOptions = { stale: true };

/** the extra key in a response-level `_meta` naming the registry an entry comes from */
export const SOURCE_META = 'io.toolhive.registry/source';

function formatOf(query: URLSearchParams, headers: IncomingHttpHeaders): Format | Reply {
  const f = query.get('format');
  if (f !== null) {
    if (f === 'upstream' || f === 'toolhive') return f;
    return problemReply(problem(400, `format must be toolhive or upstream, got ${JSON.stringify(f)}`, { errors: [{ message: 'expected toolhive or upstream', location: 'query.format', value: f }] }));
  }
  const accept = headers.accept;
  if (accept && /;\s*format\s*=\s*"?upstream"?/i.test(accept)) return 'upstream';
  return 'toolhive';
}

export function registryInfo(pointer: SnapshotPointer): Record<string, unknown> {
  return {
    name: pointer.name,
    namespace: pointer.namespace,
    ...(pointer.displayName !== undefined ? { displayName: pointer.displayName } : {}),
    ...(pointer.description !== undefined ? { description: pointer.description } : {}),
    format: pointer.format,
    serverCount: pointer.counts.servers,
    versionCount: pointer.counts.versions,
    lastSyncTime: pointer.syncedAt,
    snapshot: { hash: pointer.hash, ...(pointer.revision ? { revision: pointer.revision } : {}) },
    upstreamApi: `/registries/${pointer.namespace}/${pointer.name}/v0.1`,
  };
}

/**
 * ToolHive index of a registry's toolhive.json, served from the document's bytes
 * (toolhive-bytes.ts: an entry is parsed only when its object is asked for)
 */
export interface ToolhiveLoaded {
  index: ToolhiveIndex;
  /** what the index and the indexes built from it hold (the memory budget counts it) */
  readonly heldBytes: number;
  /** the full-text index of the servers (search-route.ts), built on the first search */
  search?: Promise<ServerSearchIndex>;
  /** ranked hits of recent searches by query and filters, so that paging does not search again */
  searched?: Map<string, SearchHit[]>;
}

export function loadToolhive(ctx: Ctx, ref: RegistryRef, options: ReadOptions = {}) {
  return ctx.cache.file<ToolhiveLoaded>(ref, 'toolhive-index', 'toolhive', async (bytes) => toolhiveLoaded(await indexToolhiveBytesInSteps(bytes)), options);
}

function toolhiveLoaded(index: ToolhiveBytesIndex): ToolhiveLoaded {
  return {
    index,
    get heldBytes() {
      return index.heldBytes + (indexBytes.get(index.servers) ?? 0);
    },
  };
}

/** bytes of the substring index built for a server list (server-search.ts keeps the index) */
const indexBytes = new WeakMap<readonly unknown[], number>();

/** the substring index of a registry's ToolHive servers for `search=` (undefined while it is built: scan), counted in its heldBytes */
export function toolhiveFacetIndex(t: ToolhiveLoaded): SubstringIndex | undefined {
  const servers = t.index.servers;
  return facetIndexOf(servers, (bytes) => indexBytes.set(servers, bytes));
}

/** the latest visible version of each server of an upstream snapshot, with facets */
export interface LatestUpstream {
  servers: Array<{ entry: Entry; facets: Facets; key: string; item?: Buffer }>;
  /** the view it was derived from (its heldBytes counts what this holds) */
  view: UpstreamView;
}

const latestCache = new WeakMap<UpstreamView, LatestUpstream>();

function upstreamFacets(server: ServerJson, key: string): Facets {
  const ext = readExtension(server, undefined) ?? {};
  const names = [server.name.toLowerCase()];
  if (key.toLowerCase() !== names[0]) names.push(key.toLowerCase());
  const transports = new Set<string>();
  for (const p of server.packages ?? []) if (typeof p.transport?.type === 'string') transports.add(p.transport.type.toLowerCase());
  for (const r of server.remotes ?? []) if (typeof r.type === 'string') transports.add(r.type.toLowerCase());
  const tags = Array.isArray(ext.tags) ? ext.tags.filter((t): t is string => typeof t === 'string').map((t) => t.toLowerCase()) : [];
  return {
    names,
    ...(typeof ext.tier === 'string' ? { tier: ext.tier.toLowerCase() } : {}),
    ...(typeof ext.status === 'string' ? { status: ext.status.toLowerCase() } : {}),
    transports: [...transports],
    tags,
    categories: categoriesOf(ext).map((c) => c.toLowerCase()),
    text: `${server.title ?? ''}\n${server.description ?? ''}`.toLowerCase(),
  };
}

function latestOf(view: UpstreamView): Answer<LatestUpstream> {
  if (!view.complete) return MORE;
  let latest = latestCache.get(view);
  if (!latest) {
    const picked: Entry[] = [];
    for (let i = 0; i < view.length; i++) if (view.isLatest(i) && view.status(i) !== 'deleted' && view.valid(i)) picked.push(view.entry(i));
    const keys = assignToolhiveKeys(picked.map((e) => e.name));
    latest = {
      servers: picked.map((entry) => {
        const parsed = JSON.parse(Buffer.from(entry.bytes).toString('utf8')) as { server: ServerJson };
        const key = keys.get(entry.name) ?? entry.name;
        const facets = upstreamFacets(parsed.server, key);
        // the facets' strings and the server's object, for the memory budget
        view.derivedBytes += 2 * (facets.text.length + facets.names.join('').length + facets.tags.join('').length) + 200;
        return { entry, key, facets };
      }),
      view,
    };
    latestCache.set(view, latest);
  }
  return latest;
}

export function upstreamItem(server: LatestUpstream['servers'][number], ref: RegistryRef, latest: LatestUpstream): Buffer {
  if (!server.item) {
    const value = JSON.parse(Buffer.from(server.entry.bytes).toString('utf8')) as { server: unknown; _meta: Record<string, unknown> };
    value._meta = { ...value._meta, [SOURCE_META]: { namespace: ref.namespace, name: ref.name } };
    server.item = Buffer.from(JSON.stringify(value));
    latest.view.derivedBytes += server.item.byteLength;
  }
  return server.item;
}

export async function latestUpstream(ctx: Ctx, ref: RegistryRef, options: ReadOptions = {}): Promise<{ pointer: SnapshotPointer; latest: LatestUpstream } | null> {
  const loaded = await ctx.cache.upstream(ref, options);
  if (!loaded) return null;
  const { value } = await answer(ctx, ref, loaded, latestOf);
  return { pointer: loaded.pointer, latest: value };
}

function joinItems(open: string, items: readonly Buffer[], close: string): Buffer {
  const parts: Buffer[] = [Buffer.from(open)];
  items.forEach((b, i) => {
    if (i > 0) parts.push(Buffer.from(','));
    parts.push(b);
  });
  parts.push(Buffer.from(close));
  return Buffer.concat(parts);
}

function isUnfiltered(f: ServerFilter): boolean {
  return !f.categories && !f.transports && !f.tiers && !f.tags && !f.statuses && f.search === undefined;
}

/** the registries a server listing covers: the `registry` filter (each must be readable) or all readable */
export async function targetRegistries(ctx: Ctx, caller: Caller, filter: ServerFilter): Promise<RegistryRef[] | Reply> {
  if (filter.registries) {
    const refs = [...filter.registries].map((r) => parseRegistryRef(r)!);
    for (const ref of refs) {
      const denied = await authorize(ctx, caller, ref);
      if (denied) return denied;
    }
    return refs;
  }
  return readable(ctx, caller, await ctx.cache.registries());
}

export async function toolhiveRoute(ctx: Ctx, route: ToolhiveRoute, rawQuery: string, headers: IncomingHttpHeaders): Promise<Reply> {
  const caller = await authenticate(ctx, headers);
  if (isReply(caller)) return caller;
  const query = new URLSearchParams(rawQuery);

  switch (route.kind) {
    case 'th-registries': {
      const refs = await readable(ctx, caller, await ctx.cache.registries());
      // the fast path: every pointer in hand (no I/O, no promise per registry) and the answer kept
      const known = refs.map((ref) => ctx.cache.currentForListing(ref));
      if (known.every((p) => p !== undefined)) {
        const kept = ctx.responses.get(`*|R|${listingDigest(known.map((p, i) => `${registryKey(refs[i]!)}@${p!.hash}@${p!.syncedAt}`))}`);
        if (kept) return dataReply(ctx, kept);
      }
      const { loaded, failures } = await loadEach(refs, (ref) => ctx.cache.current(ref, ACROSS), 'pointer', ctx);
      // a pure function of the pointers: kept under a digest of them (a thousand registries' answer is built once per change)
      const key = failures.length === 0 ? `*|R|${listingDigest(loaded.map(({ ref, data }) => `${registryKey(ref)}@${data.pointer.hash}@${data.pointer.syncedAt}`))}` : undefined;
      const hit = key ? ctx.responses.get(key) : undefined;
      if (hit) return dataReply(ctx, hit);
      const infos = loaded.map(({ data }) => registryInfo(data.pointer));
      const response = new PreparedResponse(200, 'application/json', Buffer.from(JSON.stringify({ registries: infos, ...(failures.length ? { errors: failures } : {}) })));
      if (key) ctx.responses.set(key, response);
      return partialReply(ctx, response, failures);
    }
    case 'th-registry': {
      const denied = await authorize(ctx, caller, route.registry);
      if (denied) return denied;
      const cur = await ctx.cache.current(route.registry);
      if (!cur) return registryNotFound();
      return dataReply(ctx, new PreparedResponse(200, 'application/json', Buffer.from(JSON.stringify(registryInfo(cur.pointer)))));
    }
    case 'th-servers':
    case 'th-server': {
      const format = formatOf(query, headers);
      if (isReply(format)) return format;
      const parsed = parseServerFilter(query);
      if (!parsed.ok) return problemReply(parsed.problem);
      const filter = parsed.value;
      const page = route.kind === 'th-servers' ? parsePageParams(query) : undefined;
      if (page && !page.ok) return problemReply(page.problem);
      const refs = await targetRegistries(ctx, caller, filter);
      if (isReply(refs)) return refs;
      if (page?.value) return listServersPage(ctx, refs, filter, format, page.value);
      return route.kind === 'th-servers' ? listServers(ctx, refs, filter, format, headers) : oneServer(ctx, refs, route.name, format, filter.registries !== undefined);
    }
  }
}

async function listServers(ctx: Ctx, refs: RegistryRef[], filter: ServerFilter, format: Format, headers: IncomingHttpHeaders): Promise<Reply> {
  const parts: Buffer[] = [];
  let total = 0;
  const hashes: string[] = [];
  const filterKey = JSON.stringify([filter.categories, filter.transports, filter.tiers, filter.tags, filter.statuses, filter.search].map((s) => (s instanceof Set ? [...s].sort() : (s ?? null))));
  // the listing is a pure function of the snapshots involved and the filter
  const { loaded: loadedAll, failures } = await loadEach<{ pointer: SnapshotPointer }>(refs, (ref) => (format === 'toolhive' ? loadToolhive(ctx, ref, ACROSS) : latestUpstream(ctx, ref, ACROSS)), format, ctx);
  for (const { ref, data } of loadedAll) hashes.push(`${registryKey(ref)}@${data.pointer.hash}`);
  const cacheKey = `*|S|${format}|${filterKey}|${hashes.join(',')}`;
  const hit = failures.length === 0 ? ctx.responses.get(cacheKey) : undefined;
  if (hit) return dataReply(ctx, hit, 'Accept');
  // a large listing (too large for the response cache) already compressed for this snapshot
  const packed = failures.length === 0 ? compressedAnswer(cacheKey, chooseEncoding(headers['accept-encoding'])) : undefined;
  if (packed) return dataReply(ctx, packed, 'Accept');

  const groups: ItemGroup[] = [];
  for (const { ref, data } of loadedAll) {
    if (!data) continue;
    if (format === 'toolhive') {
      const t = (data as unknown as { value: ToolhiveLoaded }).value;
      const matching = isUnfiltered(filter) ? t.index.servers : filterServers(t.index.servers, filter, () => toolhiveFacetIndex(t));
      if (matching.length === 0) continue;
      groups.push({ servers: matching, registry: registryKey(ref) });
      total += matching.length;
    } else {
      const latest = (data as unknown as { latest: LatestUpstream }).latest;
      const matching = isUnfiltered(filter) ? latest.servers : filterServers(latest.servers, filter, () => facetIndexOf(latest.servers, (bytes) => (latest.view.derivedBytes += bytes)));
      for (const item of await mapSliced(matching, (s) => upstreamItem(s, ref, latest))) parts.push(item);
      total += matching.length;
    }
  }
  const errors = failures.length ? `,"errors":${JSON.stringify(failures)}` : '';
  // ToolHive items are copied from the documents' bytes into the body (toolhive-bytes.ts)
  const body = format === 'toolhive' ? await writeToolhiveItems(groups, '{"servers":[', `],"total":${total}${errors}}`) : joinItems('{"servers":[', parts, `],"metadata":{"count":${total}}${errors}}`);
  const response = await prepareResponse(200, 'application/json', body);
  if (failures.length > 0) return partialReply(ctx, response, failures, 'Accept');
  if (!ctx.responses.set(cacheKey, response)) rememberLargeAnswer(cacheKey, response);
  return dataReply(ctx, response, 'Accept');
}

/** an answer that leaves out broken registries: never cached, by us or anyone in between */
export function partialReply(ctx: Ctx, response: PreparedResponse, failures: RegistryFailure[], vary?: string): Reply {
  const reply = dataReply(ctx, response, vary);
  return failures.length > 0 ? { ...reply, cacheControl: 'no-store' } : reply;
}

/** the header naming registries left out of a single-server answer (its body is the server itself) */
export const BROKEN_HEADER = 'mcpreg-broken-registries';

function withFailures(reply: Reply, failures: RegistryFailure[]): Reply {
  if (failures.length === 0) return reply;
  return { ...reply, cacheControl: 'no-store', headers: { ...reply.headers, [BROKEN_HEADER]: failures.map((f) => `${f.registry} ${f.code}`).join(', ') } };
}

async function oneServer(ctx: Ctx, refs: RegistryRef[], name: string, format: Format, explicit: boolean): Promise<Reply> {
  const found: Array<{ ref: RegistryRef; body: Buffer }> = [];
  // one registry whose snapshot cannot be read leaves the others answering (registry-failures.ts)
  const { loaded, failures } = await loadEach<{ pointer: SnapshotPointer }>(refs, (ref) => (format === 'toolhive' ? loadToolhive(ctx, ref, ACROSS) : latestUpstream(ctx, ref, ACROSS)), format, ctx);
  const broken = failures.length ? { brokenRegistries: failures } : {};
  for (const { ref, data } of loaded) {
    if (format === 'toolhive') {
      const t = (data as unknown as { value: ToolhiveLoaded }).value;
      for (const s of t.index.servers) if (answersTo(s, name)) found.push({ ref, body: toolhiveItemBytes(s, registryKey(ref)) });
    } else {
      const latest = (data as unknown as { latest: LatestUpstream }).latest;
      for (const s of latest.servers) if (s.entry.name === name || s.key === name) found.push({ ref, body: upstreamItem(s, ref, latest) });
    }
  }
  if (explicit && loaded.length === 0) {
    if (failures.length > 0) return withFailures(problemReply(problem(500, `${failures.map((f) => f.registry).join(', ')}: ${failures[0]!.message}`, broken)), failures);
    return registryNotFound();
  }
  if (found.length === 0) return withFailures(problemReply(problem(404, 'Server not found', broken)), failures);
  if (found.length > 1) {
    const candidates = [...new Set(found.map((f) => registryKey(f.ref)))];
    if (candidates.length > 1) {
      return withFailures(problemReply(problem(409, `Server ${JSON.stringify(name)} exists in several registries; choose one with ?registry=namespace/name`, { candidates, ...broken })), failures);
    }
    return withFailures(problemReply(problem(409, `Several servers of ${candidates[0]} answer to ${JSON.stringify(name)}`, { candidates, ...broken })), failures);
  }
  return withFailures(dataReply(ctx, new PreparedResponse(200, 'application/json', found[0]!.body), 'Accept'), failures);
}
