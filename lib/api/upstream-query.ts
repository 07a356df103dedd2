import { compareKeys, type Entry } from './entry.ts';
import { formatCursor, type Cursor, type ListParams } from './params.ts';
import type { UpstreamView } from './upstream-view.ts';

/**
 * The upstream endpoints as pure functions over a view. Each returns MORE when the view is
 * partial and the answer could still change with the entries not loaded yet; the caller
 * waits for the view to grow and asks again.
 */

export const MORE = Symbol('more');
export type Answer<T> = T | typeof MORE;

export interface Page {
  items: Entry[];
  /** present only when the page is full (official behaviour: a last empty page is possible) */
  nextCursor?: string;
}

/** first index whose entry is strictly after the cursor, in entries[0, n) */
function afterCursor(entries: readonly Entry[], cursor: Cursor): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = entries[mid]!;
    const after = cursor.version === undefined ? e.name > cursor.name : compareKeys(e.name, e.version, cursor.name, cursor.version) > 0;
    if (after) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** first index whose name is >= name */
function firstOfName(entries: readonly Entry[], name: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.name < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function matches(e: Entry, p: ListParams): boolean {
  if (!p.includeDeleted && e.status === 'deleted') return false;
  if (p.version !== undefined) {
    if (p.version === 'latest' ? !e.isLatest : e.version !== p.version) return false;
  }
  if (p.updatedSince !== undefined && !(e.updatedKey > p.updatedSince)) return false;
  if (p.search !== undefined && !e.lname.includes(p.search)) return false;
  return true;
}

/** GET /servers: rows after the cursor that pass every filter, at most `limit` of them. */
export function listPage(view: UpstreamView, p: ListParams): Answer<Page> {
  if (!view.complete && !view.answersFromPrefix) return MORE;
  const entries = view.entries;
  const n = entries.length;
  const items: Entry[] = [];
  let i = p.cursor ? afterCursor(entries, p.cursor) : 0;
  for (; i < n && items.length < p.limit; i++) {
    const e = entries[i]!;
    if (matches(e, p)) items.push(e);
  }
  if (items.length < p.limit && !view.complete) return MORE;
  const last = items[items.length - 1];
  return items.length === p.limit && last ? { items, nextCursor: formatCursor(last.name, last.version) } : { items };
}

/** every version of a name (deleted ones only when asked), or MORE */
function versionsRange(view: UpstreamView, name: string): Answer<Entry[]> {
  if (view.complete) {
    const r = view.rangeOf(name);
    return r ? view.entries.slice(r[0], r[1]) : [];
  }
  if (!view.answersFromPrefix) return MORE;
  const entries = view.entries;
  const out: Entry[] = [];
  let i = firstOfName(entries, name);
  for (; i < entries.length && entries[i]!.name === name; i++) out.push(entries[i]!);
  // all of the name's versions are known only once an entry after them is present
  return i < entries.length ? out : MORE;
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
  const visible = includeDeleted ? all : all.filter((e) => e.status !== 'deleted');
  return visible.length === 0 ? null : visible.sort(newestFirst);
}

/** GET /servers/{name}/versions/{version|latest}: null when not found (or deleted and not asked for). */
export function versionOf(view: UpstreamView, name: string, version: string, includeDeleted: boolean): Answer<Entry | null> {
  const all = versionsRange(view, name);
  if (all === MORE) return MORE;
  let found: Entry | undefined;
  if (version === 'latest') {
    found = all.find((e) => e.isLatest);
    // a snapshot without a flag for this name: the newest published visible version
    if (!found) found = all.filter((e) => includeDeleted || e.status !== 'deleted').sort(newestFirst)[0];
  } else found = all.find((e) => e.version === version);
  if (!found || (!includeDeleted && found.status === 'deleted')) return null;
  return found;
}
