import { readExtension } from '../formats/toolhive-extension.ts';
import { OFFICIAL_META_KEY, type OfficialMeta, type OfficialStatus, type ServerResponse } from '../formats/upstream-schema.ts';
import { pickLatest, responseCandidate } from '../formats/versions.ts';

/**
 * Fills in `_meta["io.modelcontextprotocol.registry/official"]` the way the official registry
 * does, for entries whose source did not (ToolHive registries, server.json files). Pure.
 *
 * - timestamps are carried forward: an entry whose server.json is unchanged since the previous
 *   snapshot keeps its `publishedAt` / `updatedAt`; a changed one keeps `publishedAt` and gets
 *   `updatedAt = now`; a new one gets both `now`. So `updated_since` readers (other registries
 *   syncing from us) see exactly what changed.
 * - status comes from the ToolHive extension's `status` (`deprecated` → deprecated), else active.
 * - `isLatest`: exactly one per name; a source's own flags are kept when they are consistent,
 *   otherwise the registry's rule picks (semver precedence, else most recently published).
 * - only the documented keys are emitted (the official schema closes that object).
 * Output is sorted by (name, version) with plain `<`.
 */

export function entryKeyOf(e: ServerResponse): string {
  return `${e.server.name}\u0000${e.server.version}`;
}

function statusFromExtension(e: ServerResponse): OfficialStatus {
  const status = readExtension(e.server, undefined)?.status;
  return typeof status === 'string' && status.toLowerCase() === 'deprecated' ? 'deprecated' : 'active';
}

/** the documented keys of `o` (`updatedAt` replaced when given), in a fixed order */
function cleanOfficial(o: OfficialMeta, updatedAt: string | undefined = o.updatedAt): OfficialMeta {
  const out: OfficialMeta = { status: o.status };
  if (o.statusChangedAt !== undefined) out.statusChangedAt = o.statusChangedAt;
  if (o.statusMessage !== undefined) out.statusMessage = o.statusMessage;
  if (o.publishedAt !== undefined) out.publishedAt = o.publishedAt;
  if (updatedAt !== undefined) out.updatedAt = updatedAt;
  if (o.isLatest !== undefined) out.isLatest = o.isLatest;
  return out;
}

function withOfficial(e: ServerResponse, official: OfficialMeta): ServerResponse {
  const meta = e._meta;
  // the common shape, {server, _meta: {official}}, without the generic spreads
  if (meta !== undefined && isServerThenMeta(e) && Object.keys(meta).length === 1 && meta[OFFICIAL_META_KEY] !== undefined) {
    return { server: e.server, _meta: { [OFFICIAL_META_KEY]: official } };
  }
  return { ...e, _meta: { ...(meta ?? {}), [OFFICIAL_META_KEY]: official } };
}

/** exactly the keys `server`, `_meta`, in that order (the output keeps the input's key order) */
function isServerThenMeta(e: ServerResponse): boolean {
  const keys = Object.keys(e);
  return keys.length === 2 && keys[0] === 'server' && keys[1] === '_meta';
}

/**
 * Sorts `entries` in place by compareEntries, exactly as a stable sort with it does. Sources
 * list a name's versions together (registry APIs, generated and hand-written files), so the
 * names are sorted once each rather than compared for every entry: the versions of each name,
 * in input order, then go where their name sorts, and only a name whose versions are out of
 * order (`1.10.0` before `1.9.0` is semver order, not `<`) has them sorted. With `markLatest`,
 * each name's versions are also marked as markLatest marks them, in the same pass.
 */
export function sortEntries(entries: ServerResponse[], options: { markLatest?: boolean } = {}): ServerResponse[] {
  const groups = new Map<string, ServerResponse[]>();
  let inOrder = true;
  let lastName: string | undefined;
  let current: ServerResponse[] = [];
  for (const e of entries) {
    const name = e.server.name;
    if (name === lastName) {
      current.push(e);
      continue;
    }
    if (lastName !== undefined && name < lastName) inOrder = false;
    lastName = name;
    const group = groups.get(name);
    if (group) {
      inOrder = false; // a name seen before, elsewhere
      group.push(e);
      current = group;
    } else {
      current = [e];
      groups.set(name, current);
    }
  }
  // plain sort of distinct strings: UTF-16 code units, as `<`
  const names = inOrder ? groups.keys() : [...groups.keys()].sort();
  let at = 0;
  for (const name of names) {
    const group = groups.get(name) as ServerResponse[];
    if (!versionsInOrder(group)) group.sort(compareEntries);
    const start = at;
    for (const e of group) entries[at++] = e;
    // what markLatest does to this run of the sorted entries
    if (options.markLatest) markLatestOfRun(entries, start, at);
  }
  return entries;
}

