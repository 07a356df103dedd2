import type { RegistryRef } from '../snapshots/layout.ts';
import type { SnapshotPointer } from '../snapshots/pointer.ts';
import { dataReply, registryKey, type Ctx, type Reply } from './context.ts';
import { PreparedResponse, tagOfKey } from './prepared.ts';
import { fail, ok, problem, type Outcome } from './problem.ts';
import { loadEach, type RegistryFailure } from './registry-failures.ts';
import { ACROSS, latestUpstream, listingDigest, loadToolhive, partialReply, toolhiveFacetIndex, upstreamItem, type LatestUpstream, type ToolhiveLoaded } from './toolhive-routes.ts';
import { matchesFilter, type Facets, type ServerFilter } from './toolhive-view.ts';
import { facetIndexOf, positionAfter, searchServers } from './server-search.ts';
import { toolhiveItemBytes } from './toolhive-bytes.ts';

/**
 * `/api/v1/servers?limit=N[&cursor=…]`: the cross-registry listing in pages, so that a
 * cluster of a thousand registries is listed without building (or sending) every server of
 * every registry in one answer. Without `limit` and `cursor` the listing is whole, as before.
 *
 * Order: registries by namespace then name, each registry's servers in its listing order
 * (ToolHive key; upstream name). A page reads only the registries it reaches, a few at a
 * time. `metadata.nextCursor` (opaque) names the last server of the page; it is absent on the
 * last page. A page may come back short, or even empty, when the registries after the cursor
 * hold nothing that matches. A paged answer has `metadata.count` (items on this page) instead
 * of `total`, which would need every registry read.
 */

export const MAX_PAGE_LIMIT = 1000;
/** registries read at once while a page fills */
const READ_AHEAD = 4;

export interface PageCursor {
  namespace: string;
  name: string;
  /** the last server of the previous page: its ToolHive key or upstream name */
  key: string;
}

export interface PageParams {
  limit: number;
  cursor?: PageCursor;
}

export function encodeCursor(c: PageCursor): string {
  return Buffer.from(JSON.stringify([c.namespace, c.name, c.key])).toString('base64url');
}

export function decodeCursor(text: string): PageCursor | undefined {
  if (text.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'string' && x !== '')) return undefined;
    return { namespace: v[0] as string, name: v[1] as string, key: v[2] as string };
  } catch {
    return undefined;
  }
}

/** `limit` and `cursor` of the query; undefined when neither is given (the whole listing) */
export function parsePageParams(query: URLSearchParams): Outcome<PageParams | undefined> {
  const rawLimit = query.get('limit');
  const rawCursor = query.get('cursor');
  if ((rawLimit === null || rawLimit === '') && (rawCursor === null || rawCursor === '')) return ok(undefined);
  let limit = 100;
  if (rawLimit !== null && rawLimit !== '') {
    if (!/^\d+$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > MAX_PAGE_LIMIT) {
      return fail(problem(400, `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${JSON.stringify(rawLimit)}`, { errors: [{ message: `expected an integer from 1 to ${MAX_PAGE_LIMIT}`, location: 'query.limit', value: rawLimit }] }));
    }
    limit = Number(rawLimit);
  }
  if (rawCursor === null || rawCursor === '') return ok({ limit });
  const cursor = decodeCursor(rawCursor);
  if (!cursor) return fail(problem(400, 'cursor is not one this API gave out (metadata.nextCursor of a previous page)', { errors: [{ message: 'invalid cursor', location: 'query.cursor', value: rawCursor.slice(0, 100) }] }));
  return ok({ limit, cursor });
}

