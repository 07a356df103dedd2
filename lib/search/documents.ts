import { readExtension } from '../formats/toolhive-extension.ts';
import type { ServerJson } from '../formats/upstream-schema.ts';

/**
 * What the search index reads of a server, from either format. Pure.
 *
 * `names` are the names a server answers to, as a person types them: its ToolHive key
 * (`postgres-mcp-pro`) and the last segment of its upstream name (`io.github.stacklok/github`
 * → `github`); the publisher prefix is left out, since nearly every name shares one.
 */
export interface SearchDocument {
  /** position of the server in the caller's list; search hits refer to it */
  id: number;
  names: string[];
  title: string;
  tags: string[];
  /** tool names (`execute_sql`) */
  tools: string[];
  description: string;
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

/** `io.github.stacklok/github` → `github` */
export function shortName(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash < 0 ? name : name.slice(slash + 1);
}

function distinct(values: string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))];
}

/** A ToolHive registry entry (`servers` or `remote_servers` of registry.json) under its key. */
export function toolhiveSearchDocument(id: number, key: string, entry: Record<string, unknown>): SearchDocument {
  return {
    id,
    names: distinct([key, shortName(text(entry.name))]),
    title: text(entry.title),
    tags: strings(entry.tags),
    tools: strings(entry.tools),
    description: text(entry.description),
  };
}

/** An upstream server.json (one version); ToolHive's extension adds tags and tools. */
export function upstreamSearchDocument(id: number, server: ServerJson): SearchDocument {
  const ext = readExtension(server, undefined) ?? {};
  return {
    id,
    names: distinct([shortName(server.name)]),
    title: text(server.title) || text(ext.title),
    tags: strings(ext.tags),
    tools: strings(ext.tools),
    description: text(server.description) || text(ext.description),
  };
}
