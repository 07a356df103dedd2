import { z } from 'zod';
import { MAX_DESCRIPTION, MAX_TITLE } from './upstream-schema.ts';

/**
 * ToolHive's `registry.json` as zod schemas, one source of truth for its types. Field names and
 * meanings follow ToolHive's own types (registry/types in stacklok/toolhive-core) and
 * `toolhive-legacy-registry.schema.json`.
 *
 * Objects are loose: unknown fields are kept. Validation is deliberately more tolerant than the
 * legacy JSON Schema where ToolHive's own Go decoder is (e.g. `tier`, `status` and `tools` may
 * be absent, enum casing is not enforced), because registries written by hand or by other tools
 * are served by ToolHive too; types, required identity fields and transports are enforced.
 * No defaults, no transforms: a validated input is returned as is.
 */

export const TOOLHIVE_REGISTRY_SCHEMA_URL =
  'https://raw.githubusercontent.com/stacklok/toolhive/main/pkg/registry/data/toolhive-legacy-registry.schema.json';

const Port = z.number().int().min(1).max(65535);

export const EnvVar = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  required: z.boolean().optional(),
  secret: z.boolean().optional(),
  default: z.string().optional(),
});
export type EnvVar = z.infer<typeof EnvVar>;

export const Header = EnvVar.extend({
  choices: z.array(z.string()).optional(),
});
export type Header = z.infer<typeof Header>;

export const OutboundPermissions = z.looseObject({
  allow_host: z.array(z.string()).optional(),
  allow_port: z.array(z.number().int()).optional(),
  insecure_allow_all: z.boolean().optional(),
});

export const Permissions = z.looseObject({
  network: z.looseObject({ outbound: OutboundPermissions.optional() }).optional(),
  read: z.array(z.string()).optional(),
  write: z.array(z.string()).optional(),
  privileged: z.boolean().optional(),
});
export type Permissions = z.infer<typeof Permissions>;

export const Provenance = z.looseObject({
  sigstore_url: z.string().optional(),
  repository_uri: z.string().optional(),
  repository_ref: z.string().optional(),
  signer_identity: z.string().optional(),
  runner_environment: z.string().optional(),
  cert_issuer: z.string().optional(),
  attestation: z.looseObject({ predicate_type: z.string().optional(), predicate: z.unknown().optional() }).optional(),
});
export type Provenance = z.infer<typeof Provenance>;

export const Metadata = z.looseObject({
  stars: z.number().int().min(0).optional(),
  pulls: z.number().int().min(0).optional(),
  last_updated: z.string().optional(),
  kubernetes: z.looseObject({}).optional(),
});
export type Metadata = z.infer<typeof Metadata>;

export const OAuthConfig = z.looseObject({
  issuer: z.string().optional(),
  authorize_url: z.string().optional(),
  token_url: z.string().optional(),
  client_id: z.string().optional(),
  scopes: z.array(z.string()).optional(),
  use_pkce: z.boolean().optional(),
  oauth_params: z.record(z.string(), z.string()).optional(),
  callback_port: Port.optional(),
  resource: z.string().optional(),
});
export type OAuthConfig = z.infer<typeof OAuthConfig>;

/** An MCP `Tool` definition as ToolHive stores it (name, description, inputSchema, annotations, …). */
export const ToolDefinition = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  inputSchema: z.looseObject({}).optional(),
  annotations: z.looseObject({}).optional(),
});
export type ToolDefinition = z.infer<typeof ToolDefinition>;

export const IMAGE_TRANSPORTS = ['stdio', 'sse', 'streamable-http'] as const;
export const REMOTE_TRANSPORTS = ['sse', 'streamable-http'] as const;

const baseFields = {
  /** the upstream (reverse-DNS) name; when absent it is derived from the registry key */
  name: z.string().min(1).optional(),
  title: z.string().max(MAX_TITLE).optional(),
  description: z.string().min(1).max(MAX_DESCRIPTION),
  tier: z.string().optional(),
  status: z.string().optional(),
  stateless: z.boolean().optional(),
  tools: z.array(z.string()).optional(),
  metadata: Metadata.optional(),
  repository_url: z.string().optional(),
  tags: z.array(z.string()).optional(),
  overview: z.string().optional(),
  tool_definitions: z.array(ToolDefinition).optional(),
  custom_metadata: z.record(z.string(), z.unknown()).optional(),
};

/** A container-image server (`servers` map). */
export const ImageMetadata = z.looseObject({
  ...baseFields,
  transport: z.enum(IMAGE_TRANSPORTS).optional(),
  image: z.string().min(1),
  target_port: Port.optional(),
  proxy_port: Port.optional(),
  permissions: Permissions.optional(),
  env_vars: z.array(EnvVar).optional(),
  args: z.array(z.string()).optional(),
  docker_tags: z.array(z.string()).optional(),
  provenance: Provenance.optional(),
});
export type ImageMetadata = z.infer<typeof ImageMetadata>;

/** A remote server reached over HTTP (`remote_servers` map). */
export const RemoteServerMetadata = z.looseObject({
  ...baseFields,
  transport: z.enum(REMOTE_TRANSPORTS).optional(),
  url: z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL'),
  proxy_port: Port.optional(),
  headers: z.array(Header).optional(),
  oauth_config: OAuthConfig.optional(),
  env_vars: z.array(EnvVar).optional(),
});
export type RemoteServerMetadata = z.infer<typeof RemoteServerMetadata>;

export const Group = z.looseObject({
  name: z.string().min(1),
  description: z.string(),
  servers: z.record(z.string(), ImageMetadata).optional(),
  remote_servers: z.record(z.string(), RemoteServerMetadata).optional(),
});
export type Group = z.infer<typeof Group>;

/** ToolHive's `registry.json`. */
export const ToolhiveRegistry = z.looseObject({
  $schema: z.string().optional(),
  version: z.string().optional(),
  last_updated: z.string().optional(),
  servers: z.record(z.string(), ImageMetadata).optional(),
  remote_servers: z.record(z.string(), RemoteServerMetadata).optional(),
  groups: z.array(Group).optional(),
});
export type ToolhiveRegistry = z.infer<typeof ToolhiveRegistry>;

/** The registry with entries left unchecked, so that each entry can be validated on its own. */
const EntryMap = z.record(z.string(), z.unknown());
export const ToolhiveRegistryShell = z.looseObject({
  $schema: z.string().optional(),
  version: z.string().optional(),
  last_updated: z.string().optional(),
  servers: EntryMap.optional(),
  remote_servers: EntryMap.optional(),
  groups: z.array(z.looseObject({ name: z.string().min(1), description: z.string(), servers: EntryMap.optional(), remote_servers: EntryMap.optional() })).optional(),
});

export type ToolhiveKind = 'image' | 'remote';
export type ToolhiveEntry = ImageMetadata | RemoteServerMetadata;
