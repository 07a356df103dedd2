import { filterServerResponses, filterToolhiveRegistry } from '../filter/apply.ts';
import { compileFilter } from '../filter/match.ts';
import type { FilterSpec } from '../filter/spec.ts';
import { contentHash } from '../formats/content-hash.ts';
import type { ParsedDocument } from '../formats/parse.ts';
import { DEFAULT_REGISTRY_VERSION, upstreamToToolhive } from '../formats/registry-conversion.ts';
import { TOOLHIVE_REGISTRY_SCHEMA_URL, type ImageMetadata, type RemoteServerMetadata, type ToolhiveRegistry } from '../formats/toolhive-schema.ts';
import { TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL, type ServerJson, type UpstreamRegistryFile } from '../formats/upstream-schema.ts';

/**
 * What an import does to a target document, decided without I/O: the incoming servers
 * (filtered, converted to the target format) merged into or replacing the servers the target
 * holds, with one outcome per server. An import that changes no server keeps the target's
 * own timestamp, so its output is byte-for-byte what the same import wrote last time.
 */

export type ImportMode = 'merge' | 'replace';
export type TargetFormat = 'toolhive' | 'upstream';

export type ServerOutcome = 'added' | 'updated' | 'unchanged' | 'kept' | 'removed' | 'skipped';

export interface ServerReport {
  /** ToolHive registry key (toolhive target) or upstream server name */
  server: string;
  /** upstream version (upstream target) */
  version?: string;
  outcome: ServerOutcome;
  /** why a server was skipped, kept or removed */
  reason?: string;
}

export interface ImportCounts {
  added: number;
  updated: number;
  unchanged: number;
  /** target servers the import did not mention (merge) */
  kept: number;
  /** target servers the import dropped (replace) */
  removed: number;
  skippedInvalid: number;
  skippedFiltered: number;
  /** servers in the written document */
  total: number;
}

export interface ImportPlan {
  format: TargetFormat;
  /** the document to write */
  document: ToolhiveRegistry | UpstreamRegistryFile;
  /** `document` as written: pretty JSON with a final newline */
  text: string;
  report: ServerReport[];
  counts: ImportCounts;
  /** false when the target already holds exactly `text` */
  changed: boolean;
}

export interface ImportRequest {
  incoming: ParsedDocument;
  /** the target as it is now; null when it does not exist yet */
  existing: { document: ParsedDocument; text: string } | null;
  mode: ImportMode;
  /** format to write; the incoming format when absent */
  convertTo?: TargetFormat | undefined;
  filter?: FilterSpec | undefined;
  /** RFC 3339 time stamped on a changed document */
  now: string;
}

/** One server of the target format, keyed by its identity there. */
interface Entry {
  id: string;
  server: string;
  version?: string;
  kind: 'image' | 'remote' | 'upstream';
  value: ImageMetadata | RemoteServerMetadata | ServerJson;
}

interface View {
  entries: Map<string, Entry>;
  skipped: ServerReport[];
  version?: string | undefined;
  lastUpdated?: string | undefined;
}

function toolhiveView(doc: ParsedDocument, filter: FilterSpec | undefined): View {
  const skipped: ServerReport[] = [];
  let registry: ToolhiveRegistry;
  if (doc.toolhive) {
    registry = filterToolhiveRegistry(doc.toolhive, filter);
    for (const [map, all] of [['servers', doc.toolhive.servers], ['remote_servers', doc.toolhive.remote_servers]] as const) {
      const kept = registry[map] ?? {};
      for (const key of Object.keys(all ?? {})) if (!(key in kept)) skipped.push({ server: key, outcome: 'skipped', reason: 'filtered out' });
    }
  } else {
    const kept = filterServerResponses(doc.servers, filter);
    const keptNames = new Set(kept.map((r) => r.server.name));
    for (const name of new Set(doc.servers.map((r) => r.server.name))) if (!keptNames.has(name)) skipped.push({ server: name, outcome: 'skipped', reason: 'filtered out' });
    const converted = upstreamToToolhive(kept, { version: doc.version, lastUpdated: doc.lastUpdated });
    registry = converted.registry;
    for (const s of converted.skipped) skipped.push({ server: s.server, version: s.version, outcome: 'skipped', reason: `invalid: ${s.message}` });
  }
  const entries = new Map<string, Entry>();
  for (const [key, value] of Object.entries(registry.servers ?? {})) entries.set(key, { id: key, server: key, kind: 'image', value });
  for (const [key, value] of Object.entries(registry.remote_servers ?? {})) entries.set(key, { id: key, server: key, kind: 'remote', value });
  return { entries, skipped, version: doc.version, lastUpdated: doc.lastUpdated };
}

function upstreamView(doc: ParsedDocument, filter: FilterSpec | undefined): View {
  const skipped: ServerReport[] = [];
  const kept = filterServerResponses(doc.servers, filter);
  const keptNames = new Set(kept.map((r) => r.server.name));
  for (const name of new Set(doc.servers.map((r) => r.server.name))) if (!keptNames.has(name)) skipped.push({ server: name, outcome: 'skipped', reason: 'filtered out' });
  const entries = new Map<string, Entry>();
  for (const r of kept) {
    const id = `${r.server.name}@${r.server.version}`;
    entries.set(id, { id, server: r.server.name, version: r.server.version, kind: 'upstream', value: r.server });
  }
  return { entries, skipped, version: doc.version, lastUpdated: doc.lastUpdated };
}

