/**
 * The pure part of an aggregate source: the union of member snapshots, taken whole per server
 * name from the first member that has it, and the aggregate's own timestamps.
 *
 * - **By name, never mixed.** A name belongs to the first member (in spec order) whose snapshot
 *   has it; every version of it comes from that member, with that member's `_meta`, and the
 *   versions of later members are left out ("shadowed"). Merging version histories across
 *   sources would serve a history no registry ever had.
 * - **Provenance.** Each row gets `_meta["io.toolhive.registry/member"] = {namespace, name}`,
 *   the member it came from (a namespaced key beside the official block, which the API allows).
 * - **Timestamps of its own.** What an aggregate serves for a name changes when a member edits
 *   it and also when the name moves to another member; the members' own `updatedAt` says
 *   nothing about the second. So `publishedAt`/`updatedAt` are the aggregate's: a row whose
 *   served content (document, status, flags, provenance) equals the previous snapshot's row
 *   keeps its timestamps; a changed row gets `updatedAt = now`; a new row gets `updatedAt = now`
 *   and keeps its member's `publishedAt` (never later than now). Rows that are no longer served
 *   stay for a while as tombstones (`status: deleted`, `updatedAt = now`), so that a mirror
 *   syncing the aggregate with `updated_since` learns of the removal too. Together:
 *   `updated_since=T` returns exactly the names whose served content changed after T.
 */
import { OFFICIAL_META_KEY, type OfficialMeta, type ServerResponse } from '../formats/upstream-schema.ts';
import { compareEntries, entryKeyOf, markLatest } from '../sync/official-meta.ts';
import { compareTimestamps } from './merge.ts';

/** the response-level `_meta` key naming the member registry a row was taken from */
export const MEMBER_META_KEY = 'io.toolhive.registry/member';

/** how long a tombstone of a row the aggregate no longer serves is kept (mirrors reconcile in full well within it) */
export const TOMBSTONE_RETENTION_MS = 7 * 24 * 3_600_000;

export interface MemberRef {
  namespace: string;
  name: string;
}

export interface MemberCounts {
  /** names taken from this member */
  taken: number;
  /** names this member has that an earlier member already supplied */
  shadowed: number;
  /** versions taken */
  rows: number;
}

/**
 * Builds the union member by member, in priority order, so that a caller can parse one member
 * snapshot at a time and let go of it: rows of shadowed names are never kept.
 */
export function createNameMerger() {
  const owner = new Map<string, number>();
  const rows: ServerResponse[] = [];
  let members = 0;
  return {
    /** adds one member's rows (ours: provenance is written into them); returns its counts */
    add(member: MemberRef, entries: readonly ServerResponse[]): MemberCounts {
      const index = members++;
      const provenance = { namespace: member.namespace, name: member.name };
      const shadowed = new Set<string>();
      let taken = 0;
      let count = 0;
      for (const e of entries) {
        const name = e.server.name;
        const o = owner.get(name);
        if (o === undefined) {
          owner.set(name, index);
          taken++;
        } else if (o !== index) {
          shadowed.add(name);
          continue;
        }
        if (e._meta === undefined) e._meta = {};
        e._meta[MEMBER_META_KEY] = provenance;
        rows.push(e);
        count++;
      }
      return { taken, shadowed: shadowed.size, rows: count };
    },
    /** every row taken, sorted by (name, version) */
    finish(): ServerResponse[] {
      return rows.sort(compareEntries);
    },
  };
}

/** the member a row of an aggregate came from, as `namespace/name` */
export function memberOf(e: ServerResponse): string | undefined {
  const m = e._meta?.[MEMBER_META_KEY] as { namespace?: unknown; name?: unknown } | undefined;
  return m && typeof m.namespace === 'string' && typeof m.name === 'string' ? `${m.namespace}/${m.name}` : undefined;
}

/** distinct names served per member (`namespace/name` → count) among live rows */
export function namesPerMember(entries: readonly ServerResponse[]): Map<string, number> {
  const out = new Map<string, number>();
  let last: string | undefined;
  for (const e of entries) {
    if (e.server.name === last) continue;
    last = e.server.name;
    const m = memberOf(e);
    if (m !== undefined) out.set(m, (out.get(m) ?? 0) + 1);
  }
  return out;
}

function officialOf(e: ServerResponse): OfficialMeta | undefined {
  return e._meta?.[OFFICIAL_META_KEY];
}

/** `_meta` besides the official block, in a key order of its own (the content a member controls) */
function otherMeta(e: ServerResponse): string {
  const meta = e._meta;
  if (!meta) return '';
  const keys = Object.keys(meta)
    .filter((k) => k !== OFFICIAL_META_KEY)
    .sort();
  return JSON.stringify(keys.map((k) => [k, meta[k]]));
}

