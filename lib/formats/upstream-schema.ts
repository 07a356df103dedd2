import { z } from 'zod';

/**
 * The upstream (official MCP registry) formats as zod schemas, one source of truth for their
 * types: `server.json` (schema 2025-12-11, camelCase), the API's `ServerResponse` and list
 * envelope, and ToolHive's file envelope for upstream documents.
 *
 * Every object is loose: unknown keys are kept, never dropped. The checks are the structural
 * ones of the published JSON Schema (required fields, types, enums, the name pattern); `format:
 * uri` is not re-checked here (the ajv tests do that for what we emit). Text lengths are
 * accepted more generously than the official 100 characters (data written by other tools is
 * longer) but bounded, so that a hostile document is rejected with a precise error. No schema
 * here has a default or a transform, so a validated input is returned as is.
 */

export const SERVER_SCHEMA_URL = 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json';
/** `$schema` of ToolHive's file envelope for upstream documents */
export const TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL =
  'https://raw.githubusercontent.com/stacklok/toolhive-core/main/registry/types/data/upstream-registry.schema.json';
export const OFFICIAL_META_KEY = 'io.modelcontextprotocol.registry/official';
export const PUBLISHER_PROVIDED_KEY = 'io.modelcontextprotocol.registry/publisher-provided';

export const SERVER_NAME_PATTERN = /^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/;
/** upper bounds on input text (the official schema allows 100 characters; we emit at most that) */
export const MAX_DESCRIPTION = 4096;
export const MAX_TITLE = 1024;

export const Input = z.looseObject({
  description: z.string().optional(),
  isRequired: z.boolean().optional(),
  isSecret: z.boolean().optional(),
  format: z.enum(['string', 'number', 'boolean', 'filepath']).optional(),
  value: z.string().optional(),
  default: z.string().optional(),
  placeholder: z.string().optional(),
  choices: z.array(z.string()).optional(),
});
export type Input = z.infer<typeof Input>;

const Variables = z.record(z.string(), Input);

export const KeyValueInput = Input.extend({
  name: z.string().min(1),
  variables: Variables.optional(),
});
export type KeyValueInput = z.infer<typeof KeyValueInput>;

export const Argument = Input.extend({
  type: z.enum(['positional', 'named']),
  name: z.string().optional(),
  valueHint: z.string().optional(),
  isRepeated: z.boolean().optional(),
  variables: Variables.optional(),
});
export type Argument = z.infer<typeof Argument>;

const HttpUrl = z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL');

export const StdioTransport = z.looseObject({ type: z.literal('stdio') });
export const StreamableHttpTransport = z.looseObject({
  type: z.literal('streamable-http'),
  url: z.string().min(1),
  headers: z.array(KeyValueInput).optional(),
});
export const SseTransport = z.looseObject({
  type: z.literal('sse'),
  url: z.string().min(1),
  headers: z.array(KeyValueInput).optional(),
});
/** how a package is reached once running; the URL of an http transport may hold `{var}` templates */
export const LocalTransport = z.discriminatedUnion('type', [StdioTransport, StreamableHttpTransport, SseTransport]);
export type LocalTransport = z.infer<typeof LocalTransport>;

export const Package = z.looseObject({
  registryType: z.string().min(1),
  registryBaseUrl: z.string().optional(),
  identifier: z.string().min(1),
  version: z.string().min(1).optional(),
  fileSha256: z.string().optional(),
  runtimeHint: z.string().optional(),
  transport: LocalTransport,
  runtimeArguments: z.array(Argument).optional(),
  packageArguments: z.array(Argument).optional(),
  environmentVariables: z.array(KeyValueInput).optional(),
});
export type Package = z.infer<typeof Package>;

export const Remote = z.looseObject({
  type: z.enum(['streamable-http', 'sse']),
  url: HttpUrl,
  headers: z.array(KeyValueInput).optional(),
  variables: Variables.optional(),
});
export type Remote = z.infer<typeof Remote>;

export const Repository = z.looseObject({
  // the official API returns `{"url":"","source":""}` for servers without a repository
  url: z.string(),
  source: z.string(),
  id: z.string().optional(),
  subfolder: z.string().optional(),
});
export type Repository = z.infer<typeof Repository>;