function versionsInOrder(group: readonly ServerResponse[]): boolean {
  for (let i = 1; i < group.length; i++) if ((group[i - 1] as ServerResponse).server.version > (group[i] as ServerResponse).server.version) return false;
  return true;
}

export function compareEntries(a: ServerResponse, b: ServerResponse): number {
  const an = a.server.name;
  const bn = b.server.name;
  if (an !== bn) return an < bn ? -1 : 1;
  const av = a.server.version;
  const bv = b.server.version;
  return av < bv ? -1 : av > bv ? 1 : 0;
}

export interface AssignOptions {
  /** entries of the previous snapshot, by entryKeyOf */
  previous?: ReadonlyMap<string, ServerResponse> | undefined;
  /** RFC 3339 */
  now: string;
  /**
   * Write the official blocks into the entries and sort `entries` itself, instead of returning
   * new objects: for entries the caller owns (freshly parsed), which are then not kept twice.
   */
  inPlace?: boolean;
}

function setOfficial(e: ServerResponse, official: OfficialMeta): ServerResponse {
  // the same keys in the same order as withOfficial's copy
  if (e._meta === undefined) e._meta = {};
  e._meta[OFFICIAL_META_KEY] = official;
  return e;
}

export function assignOfficialMeta(entries: readonly ServerResponse[], options: AssignOptions): ServerResponse[] {
  const { previous, now } = options;
  const out: ServerResponse[] = options.inPlace ? (entries as ServerResponse[]) : new Array(entries.length);
  const put = options.inPlace ? setOfficial : withOfficial;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as ServerResponse;
    const given = e._meta?.[OFFICIAL_META_KEY];
    if (given?.publishedAt) {
      out[i] = put(e, cleanOfficial(given, given.updatedAt ?? given.publishedAt));
      continue;
    }
    const status = given?.status ?? statusFromExtension(e);
    const before = previous?.get(entryKeyOf(e));
    const beforeOfficial = before?._meta?.[OFFICIAL_META_KEY];
    let official: OfficialMeta;
    if (before && beforeOfficial?.publishedAt) {
      const same = JSON.stringify(before.server) === JSON.stringify(e.server) && beforeOfficial.status === status;
      official = same
        ? { ...beforeOfficial }
        : {
            status,
            publishedAt: beforeOfficial.publishedAt,
            updatedAt: now,
            statusChangedAt: beforeOfficial.status === status ? (beforeOfficial.statusChangedAt ?? beforeOfficial.publishedAt) : now,
          };
    } else {
      official = { status, statusChangedAt: now, publishedAt: now, updatedAt: now };
    }
    if (given?.isLatest !== undefined) official.isLatest = given.isLatest;
    else delete official.isLatest;
    out[i] = put(e, cleanOfficial(official));
  }
  // sorted and marked in one pass over the names (sortEntries places each name's versions)
  return sortEntries(out, { markLatest: true });
}

/** Exactly one `isLatest: true` per name (entries sorted by name). Mutates the official blocks of `sorted`. */
export function markLatest(sorted: ServerResponse[]): ServerResponse[] {
  let start = 0;
  while (start < sorted.length) {
    const name = (sorted[start] as ServerResponse).server.name;
    let end = start + 1;
    while (end < sorted.length && (sorted[end] as ServerResponse).server.name === name) end++;
    markLatestOfRun(sorted, start, end);
    start = end;
  }
  return sorted;
}

/** markLatest for the versions of one name, sorted[start..end) */
function markLatestOfRun(sorted: ServerResponse[], start: number, end: number): void {
  let flagged = 0;
  let flaggedAt = -1;
  for (let i = start; i < end; i++) {
    if (sorted[i]?._meta?.[OFFICIAL_META_KEY]?.isLatest === true) {
      flagged++;
      flaggedAt = i;
    }
  }
  const latest = flagged === 1 ? sorted[flaggedAt] : end - start === 1 ? sorted[start] : pickLatest(sorted.slice(start, end), responseCandidate);
  for (let i = start; i < end; i++) {
    const e = sorted[i] as ServerResponse;
    const official = e._meta?.[OFFICIAL_META_KEY];
    if (official) official.isLatest = e === latest;
  }
}