/** the same document, status, flags and provenance: what a reader sees, timestamps aside */
function sameServed(previous: ServerResponse, current: ServerResponse): boolean {
  const a = officialOf(previous);
  const b = officialOf(current);
  if ((a?.status ?? 'active') !== (b?.status ?? 'active')) return false;
  if (a?.statusChangedAt !== b?.statusChangedAt || a?.statusMessage !== b?.statusMessage || (a?.isLatest ?? false) !== (b?.isLatest ?? false)) return false;
  return otherMeta(previous) === otherMeta(current) && JSON.stringify(previous.server) === JSON.stringify(current.server);
}

/** the documented keys in a fixed order (the official block is closed) */
function official(o: { status: OfficialMeta['status']; statusChangedAt?: string | undefined; statusMessage?: string | undefined; publishedAt: string; updatedAt: string; isLatest: boolean }): OfficialMeta {
  const out: OfficialMeta = { status: o.status };
  if (o.statusChangedAt !== undefined) out.statusChangedAt = o.statusChangedAt;
  if (o.statusMessage !== undefined) out.statusMessage = o.statusMessage;
  out.publishedAt = o.publishedAt;
  out.updatedAt = o.updatedAt;
  out.isLatest = o.isLatest;
  return out;
}

function setOfficial(e: ServerResponse, o: OfficialMeta): void {
  if (e._meta === undefined) e._meta = {};
  e._meta[OFFICIAL_META_KEY] = o;
}

function earliest(a: string | undefined, now: string): string {
  return a !== undefined && compareTimestamps(a, now) <= 0 ? a : now;
}

export interface ServeOptions {
  /** every row of the previous snapshot of this aggregate (tombstones included), if any */
  previous?: readonly ServerResponse[] | undefined;
  /** RFC 3339 */
  now: string;
  /** default TOMBSTONE_RETENTION_MS */
  tombstoneRetentionMs?: number;
}

export interface Served {
  /** what upstream.json holds: the live rows with the aggregate's timestamps, and tombstones; sorted */
  entries: ServerResponse[];
  tombstones: number;
}

/**
 * The rows an aggregate publishes, from the live rows it serves now (sorted, members' official
 * blocks; written in place) and its previous snapshot.
 */
export function serveWithOwnTimestamps(live: ServerResponse[], options: ServeOptions): Served {
  const { now } = options;
  const retention = options.tombstoneRetentionMs ?? TOMBSTONE_RETENTION_MS;
  const previous = new Map<string, ServerResponse>();
  for (const p of options.previous ?? []) previous.set(entryKeyOf(p), p);

  const liveNames = new Set<string>();
  for (const e of live) {
    liveNames.add(e.server.name);
    const key = entryKeyOf(e);
    const p = previous.get(key);
    previous.delete(key);
    const m = officialOf(e) ?? { status: 'active' as const };
    const po = p ? officialOf(p) : undefined;
    const keep = p !== undefined && po?.publishedAt !== undefined && po.updatedAt !== undefined && sameServed(p, e);
    setOfficial(
      e,
      official({
        status: m.status,
        statusChangedAt: m.statusChangedAt,
        statusMessage: m.statusMessage,
        publishedAt: po?.publishedAt ?? earliest(m.publishedAt, now),
        updatedAt: keep ? po.updatedAt! : now,
        isLatest: m.isLatest === true,
      }),
    );
  }

  // what was served before and is not any more: a tombstone, or an old one kept a while longer
  const tombstones: Array<{ row: ServerResponse; wasLatest: boolean }> = [];
  const cutoff = new Date(Date.parse(now) - retention).toISOString();
  for (const p of previous.values()) {
    const po = officialOf(p);
    if (po?.status === 'deleted') {
      if (po.updatedAt !== undefined && compareTimestamps(po.updatedAt, cutoff) < 0) continue;
      tombstones.push({ row: p, wasLatest: po.isLatest === true });
      continue;
    }
    const row: ServerResponse = { ...p, _meta: { ...p._meta } };
    setOfficial(row, official({ status: 'deleted', statusChangedAt: now, publishedAt: po?.publishedAt ?? now, updatedAt: now, isLatest: false }));
    tombstones.push({ row, wasLatest: false });
  }
  if (tombstones.length === 0) return { entries: live, tombstones: 0 };

  for (const t of tombstones) {
    // a name served again has its latest among the live rows
    if (liveNames.has(t.row.server.name)) officialOf(t.row)!.isLatest = false;
  }
  const entries = [...live, ...tombstones.map((t) => t.row)].sort(compareEntries);
  markLatest(entries);
  for (const t of tombstones) {
    const o = officialOf(t.row)!;
    // a kept tombstone whose flag moved has changed too
    if (o.isLatest !== t.wasLatest && o.updatedAt !== now) t.row._meta![OFFICIAL_META_KEY] = { ...o, updatedAt: now };
  }
  return { entries, tombstones: tombstones.length };
}