export const Icon = z.looseObject({
  src: z.string().min(1),
  mimeType: z.string().optional(),
  sizes: z.array(z.string()).optional(),
  theme: z.string().optional(),
});
export type Icon = z.infer<typeof Icon>;

/** `_meta` inside server.json: publisher-controlled; only publisher-provided survives publishing */
export const ServerMeta = z.looseObject({
  [PUBLISHER_PROVIDED_KEY]: z.record(z.string(), z.unknown()).optional(),
});
export type ServerMeta = z.infer<typeof ServerMeta>;

/** One `server.json` document (the official `ServerDetail`). */
export const ServerJson = z.looseObject({
  $schema: z.string().optional(),
  name: z
    .string()
    .min(3)
    .max(200)
    .regex(SERVER_NAME_PATTERN, 'must be a reverse-DNS namespace and a name separated by one "/" (e.g. io.github.user/weather)'),
  description: z.string().min(1).max(MAX_DESCRIPTION),
  title: z.string().max(MAX_TITLE).optional(),
  version: z.string().min(1).max(255),
  websiteUrl: z.string().optional(),
  repository: Repository.optional(),
  icons: z.array(Icon).optional(),
  packages: z.array(Package).optional(),
  remotes: z.array(Remote).optional(),
  _meta: ServerMeta.optional(),
});
export type ServerJson = z.infer<typeof ServerJson>;

export const OfficialStatus = z.enum(['active', 'deprecated', 'deleted']);
export type OfficialStatus = z.infer<typeof OfficialStatus>;

/** Registry-managed lifecycle data, `_meta["io.modelcontextprotocol.registry/official"]`. */
export const OfficialMeta = z.looseObject({
  status: OfficialStatus,
  publishedAt: z.string().optional(),
  updatedAt: z.string().optional(),
  statusChangedAt: z.string().optional(),
  statusMessage: z.string().optional(),
  isLatest: z.boolean().optional(),
});
export type OfficialMeta = z.infer<typeof OfficialMeta>;

export const ResponseMeta = z.looseObject({
  [OFFICIAL_META_KEY]: OfficialMeta.optional(),
});
export type ResponseMeta = z.infer<typeof ResponseMeta>;

/** One entry of the registry API: the document plus registry-managed `_meta`. */
export const ServerResponse = z.looseObject({
  server: ServerJson,
  _meta: ResponseMeta.optional(),
});
export type ServerResponse = z.infer<typeof ServerResponse>;

export const ListMetadata = z.looseObject({
  nextCursor: z.string().optional(),
  count: z.number().int().min(0).optional(),
});
export type ListMetadata = z.infer<typeof ListMetadata>;

/** The list envelope of `GET /v0.1/servers` and `…/versions`. */
export const ServerList = z.looseObject({
  servers: z.array(ServerResponse),
  metadata: ListMetadata.optional(),
});
export type ServerList = z.infer<typeof ServerList>;

export const UpstreamGroup = z.looseObject({
  name: z.string().min(1),
  description: z.string(),
  servers: z.array(ServerJson),
});
export type UpstreamGroup = z.infer<typeof UpstreamGroup>;

/** ToolHive's file envelope for upstream documents (`upstream-registry.schema.json`). */
export const UpstreamRegistryFile = z.looseObject({
  $schema: z.string().optional(),
  version: z.string(),
  meta: z.looseObject({ last_updated: z.string() }),
  data: z.looseObject({
    servers: z.array(ServerJson),
    groups: z.array(UpstreamGroup).optional(),
    skills: z.array(z.unknown()).optional(),
  }),
});
export type UpstreamRegistryFile = z.infer<typeof UpstreamRegistryFile>;

// Envelope shells: the same documents with entries left unchecked, so that each entry can be
// validated on its own (lenient parsing keeps the valid ones).
export const ServerListShell = z.looseObject({
  servers: z.array(z.unknown()),
  metadata: ListMetadata.optional(),
});
export const UpstreamRegistryFileShell = z.looseObject({
  $schema: z.string().optional(),
  version: z.string(),
  meta: z.looseObject({ last_updated: z.string() }),
  data: z.looseObject({
    servers: z.array(z.unknown()),
    groups: z.array(z.looseObject({ name: z.string().min(1), description: z.string(), servers: z.array(z.unknown()) })).optional(),
    skills: z.array(z.unknown()).optional(),
  }),
});
