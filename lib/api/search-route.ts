import type { IncomingHttpHeaders } from 'node:http';
import { toolhiveSearchDocument } from '../search/documents.ts';
import { ServerSearchIndex, type SearchField } from '../search/server-index.ts';
import type { RegistryRef } from '../snapshots/layout.ts';
import { authenticate, dataReply, isReply, problemReply, registryKey, type Ctx, type Reply } from './context.ts';
import { PreparedResponse } from './prepared.ts';
import { problem, type ProblemError } from './problem.ts';
import { loadToolhive, targetRegistries, type ToolhiveLoaded } from './toolhive-routes.ts';
import { matchesFilter, parseServerFilter, toolhiveItem, type ServerFilter } from './toolhive-view.ts';

/**
 * `GET /api/v1/search?q=…`: relevance-ranked full-text search over the latest servers of
 * every registry the caller may read (lib/search/ says how it ranks). The filters of
 * `/api/v1/servers` apply (`registry`, `category`, `transport`, `tier`, `tag`, `status`);
 * `limit` (1–100, default 20) and `offset` page through the ranked hits. Each hit names its
 * registry, its score and what matched. The index of a registry is built from its
 * toolhive.json on the first search of that snapshot (in chunks, without blocking other
 * requests) and kept with the snapshot's other parsed data.
 */

export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 100;
export const MAX_SEARCH_OFFSET = 10_000;
export const MAX_QUERY_LENGTH = 256;

interface SearchParams {
  q: string;
  limit: number;
  offset: number;
  filter: ServerFilter;
}

function integer(query: URLSearchParams, name: string, min: number, max: number, fallback: number, errors: ProblemError[]): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    errors.push({ message: `expected an integer from ${min} to ${max}`, location: `query.${name}`, value: raw });
    return fallback;
  }
  return n;
}

function parseSearch(query: URLSearchParams): SearchParams | Reply {
  const errors: ProblemError[] = [];
  const q = (query.get('q') ?? '').trim();
  if (q === '') errors.push({ message: 'required: the words to search for', location: 'query.q', value: query.get('q') ?? '' });
  else if (q.length > MAX_QUERY_LENGTH) errors.push({ message: `at most ${MAX_QUERY_LENGTH} characters`, location: 'query.q', value: q.slice(0, 40) });
  const limit = integer(query, 'limit', 1, MAX_SEARCH_LIMIT, DEFAULT_SEARCH_LIMIT, errors);
  const offset = integer(query, 'offset', 0, MAX_SEARCH_OFFSET, 0, errors);
  if (errors.length > 0) return problemReply(problem(400, `Bad request: ${errors.map((e) => `${e.location} ${e.message}`).join('; ')}`, { errors }));
  const parsed = parseServerFilter(query);
  if (!parsed.ok) return problemReply(parsed.problem);
  // `search` (substring) belongs to /api/v1/servers; here `q` is the query
  const { search: _search, ...filter } = parsed.value;
  return { q, limit, offset, filter };
}

function searchIndexOf(loaded: ToolhiveLoaded): Promise<ServerSearchIndex> {
  if (!loaded.search) {
    const docs = loaded.index.servers.map((s, i) => toolhiveSearchDocument(i, s.key, s.entry));
    const building = ServerSearchIndex.build(docs);
    building.catch(() => {
      if (loaded.search === building) delete loaded.search;
    });
    loaded.search = building;
  }
  return loaded.search;
}

interface Hit {
  ref: RegistryRef;
  loaded: ToolhiveLoaded;
  id: number;
  score: number;
  exactName: boolean;
  matches: Record<string, SearchField[]>;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export async function searchRoute(ctx: Ctx, rawQuery: string, headers: IncomingHttpHeaders): Promise<Reply> {
  const caller = await authenticate(ctx, headers);
  if (isReply(caller)) return caller;
  const params = parseSearch(new URLSearchParams(rawQuery));
  if (isReply(params)) return params;
  const { q, limit, offset, filter } = params;
  const refs = await targetRegistries(ctx, caller, filter);
  if (isReply(refs)) return refs;

  const loadedAll = await Promise.all(refs.map(async (ref) => ({ ref, data: await loadToolhive(ctx, ref) })));
  const hashes = loadedAll.flatMap(({ ref, data }) => (data ? [`${registryKey(ref)}@${data.pointer.hash}`] : []));
  const filterKey = JSON.stringify([filter.categories, filter.transports, filter.tiers, filter.tags, filter.statuses].map((s) => (s ? [...s].sort() : null)));
  // a pure function of the query, the filters, the page and the snapshots involved
  const cacheKey = `*|Q|${JSON.stringify([q, limit, offset])}|${filterKey}|${hashes.join(',')}`;
  const hit = ctx.responses.get(cacheKey);
  if (hit) return dataReply(ctx, hit);

  const hits: Hit[] = [];
  for (const { ref, data } of loadedAll) {
    if (!data) continue;
    const loaded = data.value;
    const servers = loaded.index.servers;
    const index = await searchIndexOf(loaded);
    for (const h of index.search(q, { filter: (id) => matchesFilter(servers[id]!.facets, filter) })) hits.push({ ref, loaded, ...h });
  }
  const keyOf = (h: Hit) => h.loaded.index.servers[h.id]!.key;
  hits.sort((a, b) => b.score - a.score || registryKey(a.ref).localeCompare(registryKey(b.ref)) || keyOf(a).localeCompare(keyOf(b)));
  const results = hits.slice(offset, offset + limit).map((h) => {
    const server = h.loaded.index.servers[h.id]!;
    const registry = registryKey(h.ref);
    return { registry, name: server.key, score: round(h.score), ...(h.exactName ? { exactName: true } : {}), matches: h.matches, server: toolhiveItem(server, registry) };
  });
  const body = { query: q, results, total: hits.length, offset, limit, ...(offset + limit < hits.length ? { nextOffset: offset + limit } : {}) };
  const response = new PreparedResponse(200, 'application/json', Buffer.from(JSON.stringify(body)));
  ctx.responses.set(cacheKey, response);
  return dataReply(ctx, response);
}
