import { isRegistryError } from '../errors.ts';
import { assignToolhiveKeys } from './names.ts';
import {
  TOOLHIVE_REGISTRY_SCHEMA_URL,
  type Group,
  type ImageMetadata,
  type RemoteServerMetadata,
  type ToolhiveKind,
  type ToolhiveRegistry,
} from './toolhive-schema.ts';
import { imageToServerJson, remoteToServerJson } from './toolhive-to-upstream.ts';
import {
  OFFICIAL_META_KEY,
  TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL,
  type ServerJson,
  type ServerList,
  type ServerResponse,
  type UpstreamGroup,
  type UpstreamRegistryFile,
} from './upstream-schema.ts';
import { serverJsonToToolhive, toolhiveKindOf, type ToolhiveConverted } from './upstream-to-toolhive.ts';
import { pickLatest, responseCandidate } from './versions.ts';

/** Whole registries between the two formats (entries as in toolhive-to-upstream / upstream-to-toolhive). */

export const DEFAULT_REGISTRY_VERSION = '1.0.0';

/** now, as ToolHive writes timestamps (RFC 3339, seconds) */
export function rfc3339Now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function byName(a: ServerJson, b: ServerJson): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Every image and remote entry as server.json, sorted by name (UTF-16 code units). Groups are not included. */
export function toolhiveToUpstream(registry: Pick<ToolhiveRegistry, 'servers' | 'remote_servers'>): ServerJson[] {
  const out: ServerJson[] = [];
  for (const [key, entry] of Object.entries(registry.servers ?? {})) out.push(imageToServerJson(key, entry));
  for (const [key, entry] of Object.entries(registry.remote_servers ?? {})) out.push(remoteToServerJson(key, entry));
  return out.sort(byName);
}

/**
 * ToolHive's file envelope of upstream documents (what `mcpreg convert --to upstream` writes).
 * No `data.groups`: current ToolHive reads none, so groups stay in the ToolHive format only.
 */
export function toolhiveToUpstreamFile(registry: ToolhiveRegistry, options: { lastUpdated?: string } = {}): UpstreamRegistryFile {
  return {
    $schema: TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL,
    version: registry.version || DEFAULT_REGISTRY_VERSION,
    meta: { last_updated: registry.last_updated || options.lastUpdated || rfc3339Now() },
    data: {
      servers: toolhiveToUpstream(registry),
    },
  };
}

/** The registry API's list envelope around entries. */
export function toServerList(servers: ServerResponse[]): ServerList {
  return { servers, metadata: { count: servers.length } };
}

export interface SkippedServer {
  server: string;
  version: string;
  /** why it has no ToolHive form, or `group <name>: …` */
  message: string;
}

export interface ToolhiveConversion {
  registry: ToolhiveRegistry;
  /** servers that have no ToolHive form (e.g. only mcpb packages, or nothing to run) */
  skipped: SkippedServer[];
}

export interface UpstreamToToolhiveOptions {
  /** registry `version` (default 1.0.0) */
  version?: string | undefined;
  /** registry `last_updated` (default now) */
  lastUpdated?: string | undefined;
  /** groups of ToolHive's upstream file envelope, converted to ToolHive groups */
  groups?: readonly UpstreamGroup[] | undefined;
}

function isResponse(item: ServerJson | ServerResponse): item is ServerResponse {
  return typeof (item as ServerResponse).server === 'object' && (item as ServerResponse).server !== null;
}

/**
 * Upstream servers → a ToolHive registry. With several versions of one name, the one flagged
 * `isLatest` by the registry is used, else the latest by the registry's rule (versions.ts).
 * Keys follow assignToolhiveKeys (names.ts); each entry keeps its upstream name in `name`.
 */
export function upstreamToToolhive(items: readonly (ServerJson | ServerResponse)[], options: UpstreamToToolhiveOptions = {}): ToolhiveConversion {
  const { servers, remote_servers, skipped } = convertEntries(items);
  const registry: ToolhiveRegistry = { ...toolhiveHeader(options), servers };
  if (Object.keys(remote_servers).length > 0) registry.remote_servers = remote_servers;
  if (options.groups && options.groups.length > 0) {
    const groups: Group[] = [];
    for (const g of options.groups) {
      const converted = convertEntries(g.servers);
      const group: Group = { name: g.name, description: g.description };
      if (Object.keys(converted.servers).length > 0) group.servers = converted.servers;
      if (Object.keys(converted.remote_servers).length > 0) group.remote_servers = converted.remote_servers;
      groups.push(group);
      for (const s of converted.skipped) skipped.push({ ...s, message: `group ${g.name}: ${s.message}` });
    }
    registry.groups = groups;
  }
  return { registry, skipped };
}

