import { z } from 'zod';
import { FilterSpec } from '../filter/spec.ts';

/**
 * The MCPRegistry spec, one source of truth for the types. `crds/mcpregistries.yaml` carries
 * the same structure as an openAPIV3Schema; a test checks that both agree.
 * Defaults here are the CRD's defaults.
 */

export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
export const Duration = z.string().regex(new RegExp(DURATION_PATTERN), 'a duration such as 30s, 5m, 1h30m');

/** Reference to a Secret in the registry's namespace and the keys to read from it. */
export const AuthSecretRef = z.object({
  name: z.string().min(1),
  /** bearer token */
  tokenKey: z.string().min(1).optional(),
  /** basic auth */
  usernameKey: z.string().min(1).optional(),
  passwordKey: z.string().min(1).optional(),
  /** a named header whose value is read from the Secret */
  headerName: z.string().min(1).optional(),
  headerValueKey: z.string().min(1).optional(),
});
export type AuthSecretRef = z.infer<typeof AuthSecretRef>;

const Headers = z.record(z.string(), z.string());

export const ConfigMapSource = z.object({
  name: z.string().min(1),
  key: z.string().min(1).default('registry.json'),
});
export type ConfigMapSource = z.infer<typeof ConfigMapSource>;

export const UrlSource = z.object({
  url: z.string().url(),
  headers: Headers.optional(),
  authSecret: AuthSecretRef.optional(),
  /** allow plain http:// (https is required otherwise) */
  allowHttp: z.boolean().default(false),
});
export type UrlSource = z.infer<typeof UrlSource>;

export const GitSource = z.object({
  repository: z.string().min(1),
  branch: z.string().min(1).optional(),
  tag: z.string().min(1).optional(),
  commit: z.string().regex(/^[0-9a-f]{7,40}$/).optional(),
  path: z.string().min(1).default('registry.json'),
  authSecret: AuthSecretRef.optional(),
  allowHttp: z.boolean().default(false),
});
export type GitSource = z.infer<typeof GitSource>;

export const RegistryApiSource = z.object({
  url: z.string().url(),
  headers: Headers.optional(),
  authSecret: AuthSecretRef.optional(),
  allowHttp: z.boolean().default(false),
  /** after this many incremental syncs, the next one is a full reconcile */
  fullSyncEvery: z.number().int().min(1).default(10),
});
export type RegistryApiSource = z.infer<typeof RegistryApiSource>;

export const SourceType = z.enum(['configmap', 'url', 'git', 'registry']);
export type SourceType = z.infer<typeof SourceType>;

export const SourceSpec = z.object({
  type: SourceType,
  configMap: ConfigMapSource.optional(),
  url: UrlSource.optional(),
  git: GitSource.optional(),
  registry: RegistryApiSource.optional(),
});
export type SourceSpec = z.infer<typeof SourceSpec>;

export const SyncPolicy = z.object({
  enabled: z.boolean().default(true),
  interval: Duration.default('1h'),
  onUpdate: z.enum(['create', 'update', 'recreate']).default('update'),
  retry: z
    .object({
      maxRetries: z.number().int().min(0).max(100).default(3),
      backoffInterval: Duration.default('30s'),
    })
    .prefault({}),
});
export type SyncPolicy = z.infer<typeof SyncPolicy>;

export const RegistryFormat = z.enum(['toolhive', 'upstream']);
export type RegistryFormat = z.infer<typeof RegistryFormat>;

export const MCPRegistrySpec = z.object({
  displayName: z.string().optional(),
  description: z.string().optional(),
  /** detected from the document when absent */
  format: RegistryFormat.optional(),
  source: SourceSpec,
  syncPolicy: SyncPolicy.prefault({}),
  filter: FilterSpec.optional(),
  validation: z.enum(['strict', 'lenient']).default('lenient'),
  allowEmpty: z.boolean().default(false),
});
export type MCPRegistrySpec = z.infer<typeof MCPRegistrySpec>;