/** One report per invalid server, however many problems it has. */
function invalidReports(doc: ParsedDocument): ServerReport[] {
  const byServer = new Map<string, string[]>();
  for (const p of doc.invalid) {
    const server = p.server ?? p.path;
    const list = byServer.get(server) ?? [];
    list.push(`${p.path}: ${p.message}`);
    byServer.set(server, list);
  }
  return [...byServer].map(([server, problems]) => ({ server, outcome: 'skipped' as const, reason: `invalid: ${problems.join('; ')}` }));
}

function report(e: Entry, outcome: ServerOutcome, reason?: string): ServerReport {
  return { server: e.server, ...(e.version !== undefined ? { version: e.version } : {}), outcome, ...(reason !== undefined ? { reason } : {}) };
}

const byId = (a: Entry, b: Entry) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function planImport(request: ImportRequest): ImportPlan {
  const format: TargetFormat = request.convertTo ?? request.incoming.format;
  const filter = compileFilter(request.filter).keepsAll ? undefined : request.filter;
  const view = format === 'toolhive' ? toolhiveView : upstreamView;
  const incoming = view(request.incoming, filter);
  const existing = request.existing ? view(request.existing.document, undefined) : { entries: new Map<string, Entry>(), skipped: [] };

  const out = new Map<string, Entry>();
  const reports: ServerReport[] = [];
  const counts: ImportCounts = { added: 0, updated: 0, unchanged: 0, kept: 0, removed: 0, skippedInvalid: 0, skippedFiltered: 0, total: 0 };
  for (const e of [...incoming.entries.values()].sort(byId)) {
    const before = existing.entries.get(e.id);
    const outcome: ServerOutcome = !before ? 'added' : before.kind !== e.kind || contentHash(before.value) !== contentHash(e.value) ? 'updated' : 'unchanged';
    counts[outcome as 'added' | 'updated' | 'unchanged']++;
    reports.push(report(e, outcome));
    out.set(e.id, e);
  }
  for (const e of [...existing.entries.values()].sort(byId)) {
    if (incoming.entries.has(e.id)) continue;
    if (request.mode === 'merge') {
      counts.kept++;
      reports.push(report(e, 'kept', 'in the target, not in the import'));
      out.set(e.id, e);
    } else {
      counts.removed++;
      reports.push(report(e, 'removed', 'not in the import (mode replace)'));
    }
  }
  for (const s of [...incoming.skipped, ...invalidReports(request.incoming)]) {
    if (s.reason === 'filtered out') counts.skippedFiltered++;
    else counts.skippedInvalid++;
    reports.push(s);
  }
  counts.total = out.size;

  const entriesChanged = counts.added + counts.updated + counts.removed > 0 || request.existing === null;
  // unchanged servers keep the target's timestamp, so that re-running an import writes the same bytes
  const lastUpdated = (!entriesChanged && existing.lastUpdated) || request.now;
  const version = request.incoming.version ?? existing.version ?? DEFAULT_REGISTRY_VERSION;
  const sorted = [...out.values()].sort(byId);
  const document = format === 'toolhive' ? toolhiveDocument(sorted, version, lastUpdated, request.incoming.toolhive) : upstreamDocument(sorted, version, lastUpdated);
  const text = `${JSON.stringify(document, null, 2)}\n`;
  return { format, document, text, report: reports, counts, changed: request.existing?.text !== text };
}

function toolhiveDocument(entries: readonly Entry[], version: string, lastUpdated: string, source: ToolhiveRegistry | undefined): ToolhiveRegistry {
  const servers: Record<string, ImageMetadata> = {};
  const remote: Record<string, RemoteServerMetadata> = {};
  for (const e of entries) {
    if (e.kind === 'remote') remote[e.id] = e.value as RemoteServerMetadata;
    else servers[e.id] = e.value as ImageMetadata;
  }
  const doc: ToolhiveRegistry = { $schema: source?.$schema ?? TOOLHIVE_REGISTRY_SCHEMA_URL, version, last_updated: lastUpdated, servers };
  if (Object.keys(remote).length > 0) doc.remote_servers = remote;
  return doc;
}

function upstreamDocument(entries: readonly Entry[], version: string, lastUpdated: string): UpstreamRegistryFile {
  return {
    $schema: TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL,
    version,
    meta: { last_updated: lastUpdated },
    data: { servers: entries.map((e) => e.value as ServerJson) },
  };
}

/** One line saying what an import did (or would do). */
export function summarizeImport(counts: ImportCounts, dryRun: boolean): string {
  const verb = dryRun ? 'would write' : 'wrote';
  return `${verb} ${counts.total} servers: ${counts.added} added, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.kept} kept, ${counts.removed} removed, ${counts.skippedInvalid + counts.skippedFiltered} skipped (${counts.skippedInvalid} invalid, ${counts.skippedFiltered} filtered)`;
}
