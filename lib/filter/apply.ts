import type { Group, ImageMetadata, RemoteServerMetadata, ToolhiveRegistry } from '../formats/toolhive-schema.ts';
import { OFFICIAL_META_KEY, type ServerJson, type ServerResponse } from '../formats/upstream-schema.ts';
import { pickLatest, responseCandidate } from '../formats/versions.ts';
import { compileFilter, matchesFilter, type CompiledFilter } from './match.ts';
import type { FilterSpec } from './spec.ts';
import { serverJsonSubject, toolhiveSubject } from './subject.ts';

/** Filters over whole registries in either format. Pure: inputs are never modified. */

function compiled(spec: FilterSpec | CompiledFilter | undefined): CompiledFilter {
  return spec !== undefined && 'keepsAll' in spec ? spec : compileFilter(spec);
}

function filterMap<T extends ImageMetadata | RemoteServerMetadata>(map: Record<string, T>, kind: 'image' | 'remote', f: CompiledFilter): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key in map) {
    const entry = map[key] as T;
    if (matchesFilter(f, toolhiveSubject(key, entry, kind))) out[key] = entry;
  }
  return out;
}

/** A ToolHive registry with only the entries the filter keeps (group members are filtered too). */
export function filterToolhiveRegistry(registry: ToolhiveRegistry, spec: FilterSpec | CompiledFilter | undefined): ToolhiveRegistry {
  const f = compiled(spec);
  if (f.keepsAll) return registry;
  const out: ToolhiveRegistry = { ...registry };
  if (registry.servers) out.servers = filterMap(registry.servers, 'image', f);
  if (registry.remote_servers) out.remote_servers = filterMap(registry.remote_servers, 'remote', f);
  if (registry.groups) {
    out.groups = registry.groups.map((g) => {
      const group: Group = { ...g };
      if (g.servers) group.servers = filterMap(g.servers, 'image', f);
      if (g.remote_servers) group.remote_servers = filterMap(g.remote_servers, 'remote', f);
      return group;
    });
  }
  return out;
}

export function filterServerJsons(servers: readonly ServerJson[], spec: FilterSpec | CompiledFilter | undefined): ServerJson[] {
  const f = compiled(spec);
  if (f.keepsAll) return servers.slice();
  return servers.filter((s) => matchesFilter(f, serverJsonSubject(s)));
}

/**
 * Registry API entries. A server is kept or dropped as a whole: the decision is made on its
 * latest version (the one flagged `isLatest`, else the latest by the registry's rule), so a
 * filter never leaves a partial version history behind.
 */
export function filterServerResponses(entries: readonly ServerResponse[], spec: FilterSpec | CompiledFilter | undefined): ServerResponse[] {
  const f = compiled(spec);
  if (f.keepsAll) return entries.slice();
  const byName = new Map<string, ServerResponse[]>();
  for (const e of entries) {
    const list = byName.get(e.server.name);
    if (list) list.push(e);
    else byName.set(e.server.name, [e]);
  }
  const keep = new Set<string>();
  for (const [name, versions] of byName) {
    const latest = versions.length === 1 ? versions[0] : (versions.find((v) => v._meta?.[OFFICIAL_META_KEY]?.isLatest === true) ?? pickLatest(versions, responseCandidate));
    if (latest && matchesFilter(f, serverJsonSubject(latest.server))) keep.add(name);
  }
  return entries.filter((e) => keep.has(e.server.name));
}
