import { OFFICIAL_KEYS } from '../api/entry.ts';
import { filterServerResponses, filterToolhiveRegistry } from '../filter/apply.ts';
import type { FilterSpec } from '../filter/spec.ts';
import type { ParsedDocument } from '../formats/parse.ts';
import { DEFAULT_REGISTRY_VERSION, rfc3339Now, toServerList, upstreamToToolhive } from '../formats/registry-conversion.ts';
import type { ToolhiveRegistry } from '../formats/toolhive-schema.ts';
import { OFFICIAL_META_KEY, TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL, type ServerResponse, type UpstreamRegistryFile } from '../formats/upstream-schema.ts';

/**
 * An export's bytes from a registry's content, decided without I/O. Three formats:
 * `toolhive` (registry.json), `upstream` (ToolHive's upstream file envelope of server.json
 * documents) and `upstream-list` (the registry API's list envelope `{servers:[{server,_meta}],
 * metadata:{count}}`, what `/v0.1/servers` pages through).
 */

export const EXPORT_FORMATS = ['toolhive', 'upstream', 'upstream-list'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];


export interface ExportContent {
  /** the registry in ToolHive form (a snapshot's toolhive.json, or a converted document) */
  toolhive: ToolhiveRegistry;
  /** every version in upstream form, with the registry's official _meta when it has one */
  upstream: readonly ServerResponse[];
}

export interface RenderedExport {
  text: string;
  bytes: number;
  /** distinct servers written */
  serverCount: number;
}

/** A registry document read from a file, as export content (offline `registry export`). */
export function contentOfDocument(doc: ParsedDocument): ExportContent {
  const toolhive = doc.toolhive ?? upstreamToToolhive(doc.servers, { version: doc.version, lastUpdated: doc.lastUpdated, groups: doc.groups }).registry;
  return { toolhive, upstream: doc.servers };
}

/** An entry as the query API serves it (lib/api/entry.ts): the official block reduced to its documented keys. */
function servedMeta(entry: ServerResponse): ServerResponse {
  const official = entry._meta?.[OFFICIAL_META_KEY] as Record<string, unknown> | undefined;
  if (!official) return { server: entry.server };
  const reduced: Record<string, unknown> = {};
  for (const k of OFFICIAL_KEYS) if (official[k] !== undefined) reduced[k] = official[k];
  return { server: entry.server, _meta: { ...entry._meta, [OFFICIAL_META_KEY]: reduced } } as ServerResponse;
}

export function renderExport(content: ExportContent, format: ExportFormat, filter?: FilterSpec): RenderedExport {
  let value: unknown;
  let serverCount: number;
  if (format === 'toolhive') {
    const registry = filterToolhiveRegistry(content.toolhive, filter);
    serverCount = Object.keys(registry.servers ?? {}).length + Object.keys(registry.remote_servers ?? {}).length;
    value = registry;
  } else {
    const kept = filterServerResponses(content.upstream, filter);
    serverCount = new Set(kept.map((e) => e.server.name)).size;
    if (format === 'upstream-list') value = toServerList(kept.map(servedMeta));
    else {
      const file: UpstreamRegistryFile = {
        $schema: TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL,
        version: content.toolhive.version || DEFAULT_REGISTRY_VERSION,
        meta: { last_updated: content.toolhive.last_updated || rfc3339Now() },
        data: { servers: kept.map((e) => e.server) },
      };
      value = file;
    }
  }
  const text = `${JSON.stringify(value, null, 2)}\n`;
  return { text, bytes: Buffer.byteLength(text), serverCount };
}
