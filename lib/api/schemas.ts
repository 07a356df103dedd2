import { z } from 'zod';
import { ImageMetadata, RemoteServerMetadata } from '../formats/toolhive-schema.ts';
import { ServerJson } from '../formats/upstream-schema.ts';
import { OFFICIAL_META } from './entry.ts';
import { DEFAULT_LIMIT, MAX_LIMIT } from './params.ts';

/**
 * The query API's request and response shapes as zod schemas: the source of /openapi.json
 * and of the response checks in the conformance tests. Server documents reuse the format
 * schemas of lib/formats. Not imported on the serving hot path (zod costs cold start).
 */

const DateTime = z.string().describe('RFC 3339 timestamp');

/** `_meta["io.modelcontextprotocol.registry/official"]`: closed, exactly the documented keys */
export const OfficialMeta = z.strictObject({
  status: z.enum(['active', 'deprecated', 'deleted']),
  statusChangedAt: DateTime.optional(),
  statusMessage: z.string().max(500).optional(),
  publishedAt: DateTime,
  updatedAt: DateTime,
  isLatest: z.boolean(),
});

export const ServerResponse = z
  .object({
    server: ServerJson,
    _meta: z.looseObject({ [OFFICIAL_META]: OfficialMeta }).describe('registry-managed metadata; other keys are namespaced (reverse DNS)'),
  })
  .meta({ id: 'ServerResponse' });

export const ServerList = z
  .strictObject({
    servers: z.array(ServerResponse),
    metadata: z.strictObject({
      nextCursor: z.string().optional().describe('present only when the page is full; pass it as `cursor` for the next page'),
      count: z.number().int().min(0).describe('items in this page'),
    }),
  })
  .meta({ id: 'ServerList' });

export const ProblemError = z.object({ message: z.string(), location: z.string().optional(), value: z.unknown().optional() });

export const Problem = z
  .looseObject({
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(ProblemError).optional(),
    candidates: z.array(z.string()).optional().describe('registries holding an ambiguous server name (409)'),
  })
  .meta({ id: 'Problem' });

export const RegistryInfo = z
  .object({
    name: z.string(),
    namespace: z.string(),
    displayName: z.string().optional(),
    description: z.string().optional(),
    format: z.enum(['toolhive', 'upstream']).describe('format the source was read as'),
    serverCount: z.number().int().min(0),
    versionCount: z.number().int().min(0),
    lastSyncTime: DateTime,
    snapshot: z.object({ hash: z.string(), revision: z.string().optional() }),
    upstreamApi: z.string().describe('path of this registry’s upstream-compatible API'),
  })
  .meta({ id: 'RegistryInfo' });

/** a registry left out of a listing because its snapshot cannot be read (registry-failures.ts) */
export const RegistryFailure = z
  .object({ registry: z.string().describe('namespace/name'), code: z.string().describe('error code, e.g. invalid_document or not_found'), message: z.string() })
  .meta({ id: 'RegistryFailure' });
const Failures = z.array(RegistryFailure).optional().describe('registries left out because their snapshot cannot be read; absent when none');

export const RegistryList = z.object({ registries: z.array(RegistryInfo), errors: Failures }).meta({ id: 'RegistryList' });

const ItemFields = { name: z.string().describe('ToolHive name (registry key)'), registry: z.string().describe('namespace/name of the registry') };
export const ToolhiveServer = z.union([ImageMetadata.extend(ItemFields), RemoteServerMetadata.extend(ItemFields)]).meta({ id: 'ToolhiveServer' });

/** `total` for the whole listing; a page (`limit`, `cursor`) has `metadata` instead */
const PageMetadata = z.object({ count: z.number().int().min(0), nextCursor: z.string().optional() });
export const ToolhiveServerList = z.object({ servers: z.array(ToolhiveServer), total: z.number().int().min(0).optional(), metadata: PageMetadata.optional(), errors: Failures }).meta({ id: 'ToolhiveServerList' });

export const UpstreamServerList = z
  .object({
    servers: z.array(ServerResponse),
    metadata: PageMetadata,
    errors: Failures,
  })
  .meta({ id: 'UpstreamServerList' });

export const SearchResult = z
  .object({
    registry: z.string().describe('namespace/name of the registry'),
    name: z.string().describe('ToolHive name (registry key)'),
    score: z.number().describe('relevance: higher is better; comparable within one answer'),
    exactName: z.literal(true).optional().describe('the query is this server\'s name'),
    matches: z.record(z.string(), z.array(z.enum(['names', 'title', 'tags', 'tools', 'description']))).describe('indexed terms that matched, and where'),
    server: ToolhiveServer,
  })
  .meta({ id: 'SearchResult' });

export const SearchResults = z
  .object({
    query: z.string(),
    results: z.array(SearchResult),
    total: z.number().int().min(0).describe('hits across every page'),
    offset: z.number().int().min(0),
    limit: z.number().int().min(1),
    nextOffset: z.number().int().min(1).optional().describe('offset of the next page, when there is one'),
    errors: Failures,
  })
  .meta({ id: 'SearchResults' });

export const Status = z.object({ status: z.string() });

/** query parameters of GET /v0.1/servers (documentation; params.ts validates at runtime) */
export const ListQuery = z.object({
  cursor: z.string().optional().describe('`nextCursor` of the previous page (`name:version`)'),
  limit: z.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  search: z.string().optional().describe('case-insensitive substring of the server name'),
  // an empty value is no filter, as for every parameter here; JSON Schema needs the union to say so
  updated_since: z
    .union([z.string().meta({ format: 'date-time' }), z.literal('')])
    .optional()
    .describe('only versions updated strictly after this RFC 3339 instant (includes deleted ones; empty: no filter)'),
  version: z.string().optional().describe('`latest` or an exact version'),
  include_deleted: z.boolean().default(false),
});

/** the filters of /api/v1/servers, which /api/v1/search shares */
const NAMESPACE = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
const LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
export const REGISTRY_REF = `${NAMESPACE}/${LABEL}(\\.${LABEL})*`;
const ServerFilters = {
  registry: z
    .string()
    .regex(new RegExp(`^${REGISTRY_REF}(,${REGISTRY_REF})*$`))
    .optional()
    .describe('namespace/name; repeat or comma-separate for several'),
  category: z.string().optional(),
  transport: z.string().optional(),
  tier: z.string().optional(),
  tag: z.string().optional(),
  status: z.string().optional(),
};

export const SearchQuery = z.object({
  q: z
    .string()
    .max(256)
    // at least one character that String.prototype.trim keeps (spelt out: regex engines differ on \s)
    .regex(/[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/)
    .describe('words to search for (required): names and titles weigh most, then tags and tool names, then descriptions; prefixes and small typos match'),
  ...ServerFilters,
  limit: z.number().int().min(1).max(100).default(20),
  offset: z.number().int().min(0).max(10_000).default(0),
});

export const ServersQuery = z.object({
  ...ServerFilters,
  search: z.string().optional().describe('case-insensitive substring of name, title, description or a tag'),
  format: z.enum(['toolhive', 'upstream']).optional(),
  limit: z.number().int().min(1).max(1000).optional().describe('page size: the listing comes in pages (metadata.count, metadata.nextCursor) instead of whole'),
  cursor: z.string().optional().describe('metadata.nextCursor of the previous page'),
});
