/**
 * Pure helpers of the registry source's incremental sync: timestamp ordering with any
 * fractional precision, and merging a delta (`updated_since`) into the previous entries.
 *
 * Entries are upstream ServerResponse objects (`{server, _meta}`); only `server.name`,
 * `server.version` and `_meta["io.modelcontextprotocol.registry/official"]` are read here.
 */
import { pickLatest, type VersionCandidate } from '../formats/versions.ts';

export const OFFICIAL_KEY = 'io.modelcontextprotocol.registry/official';

interface Official {
  status?: string;
  publishedAt?: string;
  updatedAt?: string;
  isLatest?: boolean;
  [k: string]: unknown;
}

interface Keyed {
  name: string;
  version: string;
  entry: Record<string, unknown>;
}

function official(entry: unknown): Official | undefined {
  const meta = (entry as { _meta?: Record<string, unknown> } | null)?._meta;
  const o = meta?.[OFFICIAL_KEY];
  return o && typeof o === 'object' ? (o as Official) : undefined;
}

/** `name` and `version` of an entry, or undefined when it has none */
export function entryKey(entry: unknown): { name: string; version: string } | undefined {
  const s = (entry as { server?: { name?: unknown; version?: unknown } } | null)?.server;
  if (!s || typeof s.name !== 'string' || typeof s.version !== 'string') return undefined;
  return { name: s.name, version: s.version };
}

export function updatedAtOf(entry: unknown): string | undefined {
  const t = official(entry)?.updatedAt;
  return typeof t === 'string' ? t : undefined;
}

const RFC3339 = /^(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$/;

/** RFC 3339 → [epoch seconds, nanoseconds], or undefined when malformed */
export function parseTimestamp(t: string): [number, number] | undefined {
  const m = RFC3339.exec(t);
  if (!m) return undefined;
  const secs = Date.parse(`${m[1]}T${m[2]}${m[4]!.toUpperCase()}`);
  if (Number.isNaN(secs)) return undefined;
  return [secs / 1000, Number((m[3] ?? '').padEnd(9, '0').slice(0, 9))];
}

/**
 * Orders RFC 3339 timestamps by the instant they name, whatever their fractional precision or
 * offset (`…:00Z` < `…:00.1Z`, which string comparison gets wrong). Malformed sorts first.
 */
export function compareTimestamps(a: string, b: string): number {
  const x = parseTimestamp(a);
  const y = parseTimestamp(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  return x[0] - y[0] || x[1] - y[1];
}

/** The latest `updatedAt` among entries, as the server wrote it, or `current` when none is later. */
export function maxUpdatedAt(entries: readonly unknown[], current?: string): string | undefined {
  let best = current;
  for (const e of entries) {
    const t = updatedAtOf(e);
    if (t === undefined || parseTimestamp(t) === undefined) continue;
    if (best === undefined || compareTimestamps(t, best) > 0) best = t;
  }
  return best;
}

function candidate(k: Keyed): VersionCandidate {
  const o = official(k.entry);
  return { version: k.version, publishedAt: o?.publishedAt, status: o?.status };
}

function withLatest(entry: Record<string, unknown>, isLatest: boolean): Record<string, unknown> {
  const o = official(entry);
  if (o?.isLatest === isLatest) return entry;
  const meta = (entry._meta ?? {}) as Record<string, unknown>;
  return { ...entry, _meta: { ...meta, [OFFICIAL_KEY]: { ...(o ?? {}), isLatest } } };
}

const compareKeys = (a: Keyed, b: Keyed) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0);

export interface MergeResult {
  entries: Record<string, unknown>[];
  /** delta rows without a string server.name / server.version (left out) */
  skipped: number;
}

/**
 * Merges an incremental delta into the previous entries and recomputes `isLatest` per name:
 *
 * - a delta row replaces the previous row of the same (name, version): its status
 *   (active / deprecated / deleted) and timestamps win. Deleted rows stay in the result, with
 *   status `deleted`, because the snapshot keeps every version (`include_deleted` readers);
 * - for each name the delta touched: a received non-deleted row flagged `isLatest` takes the
 *   flag (the peer decided, e.g. a new publish); otherwise the previous holder keeps it while
 *   it is not deleted; otherwise the highest non-deleted version gets it (semver precedence when
 *   both are semver, else the most recently published — `pickLatest` of lib/formats); if every
 *   version is deleted, the highest deleted one keeps it, as the official registry does;
 * - names the delta did not touch keep their flags (repaired if none or several were set);
 * - exactly one `isLatest: true` per name; output sorted by (name, version) with `<`.
 */
export function mergeIncremental(previous: readonly unknown[], delta: readonly unknown[]): MergeResult {
  const rows = new Map<string, Keyed>();
  const keyOf = (name: string, version: string) => `${name}\u0000${version}`;
  for (const e of previous) {
    const k = entryKey(e);
    if (k) rows.set(keyOf(k.name, k.version), { ...k, entry: e as Record<string, unknown> });
  }
  const touched = new Map<string, Keyed[]>();
  let skipped = 0;
  for (const e of delta) {
    const k = entryKey(e);
    if (!k) {
      skipped++;
      continue;
    }
    const row = { ...k, entry: e as Record<string, unknown> };
    rows.set(keyOf(k.name, k.version), row);
    let list = touched.get(k.name);
    if (!list) touched.set(k.name, (list = []));
    // the same version twice in one delta: the later row wins
    const i = list.findIndex((r) => r.version === k.version);
    if (i === -1) list.push(row);
    else list[i] = row;
  }
  const previousHolder = new Map<string, string>();
  for (const e of previous) {
    const k = entryKey(e);
    if (k && official(e)?.isLatest === true) previousHolder.set(k.name, k.version);
  }

  const byName = new Map<string, Keyed[]>();
  for (const r of rows.values()) {
    let list = byName.get(r.name);
    if (!list) byName.set(r.name, (list = []));
    list.push(r);
  }

  const out: Keyed[] = [];
  for (const [name, versions] of byName) {
    let latest: Keyed | undefined;
    const received = touched.get(name);
    const live = versions.filter((v) => official(v.entry)?.status !== 'deleted');
    if (received) {
      const flagged = received.filter((r) => official(r.entry)?.isLatest === true && official(r.entry)?.status !== 'deleted');
      latest = flagged.length > 1 ? pickLatest(flagged, candidate) : flagged[0];
      if (!latest) {
        const held = previousHolder.get(name);
        const holder = held === undefined ? undefined : versions.find((v) => v.version === held);
        if (holder && official(holder.entry)?.status !== 'deleted') latest = holder;
      }
    } else {
      const flagged = versions.filter((v) => official(v.entry)?.isLatest === true);
      if (flagged.length === 1) latest = flagged[0];
      else if (flagged.length > 1) latest = pickLatest(flagged, candidate);
    }
    latest ??= pickLatest(live.length ? live : versions, candidate);
    for (const v of versions) out.push({ ...v, entry: withLatest(v.entry, v === latest) });
  }
  out.sort(compareKeys);
  return { entries: out.map((r) => r.entry), skipped };
}
