import { buildReverseDnsName, extractSimpleName } from '../formats/names.ts';
import { categoriesOf } from './categories.ts';
import { isRecord, readExtension } from '../formats/toolhive-extension.ts';
import type { ToolhiveEntry, ToolhiveKind } from '../formats/toolhive-schema.ts';
import type { ServerJson, ServerResponse } from '../formats/upstream-schema.ts';
import { primaryExtensionKey } from '../formats/upstream-to-toolhive.ts';

/**
 * What a filter looks at, extracted the same way from either format so that one filter gives
 * the same answer for a server whichever format its source uses. Every value is lower-cased
 * (matching is case-insensitive).
 */
export interface FilterSubject {
  /** every name the server is known by: its ToolHive key, its upstream name and that name's simple part */
  names: string[];
  tags: string[];
  tiers: string[];
  transports: string[];
  categories: string[];
}

function lower(values: Iterable<unknown>): string[] {
  const out = new Set<string>();
  for (const v of values) if (typeof v === 'string' && v !== '') out.add(v.toLowerCase());
  return [...out];
}

export { categoriesOf };

function stringList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A ToolHive entry; `key` is its registry key. The default transport is the one conversion uses. */
export function toolhiveSubject(key: string, entry: ToolhiveEntry, kind: ToolhiveKind): FilterSubject {
  const tags = lower(stringList(entry.tags));
  const upstreamName = entry.name || buildReverseDnsName(key);
  return {
    names: lower([key, upstreamName, extractSimpleName(upstreamName)]),
    tags,
    tiers: lower([entry.tier]),
    transports: lower([entry.transport || (kind === 'image' ? 'stdio' : 'sse')]),
    categories: categoriesOf(entry.custom_metadata, tags),
  };
}

/** A server.json; ToolHive fields come from its ToolHive extension. Transports: every package and remote. */
export function serverJsonSubject(server: ServerJson): FilterSubject {
  const ext = readExtension(server, primaryExtensionKey(server));
  const tags = lower(stringList(ext?.tags));
  const transports: unknown[] = [];
  for (const p of server.packages ?? []) transports.push(p.transport.type);
  for (const r of server.remotes ?? []) transports.push(r.type);
  return {
    names: lower([server.name, extractSimpleName(server.name)]),
    tags,
    tiers: lower([ext?.tier]),
    transports: lower(transports),
    categories: categoriesOf(ext?.custom_metadata, tags),
  };
}

export function serverResponseSubject(entry: ServerResponse): FilterSubject {
  return serverJsonSubject(entry.server);
}
