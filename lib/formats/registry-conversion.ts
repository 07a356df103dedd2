import { isRegistryError } from '../errors.ts';
import { assignToolhiveKeys } from './names.ts';
import {
  TOOLHIVE_REGISTRY_SCHEMA_URL,
  type Group,
  type ImageMetadata,
  type RemoteServerMetadata,
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
import { serverJsonToToolhive, type ToolhiveConverted } from './upstream-to-toolhive.ts';
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

/** ToolHive's file envelope of upstream documents (what `mcpreg convert --to upstream` writes). */
export function toolhiveToUpstreamFile(registry: ToolhiveRegistry, options: { lastUpdated?: string } = {}): UpstreamRegistryFile {
  return {
    $schema: TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL,
    version: registry.version || DEFAULT_REGISTRY_VERSION,
    meta: { last_updated: registry.last_updated || options.lastUpdated || rfc3339Now() },
    data: {
      servers: toolhiveToUpstream(registry),
      groups: (registry.groups ?? []).map((g) => ({ name: g.name, description: g.description, servers: toolhiveToUpstream(g) })),
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
  const registry: ToolhiveRegistry = {
    $schema: TOOLHIVE_REGISTRY_SCHEMA_URL,
    version: options.version || DEFAULT_REGISTRY_VERSION,
    last_updated: options.lastUpdated || rfc3339Now(),
    servers,
  };
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

function convertEntries(items: readonly (ServerJson | ServerResponse)[]): {
  servers: Record<string, ImageMetadata>;
  remote_servers: Record<string, RemoteServerMetadata>;
  skipped: SkippedServer[];
} {
  const byNameMap = new Map<string, ServerResponse[]>();
  for (const item of items) {
    const response = isResponse(item) ? item : { server: item };
    const list = byNameMap.get(response.server.name);
    if (list) list.push(response);
    else byNameMap.set(response.server.name, [response]);
  }
  const converted = new Map<string, ToolhiveConverted>();
  const skipped: SkippedServer[] = [];
  for (const [name, versions] of byNameMap) {
    const chosen = latestOf(versions);
    try {
      converted.set(name, serverJsonToToolhive(chosen.server));
    } catch (e) {
      if (!isRegistryError(e)) throw e;
      skipped.push({ server: name, version: chosen.server.version, message: e.message });
    }
  }
  const keys = assignToolhiveKeys(converted.keys());
  const sorted = [...converted].map(([name, c]) => [keys.get(name) as string, c] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const servers: Record<string, ImageMetadata> = {};
  const remote_servers: Record<string, RemoteServerMetadata> = {};
  for (const [key, c] of sorted) {
    if (c.kind === 'image') servers[key] = c.entry;
    else remote_servers[key] = c.entry;
  }
  return { servers, remote_servers, skipped };
}

function latestOf(versions: ServerResponse[]): ServerResponse {
  if (versions.length === 1) return versions[0] as ServerResponse;
  const flagged = versions.filter((v) => v._meta?.[OFFICIAL_META_KEY]?.isLatest === true);
  if (flagged.length === 1) return flagged[0] as ServerResponse;
  return pickLatest(flagged.length > 1 ? flagged : versions, responseCandidate) as ServerResponse;
}
