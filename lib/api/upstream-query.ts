import { compareKeys, type Entry } from './entry.ts';
import { formatCursor, type Cursor, type ListParams } from './params.ts';
import { SubstringIndex } from './substring-index.ts';
import type { UpstreamView } from './upstream-view.ts';

/**
 * The upstream endpoints as pure functions over a view. Each returns MORE when the view is
 * partial and the answer could still change with the versions not loaded yet; the caller
 * waits for the view to grow and asks again. Versions whose JSON fails the check on first
 * use (UpstreamView.valid) are left out, as if absent.
 */

export const MORE = Symbol('more');
export type Answer<T> = T | typeof MORE;

export interface Page {
  items: Entry[];
  /** present only when the page is full (official behaviour: a last empty page is possible) */
  nextCursor?: string;
}

/** first index strictly after the cursor */
function afterCursor(view: UpstreamView, cursor: Cursor): number {
  let lo = 0;
  let hi = view.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const name = view.name(mid);
    const after = cursor.version === undefined ? name > cursor.name : compareKeys(name, view.version(mid), cursor.name, cursor.version) > 0;
    if (after) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** first index whose name is >= name */
function firstOfName(view: UpstreamView, name: string): number {
  let lo = 0;
  let hi = view.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (view.name(mid) < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** does version i pass the list filters other than search (and not counting validity)? */
function passes(view: UpstreamView, i: number, p: ListParams): boolean {
  if (!p.includeDeleted && view.status(i) === 'deleted') return false;
  if (p.version !== undefined) {
    if (p.version === 'latest' ? !view.isLatest(i) : view.version(i) !== p.version) return false;
  }
  if (p.updatedSince !== undefined && !(view.updatedKey(i) > p.updatedSince)) return false;
  return true;
}

/** does version i pass the list filters (not counting validity)? */
export function matches(view: UpstreamView, i: number, p: ListParams): boolean {
  return passes(view, i, p) && (p.search === undefined || view.name(i).toLowerCase().includes(p.search));
}

/** the distinct names of a complete view, indexed for substring search */
interface NameIndex {
  index: SubstringIndex;
  /** the distinct names, lower-cased (id order = view order) */
  names: string[];
  /** first version of each name id; first[id + 1] ends it (one more entry than names) */
  first: Uint32Array;
}

const nameIndexes = new WeakMap<UpstreamView, NameIndex>();

/**
 * Built on the first search of a complete view (once per snapshot), in one piece: 33k names
 * take 65-90 ms (a build in slices between turns of the event loop was starved by heavy
 * requests around it); counted in the view's heldBytes.
 */
function nameIndex(view: UpstreamView): NameIndex {
  let ni = nameIndexes.get(view);
  if (ni) return ni;
  const names: string[] = [];
  const first: number[] = [];
  let last: string | undefined;
  for (let i = 0; i < view.length; i++) {
    const name = view.name(i);
    if (name === last) continue;
    last = name;
    // toLowerCase returns the name itself when it is lower-case already (no second copy)
    names.push(name.toLowerCase());
    first.push(i);
  }
  first.push(view.length);
  ni = { index: SubstringIndex.build(names.length, (id) => names[id]!), names, first: Uint32Array.from(first) };
  view.derivedBytes += ni.index.bytes + ni.first.byteLength + names.length * 16;
  nameIndexes.set(view, ni);
  return ni;
}

/**
 * GET /servers with `search`, on a complete view: the names whose every trigram the index
 * holds, checked with `includes` as the scan does, then their versions in order until the
 * page is full (the scan's answer, which scanPage gives and the tests compare)
 */
function searchPage(view: UpstreamView, p: ListParams & { search: string }, ni: NameIndex): Page {
  const { index, names, first } = ni;
  const start = p.cursor ? afterCursor(view, p.cursor) : 0;
  // the name holding version `start` is the first that may contribute
  let lo = 0;
  let hi = first.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (first[mid + 1]! <= start) lo = mid + 1;
    else hi = mid;
  }
  const items: Entry[] = [];
  const q = p.search;
  if (p.limit > 0)
    index.candidates(q, lo, (id) => {
      if (!names[id]!.includes(q)) return true;
      const end = first[id + 1]!;
      for (let i = Math.max(start, first[id]!); i < end && items.length < p.limit; i++) {
        if (passes(view, i, p) && view.valid(i)) items.push(view.entry(i));
      }
      return items.length < p.limit;
    });
  const last = items[items.length - 1];
  return items.length === p.limit && last ? { items, nextCursor: formatCursor(last.name, last.version) } : { items };
}

/** GET /servers: rows after the cursor that pass every filter, at most `limit` of them. */
export function listPage(view: UpstreamView, p: ListParams): Answer<Page> {
  // a search on a loaded snapshot answers from the name index (scanPage is its reference)
  if (p.search !== undefined && view.complete) return searchPage(view, { ...p, search: p.search }, nameIndex(view));
  return scanPage(view, p);
}

/** listPage by scanning every version after the cursor (also the reference for the index's answers) */
export function scanPage(view: UpstreamView, p: ListParams): Answer<Page> {
  if (!view.complete && !view.answersFromPrefix) return MORE;
  const n = view.length;
  const items: Entry[] = [];
  let lastName: string | undefined;
  let lastLower = '';
  for (let i = p.cursor ? afterCursor(view, p.cursor) : 0; i < n && items.length < p.limit; i++) {
    if (!passes(view, i, p)) continue;
    if (p.search !== undefined) {
      // versions of one server are adjacent: lower-case each name once
      const name = view.name(i);
      if (name !== lastName) {
        lastName = name;
        lastLower = name.toLowerCase();
      }
      if (!lastLower.includes(p.search)) continue;
    }
    if (view.valid(i)) items.push(view.entry(i));
  }
  if (items.length < p.limit && !view.complete) return MORE;
  const last = items[items.length - 1];
  return items.length === p.limit && last ? { items, nextCursor: formatCursor(last.name, last.version) } : { items };
}

/** indexes of every version of a name, or MORE */
function versionsRange(view: UpstreamView, name: string): Answer<number[]> {
  if (!view.complete && !view.answersFromPrefix) return MORE;
  const out: number[] = [];
  let i = firstOfName(view, name);
  for (; i < view.length && view.name(i) === name; i++) out.push(i);
  // all of the name's versions are known only once a later name (or the end) is present
  return i < view.length || view.complete ? out : MORE;
}

/** newest published first; ties (same instant) by version, higher first */
function newestFirst(a: Entry, b: Entry): number {
  if (a.publishedKey !== b.publishedKey) return a.publishedKey < b.publishedKey ? 1 : -1;
  return a.version === b.version ? 0 : a.version < b.version ? 1 : -1;
}

/** GET /servers/{name}/versions: null when the server has no (visible) version. */
export function versionsOf(view: UpstreamView, name: string, includeDeleted: boolean): Answer<Entry[] | null> {
  const all = versionsRange(view, name);
  if (all === MORE) return MORE;
  const visible = all.filter((i) => (includeDeleted || view.status(i) !== 'deleted') && view.valid(i)).map((i) => view.entry(i));
  return visible.length === 0 ? null : visible.sort(newestFirst);
}

/** GET /servers/{name}/versions/{version|latest}: null when not found (or deleted and not asked for). */
export function versionOf(view: UpstreamView, name: string, version: string, includeDeleted: boolean): Answer<Entry | null> {
  const all = versionsRange(view, name);
  if (all === MORE) return MORE;
  let found: number | undefined;
  if (version === 'latest') {
    found = all.find((i) => view.isLatest(i));
    // a snapshot without a flag for this name: the newest published visible version
    if (found === undefined) {
      const candidates = all.filter((i) => includeDeleted || view.status(i) !== 'deleted').map((i) => view.entry(i));
      const newest = candidates.sort(newestFirst)[0];
      found = newest ? all.find((i) => view.version(i) === newest.version) : undefined;
    }
  } else found = all.find((i) => view.version(i) === version);
  if (found === undefined || (!includeDeleted && view.status(found) === 'deleted') || !view.valid(found)) return null;
  return view.entry(found);
}
