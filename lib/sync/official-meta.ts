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

function cleanOfficial(o: OfficialMeta): OfficialMeta {
  const out: OfficialMeta = { status: o.status };
  if (o.statusChangedAt !== undefined) out.statusChangedAt = o.statusChangedAt;
  if (o.statusMessage !== undefined) out.statusMessage = o.statusMessage;
  if (o.publishedAt !== undefined) out.publishedAt = o.publishedAt;
  if (o.updatedAt !== undefined) out.updatedAt = o.updatedAt;
  if (o.isLatest !== undefined) out.isLatest = o.isLatest;
  return out;
}

function withOfficial(e: ServerResponse, official: OfficialMeta): ServerResponse {
  return { ...e, _meta: { ...(e._meta ?? {}), [OFFICIAL_META_KEY]: official } };
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
}

export function assignOfficialMeta(entries: readonly ServerResponse[], options: AssignOptions): ServerResponse[] {
  const { previous, now } = options;
  const out: ServerResponse[] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as ServerResponse;
    const given = e._meta?.[OFFICIAL_META_KEY];
    if (given?.publishedAt) {
      out[i] = withOfficial(e, cleanOfficial({ ...given, updatedAt: given.updatedAt ?? given.publishedAt }));
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
    out[i] = withOfficial(e, cleanOfficial(official));
  }
  out.sort(compareEntries);
  return markLatest(out);
}

/** Exactly one `isLatest: true` per name (entries sorted by name). Mutates the official blocks of `sorted`. */
export function markLatest(sorted: ServerResponse[]): ServerResponse[] {
  let start = 0;
  while (start < sorted.length) {
    const name = (sorted[start] as ServerResponse).server.name;
    let end = start + 1;
    while (end < sorted.length && (sorted[end] as ServerResponse).server.name === name) end++;
    const group = sorted.slice(start, end);
    const flagged = group.filter((e) => e._meta?.[OFFICIAL_META_KEY]?.isLatest === true);
    const latest = flagged.length === 1 ? flagged[0] : pickLatest(group, responseCandidate);
    for (const e of group) {
      const official = e._meta?.[OFFICIAL_META_KEY];
      if (official) official.isLatest = e === latest;
    }
    start = end;
  }
  return sorted;
}