/** The fields of a converted registry that come before its entries, in output order. */
export function toolhiveHeader(options: Pick<UpstreamToToolhiveOptions, 'version' | 'lastUpdated'>): { $schema: string; version: string; last_updated: string } {
  return { $schema: TOOLHIVE_REGISTRY_SCHEMA_URL, version: options.version || DEFAULT_REGISTRY_VERSION, last_updated: options.lastUpdated || rfc3339Now() };
}

function convertEntries(items: readonly (ServerJson | ServerResponse)[]): {
  servers: Record<string, ImageMetadata>;
  remote_servers: Record<string, RemoteServerMetadata>;
  skipped: SkippedServer[];
} {
  const plan = planToolhiveEntries(items);
  const servers: Record<string, ImageMetadata> = {};
  const remote_servers: Record<string, RemoteServerMetadata> = {};
  for (const p of plan.servers) servers[p.key] = convertPlanned(p).entry as ImageMetadata;
  for (const p of plan.remote_servers) remote_servers[p.key] = convertPlanned(p).entry as RemoteServerMetadata;
  return { servers, remote_servers, skipped: plan.skipped };
}

/** A server that becomes a ToolHive entry under `key` (converted by `convertPlanned`). */
export interface PlannedEntry {
  key: string;
  server: ServerJson;
}

/** The ToolHive entries of some upstream servers, decided but not yet built. */
export interface ToolhivePlan {
  /** image entries (`servers`), in key order */
  servers: PlannedEntry[];
  /** remote entries (`remote_servers`), in key order */
  remote_servers: PlannedEntry[];
  /** servers that have no ToolHive form */
  skipped: SkippedServer[];
}

/**
 * Which version of each name becomes which entry under which key, in output order, without
 * building the entries: a writer can then convert and serialise them one at a time instead of
 * holding the whole registry (upstreamToToolhive builds it from the same plan).
 */
export function planToolhiveEntries(items: readonly (ServerJson | ServerResponse)[]): ToolhivePlan {
  // Versions by name, names in order of first appearance. Sources list the versions of a name
  // together (and the pipeline sorts by name), so a name is looked up once per run of it.
  const groups: ServerResponse[][] = [];
  const byNameMap = new Map<string, ServerResponse[]>();
  let lastName: string | undefined;
  let current: ServerResponse[] = [];
  for (const item of items) {
    const response = isResponse(item) ? item : { server: item };
    const name = response.server.name;
    if (name === lastName) {
      current.push(response);
      continue;
    }
    lastName = name;
    const list = byNameMap.get(name);
    if (list) {
      list.push(response);
      current = list;
    } else {
      current = [response];
      byNameMap.set(name, current);
      groups.push(current);
    }
  }
  const chosen: { key: string; server: ServerJson; image: boolean }[] = [];
  const skipped: SkippedServer[] = [];
  for (const versions of groups) {
    const latest = latestOf(versions).server;
    const kind = toolhiveKindOf(latest);
    if (kind !== undefined) {
      // `key` holds the name until the keys are assigned below
      chosen.push({ key: latest.name, server: latest, image: kind === 'image' });
      continue;
    }
    // no ToolHive form: the converter says why
    try {
      serverJsonToToolhive(latest);
    } catch (e) {
      if (!isRegistryError(e)) throw e;
      skipped.push({ server: latest.name, version: latest.version, message: e.message });
      continue;
    }
    throw new Error(`internal: ${latest.name} has no ToolHive kind but converts`);
  }
  const keys = assignToolhiveKeys(chosen.map((c) => c.key));
  const byKey = new Map<string, (typeof chosen)[number]>();
  for (const c of chosen) {
    c.key = keys.get(c.key) as string;
    byKey.set(c.key, c);
  }
  // the keys are distinct: a plain sort of them (UTF-16 code units, as `<`) orders the entries
  const ordered = byKey.size === chosen.length ? [...byKey.keys()].sort().map((k) => byKey.get(k) as (typeof chosen)[number]) : chosen.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const plan: ToolhivePlan = { servers: [], remote_servers: [], skipped };
  for (const c of ordered) (c.image ? plan.servers : plan.remote_servers).push({ key: c.key, server: c.server });
  return plan;
}

/** the ToolHive entry of a planned server */
export function convertPlanned(p: PlannedEntry): ToolhiveConverted {
  return serverJsonToToolhive(p.server);
}

function latestOf(versions: ServerResponse[]): ServerResponse {
  if (versions.length === 1) return versions[0] as ServerResponse;
  const isFlagged = (v: ServerResponse) => v._meta?.[OFFICIAL_META_KEY]?.isLatest === true;
  // the common case, one flagged version, without a filtered copy per name
  let flagged = 0;
  let last: ServerResponse | undefined;
  for (const v of versions) {
    if (isFlagged(v)) {
      flagged++;
      last = v;
    }
  }
  if (flagged === 1) return last as ServerResponse;
  return pickLatest(flagged > 1 ? versions.filter(isFlagged) : versions, responseCandidate) as ServerResponse;
}