/** the tuple order of registry references (namespace, then name), as the registry list is sorted */
function compareRef(a: RegistryRef, b: RegistryRef): number {
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

interface Listed {
  key: string;
  facets: Facets;
  body: () => Buffer;
}

/**
 * a registry's servers in listing order, with how to serialise each; with a `search`, only
 * the first `max` after `afterKey` that pass the filter (server-search.ts: the scan's answer,
 * without checking the rest)
 */
function listedOf(ref: RegistryRef, data: unknown, format: 'toolhive' | 'upstream', filter: ServerFilter, afterKey: string | undefined, max: number): Listed[] {
  if (format === 'toolhive') {
    const t = (data as { value: ToolhiveLoaded }).value;
    const rk = registryKey(ref);
    const all = t.index.servers;
    const servers = filter.search === undefined ? all : searchServers(all, filter, () => toolhiveFacetIndex(t), afterKey === undefined ? 0 : positionAfter(all, (s) => s.key, afterKey), max);
    return servers.map((s) => ({ key: s.key, facets: s.facets, body: () => toolhiveItemBytes(s, rk) }));
  }
  const latest = (data as { latest: LatestUpstream }).latest;
  const all = latest.servers;
  const servers = filter.search === undefined ? all : searchServers(all, filter, () => facetIndexOf(all, (bytes) => (latest.view.derivedBytes += bytes)), afterKey === undefined ? 0 : positionAfter(all, (s) => s.entry.name, afterKey), max);
  return servers.map((s) => ({ key: s.entry.name, facets: s.facets, body: () => upstreamItem(s, ref, latest) }));
}

/** index of the first server after `key` in a list sorted by key */
function after(list: readonly Listed[], key: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.key <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export async function listServersPage(ctx: Ctx, allRefs: RegistryRef[], filter: ServerFilter, format: 'toolhive' | 'upstream', page: PageParams): Promise<Reply> {
  const refs = [...allRefs].sort(compareRef);
  const cursor = page.cursor;
  let start = 0;
  if (cursor) while (start < refs.length && compareRef(refs[start]!, cursor) < 0) start++;
  const items: Listed[] = [];
  const touched: string[] = [];
  const failures: RegistryFailure[] = [];
  let last: PageCursor | undefined;
  let more = false;
  for (let i = start; i < refs.length && !more; i += READ_AHEAD) {
    const batch = refs.slice(i, i + READ_AHEAD);
    const { loaded, failures: failed } = await loadEach<{ pointer: SnapshotPointer }>(batch, (ref) => (format === 'toolhive' ? loadToolhive(ctx, ref, ACROSS) : latestUpstream(ctx, ref, ACROSS)), format, ctx);
    failures.push(...failed);
    for (const { ref, data } of loaded) {
      if (more) break;
      touched.push(`${registryKey(ref)}@${data.pointer.hash}`);
      const afterKey = cursor && compareRef(ref, cursor) === 0 ? cursor.key : undefined;
      // one more than the page still needs: whether there is a next page
      const list = listedOf(ref, data, format, filter, afterKey, page.limit - items.length + 1);
      const from = afterKey === undefined ? 0 : after(list, afterKey);
      for (let j = from; j < list.length; j++) {
        const s = list[j]!;
        if (!matchesFilter(s.facets, filter)) continue;
        if (items.length === page.limit) {
          more = true;
          break;
        }
        items.push(s);
        last = { namespace: ref.namespace, name: ref.name, key: s.key };
      }
    }
  }
  // the page is a pure function of the snapshots it read, the filter and the cursor
  const filterKey = JSON.stringify([filter.categories, filter.transports, filter.tiers, filter.tags, filter.statuses, filter.search].map((f) => (f instanceof Set ? [...f].sort() : (f ?? null))));
  const key = failures.length === 0 ? `*|P|${format}|${page.limit}|${listingDigest([filterKey, cursor ? encodeCursor(cursor) : '', ...touched])}` : undefined;
  const hit = key ? ctx.responses.get(key) : undefined;
  if (hit) return dataReply(ctx, hit, 'Accept');
  const parts: Buffer[] = [Buffer.from('{"servers":[')];
  items.forEach((s, i) => {
    if (i > 0) parts.push(Buffer.from(','));
    parts.push(s.body());
  });
  const next = more && last ? `,"nextCursor":${JSON.stringify(encodeCursor(last))}` : '';
  const errors = failures.length ? `,"errors":${JSON.stringify(failures)}` : '';
  parts.push(Buffer.from(`],"metadata":{"count":${items.length}${next}}${errors}}`));
  // a search is mostly asked once: tagged by its key, kept from its second time on (upstream-routes.ts)
  const search = filter.search !== undefined && key !== undefined;
  const response = new PreparedResponse(200, 'application/json', Buffer.concat(parts), search ? tagOfKey(key) : undefined);
  if (failures.length > 0) return partialReply(ctx, response, failures, 'Accept');
  if (key) (search ? ctx.responses.offer(key, response) : ctx.responses.set(key, response));
  return dataReply(ctx, response, 'Accept');
}
