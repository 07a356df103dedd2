import { SubstringIndex } from './substring-index.ts';
import { matchesFilter, type Facets, type ServerFilter } from './toolhive-view.ts';

/**
 * `search=` on `/api/v1/servers` from a substring index (substring-index.ts) instead of a
 * scan. What it needs of a registry's servers is only this: a list in listing order, each with
 * its `facets` (toolhive-view.ts: the names, title and description, tags that `search` looks
 * in, and the other filters' values); how the servers themselves are held is the caller's.
 * Every answer is the scan's (`servers.filter(s => matchesFilter(s.facets, filter))`, or the
 * part of it a page needs): the index only proposes candidates, in order, and each is checked
 * with matchesFilter itself. Tests compare the two (test/api/search-index.test.ts).
 */

export interface Searchable {
  readonly facets: Facets;
}

function textsOf(servers: readonly Searchable[]): (id: number) => string[] {
  return (id) => {
    const f = servers[id]!.facets;
    return [...f.names, f.text, ...f.tags];
  };
}

/** the substring index of the servers' names, title + description and tags (ids are positions in `servers`), in one piece */
export function facetIndex(servers: readonly Searchable[]): SubstringIndex {
  return SubstringIndex.build(servers.length, textsOf(servers));
}

/** indexes by server list (one list per loaded snapshot: it goes with it) */
const indexes = new WeakMap<readonly Searchable[], { index?: SubstringIndex; building: Promise<SubstringIndex> }>();

/**
 * The servers' index once it is built; the first call starts building it in slices of ~50 ms
 * with a turn of the event loop between them (33k servers' texts take 200-400 ms: one piece
 * would stall every request in flight) and returns undefined until it is ready; meanwhile
 * searches scan (the same answer; waiting instead could hang requests for as long as heavy
 * requests around starve the slices). `onBuilt` is told its bytes (the memory budget's count).
 */
export function facetIndexOf(servers: readonly Searchable[], onBuilt?: (bytes: number) => void): SubstringIndex | undefined {
  const have = indexes.get(servers);
  if (have) return have.index;
  const entry: { index?: SubstringIndex; building: Promise<SubstringIndex> } = { building: SubstringIndex.buildInSteps(servers.length, textsOf(servers), 50) };
  entry.building.then(
    (index) => {
      entry.index = index;
      onBuilt?.(index.bytes);
    },
    () => indexes.delete(servers),
  );
  indexes.set(servers, entry);
  return undefined;
}

/** resolves with the servers' index once built, starting the build (tests) */
export function facetIndexReady(servers: readonly Searchable[]): Promise<SubstringIndex> {
  const built = facetIndexOf(servers);
  return built ? Promise.resolve(built) : indexes.get(servers)!.building;
}

/**
 * The servers passing the filter, in their order (whole listings, which report a total).
 * `index()` returns the servers' index (or undefined: scan); it is asked only for a search.
 */
export function filterServers<T extends Searchable>(servers: readonly T[], filter: ServerFilter, index: () => SubstringIndex | undefined): T[] {
  return searchServers(servers, filter, index, 0, Infinity);
}

/**
 * At most `max` servers passing the filter, from position `from` on, in their order: a page
 * (and whether there is more: ask for one more than it shows) without checking the rest.
 */
export function searchServers<T extends Searchable>(servers: readonly T[], filter: ServerFilter, index: () => SubstringIndex | undefined, from: number, max: number): T[] {
  const out: T[] = [];
  if (max <= 0) return out;
  const ix = filter.search === undefined ? undefined : index();
  if (ix === undefined || filter.search === undefined) {
    for (let i = from; i < servers.length && out.length < max; i++) if (matchesFilter(servers[i]!.facets, filter)) out.push(servers[i]!);
    return out;
  }
  ix.candidates(filter.search, from, (id) => {
    const s = servers[id]!;
    if (matchesFilter(s.facets, filter)) out.push(s);
    return out.length < max;
  });
  return out;
}

/** position of the first server whose key (`keyOf`) is after `key`, in a list sorted by key */
export function positionAfter<T>(servers: readonly T[], keyOf: (s: T) => string, key: string): number {
  let lo = 0;
  let hi = servers.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(servers[mid]!) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
