import { fail, ok, problem, type Outcome } from './problem.ts';
import { categoriesOf as filterCategories } from '../filter/categories.ts';
import { parseRegistryRef } from './router.ts';
import { buildReverseDnsName } from '../formats/names.ts';

/**
 * The ToolHive side of the API (`/api/v1/servers`): a snapshot's `toolhive.json` indexed by
 * server, the filters of the endpoint, and the response items. Pure functions.
 *
 * Filters: `registry` (`namespace/name`), `category`, `transport`, `tier`, `tag`, `status`
 * each match case-insensitively and exactly; a filter may be repeated or comma-separated
 * (any value matches); different filters must all match. `search` is a case-insensitive
 * substring of the name, title, description or a tag.
 */

export type ToolhiveKind = 'image' | 'remote';

/** what the filters look at, from either format */
export interface Facets {
  /** every name the server answers to, lower-cased */
  names: string[];
  tier?: string;
  status?: string;
  transports: string[];
  tags: string[];
  categories: string[];
  /** lower-cased title + description, for search */
  text: string;
}

export interface ToolhiveServer {
  /** the registry key (ToolHive's name) */
  key: string;
  kind: ToolhiveKind;
  entry: Record<string, unknown>;
  facets: Facets;
  /** the upstream name (the entry's `name`, else the key's conversion), when known without the entry */
  upstreamName?: string;
}

export interface ToolhiveIndex {
  version?: string;
  lastUpdated?: string;
  /** by key */
  servers: ToolhiveServer[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

const lower = (s: string) => s.toLowerCase();

/** categories, by the same rule as filters (lib/filter/categories.ts): custom_metadata, else tags */
export function categoriesOf(entry: Record<string, unknown>): string[] {
  return filterCategories(entry.custom_metadata, strings(entry.tags));
}

export function toolhiveFacets(key: string, entry: Record<string, unknown>): Facets {
  const names = [lower(key)];
  if (typeof entry.name === 'string' && lower(entry.name) !== names[0]) names.push(lower(entry.name));
  return {
    names,
    ...(typeof entry.tier === 'string' ? { tier: lower(entry.tier) } : {}),
    ...(typeof entry.status === 'string' ? { status: lower(entry.status) } : {}),
    transports: strings(entry.transport).map(lower),
    tags: strings(entry.tags).map(lower),
    categories: categoriesOf(entry).map(lower),
    text: `${typeof entry.title === 'string' ? entry.title : ''}\n${typeof entry.description === 'string' ? entry.description : ''}`.toLowerCase(),
  };
}

/** Indexes a ToolHive registry.json (the snapshot's toolhive.json). Throws on a non-object. */
export function indexToolhive(doc: unknown): ToolhiveIndex {
  if (!isRecord(doc)) throw new Error('toolhive.json is not an object');
  const servers: ToolhiveServer[] = [];
  for (const [field, kind] of [
    ['servers', 'image'],
    ['remote_servers', 'remote'],
  ] as const) {
    const map = doc[field];
    if (!isRecord(map)) continue;
    for (const [key, entry] of Object.entries(map)) {
      if (!isRecord(entry)) continue;
      servers.push({ key, kind, entry, facets: toolhiveFacets(key, entry) });
    }
  }
  servers.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    ...(typeof doc.version === 'string' ? { version: doc.version } : {}),
    ...(typeof doc.last_updated === 'string' ? { lastUpdated: doc.last_updated } : {}),
    servers,
  };
}

export interface ServerFilter {
  registries?: Set<string>;
  categories?: Set<string>;
  transports?: Set<string>;
  tiers?: Set<string>;
  tags?: Set<string>;
  statuses?: Set<string>;
  search?: string;
}

function multi(query: URLSearchParams, name: string): Set<string> | undefined {
  const values = query
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== '');
  return values.length > 0 ? new Set(values) : undefined;
}

export function parseServerFilter(query: URLSearchParams): Outcome<ServerFilter> {
  const filter: ServerFilter = {};
  // exactly what /openapi.json's pattern allows: namespace/name items, comma-separated (or the
  // parameter repeated); no spaces, no empty item, no empty value
  const registries = query.getAll('registry').flatMap((v) => v.split(','));
  if (registries.length > 0) {
    for (const r of registries) {
      if (!parseRegistryRef(r)) {
        return fail(problem(400, `registry must be namespace/name, got ${JSON.stringify(r)}`, { errors: [{ message: 'expected namespace/name', location: 'query.registry', value: r }] }));
      }
    }
    filter.registries = new Set(registries);
  }
  for (const [param, field] of [
    ['category', 'categories'],
    ['transport', 'transports'],
    ['tier', 'tiers'],
    ['tag', 'tags'],
    ['status', 'statuses'],
  ] as const) {
    const set = multi(query, param);
    if (set) filter[field] = set;
  }
  const search = query.get('search')?.trim();
  if (search) filter.search = search.toLowerCase();
  return ok(filter);
}

function anyIn(set: Set<string> | undefined, values: readonly string[]): boolean {
  if (!set) return true;
  for (const v of values) if (set.has(v)) return true;
  return false;
}

export function matchesFilter(f: Facets, filter: ServerFilter): boolean {
  if (filter.tiers && !(f.tier !== undefined && filter.tiers.has(f.tier))) return false;
  if (filter.statuses && !(f.status !== undefined && filter.statuses.has(f.status))) return false;
  if (!anyIn(filter.transports, f.transports)) return false;
  if (!anyIn(filter.tags, f.tags)) return false;
  if (!anyIn(filter.categories, f.categories)) return false;
  if (filter.search !== undefined) {
    const s = filter.search;
    if (!f.names.some((n) => n.includes(s)) && !f.text.includes(s) && !f.tags.some((t) => t.includes(s))) return false;
  }
  return true;
}

/** A server as the ToolHive-format endpoints return it: the entry, its name and its registry. */
export function toolhiveItem(server: ToolhiveServer, registry: string): Record<string, unknown> {
  return { ...server.entry, name: server.key, registry };
}

/**
 * Does a server answer to this name: its key, or its upstream name (the one it carries, else
 * the one its key converts to, `io.github.stacklok/<key>`, as in the snapshot's upstream.json)?
 */
export function answersTo(server: ToolhiveServer, name: string): boolean {
  if (server.key === name) return true;
  if (server.upstreamName !== undefined) return server.upstreamName === name;
  return (typeof server.entry.name === 'string' ? server.entry.name : buildReverseDnsName(server.key)) === name;
}
