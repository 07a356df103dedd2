import type { IncomingHttpHeaders } from 'node:http';
import { toolhiveSearchDocument } from '../search/documents.ts';
import { ServerSearchIndex, type SearchField, type SearchHit } from '../search/server-index.ts';
import type { RegistryRef } from '../snapshots/layout.ts';
import { authenticate, dataReply, isReply, problemReply, registryKey, type Ctx, type Reply } from './context.ts';
import { PreparedResponse } from './prepared.ts';
import { problem, type ProblemError } from './problem.ts';
import { loadEach } from './registry-failures.ts';
import { loadToolhive, partialReply, targetRegistries, type ToolhiveLoaded } from './toolhive-routes.ts';
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
  const raw = query.get('q') ?? '';
  const q = raw.trim();
  if (q === '') errors.push({ message: 'required: the words to search for', location: 'query.q', value: raw });
  // characters as /openapi.json's maxLength counts them: code points of the value as given
  else if ([...raw].length > MAX_QUERY_LENGTH) errors.push({ message: `at most ${MAX_QUERY_LENGTH} characters`, location: 'query.q', value: q.slice(0, 40) });
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

/** ranked hits kept per registry snapshot (their count, summed over the queries kept) */
const MAX_KEPT_HITS = 50_000;

function rankedHits(loaded: ToolhiveLoaded, index: ServerSearchIndex, q: string, filter: ServerFilter, filterKey: string): SearchHit[] {
  const key = `${q}\u0000${filterKey}`;
  const kept = (loaded.searched ??= new Map());
  const hit = kept.get(key);
  if (hit) {
    kept.delete(key);
    kept.set(key, hit);
    return hit;
  }
  const servers = loaded.index.servers;
  const hits = index.search(q, { filter: (id) => matchesFilter(servers[id]!.facets, filter) });
  kept.set(key, hits);
  let total = 0;
  for (const h of kept.values()) total += h.length;
  for (const [k, h] of kept) {
    if (total <= MAX_KEPT_HITS || kept.size === 1) break;
    kept.delete(k);
    total -= h.length;
  }
  return hits;
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

  // one registry whose snapshot cannot be read leaves the others searchable (registry-failures.ts)
  const { loaded: loadedAll, failures } = await loadEach(refs, (ref) => loadToolhive(ctx, ref), 'toolhive', ctx);
  const hashes = loadedAll.flatMap(({ ref, data }) => (data ? [`${registryKey(ref)}@${data.pointer.hash}`] : []));
  const filterKey = JSON.stringify([filter.categories, filter.transports, filter.tiers, filter.tags, filter.statuses].map((s) => (s ? [...s].sort() : null)));
  // a pure function of the query, the filters, the page and the snapshots involved
  const cacheKey = `*|Q|${JSON.stringify([q, limit, offset])}|${filterKey}|${hashes.join(',')}`;
  const hit = failures.length === 0 ? ctx.responses.get(cacheKey) : undefined;
  if (hit) return dataReply(ctx, hit);

  // each registry's hits are ranked (score, then key); merged: score, then registry, then key
  const lists: { registry: string; loaded: ToolhiveLoaded; hits: SearchHit[] }[] = [];
  for (const { ref, data } of loadedAll) {
    if (!data) continue;
    const loaded = data.value;
    const index = await searchIndexOf(loaded);
    const hits = rankedHits(loaded, index, q, filter, filterKey);
    if (hits.length > 0) lists.push({ registry: registryKey(ref), loaded, hits });
  }
  lists.sort((a, b) => (a.registry < b.registry ? -1 : a.registry > b.registry ? 1 : 0));
  const total = lists.reduce((n, l) => n + l.hits.length, 0);
  const page: { list: (typeof lists)[number]; hit: SearchHit }[] = [];
  const next = lists.map(() => 0);
  for (let taken = 0; taken < offset + limit && taken < total; taken++) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const h = lists[i]!.hits[next[i]!];
      if (h && (best < 0 || h.score > lists[best]!.hits[next[best]!]!.score)) best = i;
    }
    const hit = lists[best]!.hits[next[best]!++]!;
    if (taken >= offset) page.push({ list: lists[best]!, hit });
  }
  const results = page.map(({ list, hit }) => {
    const server = list.loaded.index.servers[hit.id]!;
    return { registry: list.registry, name: server.key, score: round(hit.score), ...(hit.exactName ? { exactName: true } : {}), matches: hit.matches, server: toolhiveItem(server, list.registry) };
  });
  const body = { query: q, results, total, offset, limit, ...(offset + limit < total ? { nextOffset: offset + limit } : {}), ...(failures.length ? { errors: failures } : {}) };
  const response = new PreparedResponse(200, 'application/json', Buffer.from(JSON.stringify(body)));
  if (failures.length > 0) return partialReply(ctx, response, failures);
  ctx.responses.set(cacheKey, response);
  return dataReply(ctx, response);
}
