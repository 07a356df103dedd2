import { z } from 'zod';
import { FilterSpec } from '../filter/spec.ts';
import { AuthSecretRef, DATA_KEY_PATTERN, GIT_REF_PATTERN, GitRepositoryUrl, HttpUrl, OBJECT_NAME_PATTERN, RegistryFormat, SourceSpec } from './mcpregistry-spec.ts';
import { conditionsSchema, Timestamp } from './mcpregistry-status.ts';
import { countSet, withRules } from './validation-rules.ts';

/**
 * Spec and status of the job resources: MCPRegistrySyncJob (a manual sync), and
 * MCPRegistryImportJob / MCPRegistryExportJob (lib/jobs/), all run by the sync function.
 * Their CRDs are generated from these schemas by scripts/gen-crds.ts.
 */

const LocalObjectName = z
  .string()
  .min(1)
  .max(253)
  .regex(new RegExp(OBJECT_NAME_PATTERN), 'a Kubernetes object name (lower-case letters, digits, "-" and ".")');

export const RegistryRef = z
  .object({ name: LocalObjectName.describe('Name of an MCPRegistry in the same namespace.') })
  .describe('The MCPRegistry this job acts on (same namespace).');
export type RegistryRef = z.infer<typeof RegistryRef>;

export const ConfigMapTarget = z
  .object({
    name: LocalObjectName.describe('Name of a ConfigMap in the same namespace; created when missing.'),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(new RegExp(DATA_KEY_PATTERN), 'a ConfigMap key')
      .default('registry.json')
      .describe('Key the document is written under.'),
  })
  .describe('A ConfigMap key to write a registry document to (at most 1 MiB).');
export type ConfigMapTarget = z.infer<typeof ConfigMapTarget>;

export const GitTarget = z
  .object({
    repository: GitRepositoryUrl.describe('Repository URL: https://, or http:// with allowHttp (smart HTTP; credentials from authSecret, never in the URL).'),
    branch: z.string().min(1).max(255).regex(new RegExp(GIT_REF_PATTERN), 'a git branch name').default('main').describe('Branch to commit to; created when missing.'),
    path: z.string().min(1).max(1024).regex(/^[^/\s][^\s]*$/, 'a relative path without whitespace').default('registry.json').describe('File written in the repository.'),
    authSecret: AuthSecretRef.optional().describe('Credentials for fetch and push (token or basic auth) from a Secret in the job\'s namespace.'),
    allowHttp: z.boolean().default(false).describe('Allow a plain http:// repository URL. Off by default: https is required.'),
    authorName: z.string().min(1).max(256).default('mcp-registry').describe('Commit author and committer name.'),
    authorEmail: z.string().min(1).max(256).default('mcp-registry@localhost').describe('Commit author and committer e-mail.'),
    message: z.string().min(1).max(4096).optional().describe('Commit message; a summary of the job when absent.'),
  })
  .describe('A file in a git repository: the job commits it and pushes, re-reading the branch and retrying when the push is not a fast-forward; no commit when the file already holds the document.');
export type GitTarget = z.infer<typeof GitTarget>;

export const JOB_CONDITION_TYPES = ['Complete', 'Failed'] as const;
export const JobPhase = z.enum(['Pending', 'Running', 'Succeeded', 'Failed']);
export type JobPhase = z.infer<typeof JobPhase>;

const Count = z.number().int().min(0);

export const JobResult = z
  .object({
    serverCount: Count.optional().describe('Servers synced, imported or exported.'),
    invalidCount: Count.optional().describe('Entries skipped as invalid.'),
    snapshotHash: z.string().regex(/^[0-9a-f]{64}$/, 'a hex SHA-256').optional().describe('Hash of the snapshot the job produced or read.'),
    location: z.string().max(2048).optional().describe('Where the result was written (ConfigMap key or object key).'),
    bytes: Count.optional().describe('Bytes written (export).'),
    counts: z
      .object({ added: Count, updated: Count, unchanged: Count, kept: Count, removed: Count, skippedInvalid: Count, skippedFiltered: Count })
      .optional()
      .describe('Import: servers added, updated, unchanged, kept (merge), removed (replace), skipped as invalid or filtered out.'),
    reportRef: z.string().max(2048).optional().describe('Import: where the per-server report is (configmap/NS/NAME#KEY, or an object key of the snapshot store when it is over a ConfigMap\'s size).'),
    message: z.string().max(32768).optional().describe('Summary in words; on failure, what failed and where.'),
  })
  .describe('What the job did.');
export type JobResult = z.infer<typeof JobResult>;

export const JobStatus = z
  .object({
    observedGeneration: z.number().int().min(0).optional().describe('metadata.generation the job last acted on.'),
    phase: JobPhase.optional().describe('Pending, Running, Succeeded or Failed.'),
    startTime: Timestamp.optional().describe('When the job started running.'),
    completionTime: Timestamp.optional().describe('When the job succeeded or failed.'),
    conditions: conditionsSchema(JOB_CONDITION_TYPES).optional(),
    result: JobResult.optional(),
    failedAttempts: Count.optional().describe('Attempts that failed transiently so far (import and export jobs retry them up to spec.backoffLimit).'),
    nextAttemptTime: Timestamp.optional().describe('When the next attempt after a transient failure is due.'),
  })
  .describe('Observed state of the job.');
export type JobStatus = z.infer<typeof JobStatus>;

/**
 * A job's spec never changes after creation: create a new job instead. Only for specs whose
 * every field is bounded (maxLength, enum): the API server estimates the cost of a CEL rule
 * from those bounds and refuses a CRD whose rule could be too expensive, and comparing an
 * import job's unbounded source headers and filter lists could be.
 */
function immutable<S extends z.ZodType>(schema: S): S {
  return schema.meta({
    'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'spec is immutable: create a new job instead' }],
  }) as S;
}

export const MCPRegistrySyncJobSpec = immutable(
  z
    .object({ registryRef: RegistryRef })
    .describe('Sync one MCPRegistry now, once. Handled by the sync function, like the sync-trigger annotation.'),
);
export type MCPRegistrySyncJobSpec = z.infer<typeof MCPRegistrySyncJobSpec>;

export const BackoffLimit = z
  .number()
  .int()
  .min(0)
  .max(20)
  .default(3)
  .describe('Retries after transient failures (source or target unreachable, conflicts), with exponential backoff from 10s; permanent failures (bad data, forbidden) fail at once.');
export const TtlSecondsAfterFinished = z
  .number()
  .int()
  .min(0)
  .max(31_536_000)
  .optional()
  .describe('Delete the job this many seconds after it succeeded or failed (as Kubernetes Jobs do); kept when absent.');

export const ImportTarget = withRules(
  z
    .object({
      configMap: ConfigMapTarget.optional(),
      registryRef: RegistryRef.optional().describe('An MCPRegistry whose stored snapshot is replaced by the imported document.'),
      git: GitTarget.optional(),
    })
    .describe('Where the imported document goes: exactly one of configMap, registryRef and git.'),
  [
    {
      rule: '(has(self.configMap) ? 1 : 0) + (has(self.registryRef) ? 1 : 0) + (has(self.git) ? 1 : 0) == 1',
      message: 'set exactly one of configMap, registryRef and git',
      check: (t) => countSet(t.configMap, t.registryRef, t.git) === 1,
    },
  ],
);

export const ImportRegistry = z
  .object({
    name: LocalObjectName.describe('Name of the MCPRegistry (same namespace). Created reading the target when missing; an existing one is left as it is.'),
    displayName: z.string().max(256).optional().describe('displayName of a registry this creates.'),
    description: z.string().max(4096).optional().describe('description of a registry this creates.'),
  })
  .describe('An MCPRegistry reading the import\'s target (a ConfigMap or git target): created when missing, left as it is when it exists. Not with target.registryRef, and not created by a dry run.');
export type ImportRegistry = z.infer<typeof ImportRegistry>;

const ImportJobSpecObject = z
  .object({
    source: SourceSpec,
    format: RegistryFormat.optional().describe('Format of the source document; detected when absent.'),
    convertTo: RegistryFormat.optional().describe('Format to write; the source format when absent.'),
    filter: FilterSpec.optional().describe('Which servers are imported.'),
    target: ImportTarget,
    mode: z.enum(['merge', 'replace']).default('merge').describe('merge: add new servers, update changed ones, keep the rest; replace: the target holds exactly the imported servers.'),
    dryRun: z.boolean().default(false).describe('Report what would change (status and report) and write nothing to the target.'),
    backoffLimit: BackoffLimit,
    ttlSecondsAfterFinished: TtlSecondsAfterFinished,
    registry: ImportRegistry.optional(),
  })
  .describe('Load the servers of a source into a ConfigMap key, an MCPRegistry\'s source or a git file, merged or replacing, with a per-server report.');
export const MCPRegistryImportJobSpec = withRules(ImportJobSpecObject, [
  {
    rule: '!has(self.registry) || !has(self.target.registryRef)',
    message: 'registry creates an MCPRegistry reading a configMap or git target; with target.registryRef the registry exists already',
    fieldPath: '.registry',
    check: (s) => s.registry === undefined || s.target.registryRef === undefined,
  },
]);
export type MCPRegistryImportJobSpec = z.infer<typeof MCPRegistryImportJobSpec>;

const ObjectKey = z.string().min(1).max(1024).regex(/^[^/\s][^\s]*$/, 'a relative object key without whitespace');

export const S3CredentialsSecret = z
  .object({
    name: LocalObjectName.describe("Name of a Secret in the job's namespace."),
    accessKeyIdKey: z.string().min(1).max(253).regex(new RegExp(DATA_KEY_PATTERN), 'a Secret key').default('accessKeyId').describe('Key holding the access key id.'),
    secretAccessKeyKey: z.string().min(1).max(253).regex(new RegExp(DATA_KEY_PATTERN), 'a Secret key').default('secretAccessKey').describe('Key holding the secret access key.'),
  })
  .describe('The key pair to sign requests with, from a Secret; never in status, Events or logs.');

export const S3Target = z
  .object({
    bucket: z
      .string()
      .min(3)
      .max(63)
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name')
      .describe('Bucket to write to.'),
    key: ObjectKey.describe('Object key written.'),
    endpoint: HttpUrl.optional().describe('Endpoint of an S3-compatible service (https://, or http:// with allowHttp); AWS S3 when absent. The SSRF policy applies.'),
    region: z.string().min(1).max(64).regex(/^[a-z0-9-]+$/, 'a region name').default('us-east-1').describe('Region the requests are signed for.'),
    forcePathStyle: z.boolean().default(false).describe('Path-style URLs (endpoint/bucket/key), needed by most S3-compatible services.'),
    allowHttp: z.boolean().default(false).describe('Allow a plain http:// endpoint. Off by default: https is required.'),
    credentialsSecret: S3CredentialsSecret,
  })
  .describe("An object in another S3-compatible bucket, with its own endpoint and credentials (not the sync function's).");
export type S3Target = z.infer<typeof S3Target>;

export const ExportTarget = withRules(
  z
    .object({
      configMap: ConfigMapTarget.optional(),
      objectKey: ObjectKey.optional().describe('Object key in the configured snapshot bucket, relative to its root.'),
      s3: S3Target.optional(),
      git: GitTarget.optional(),
    })
    .describe('Where the export is written: exactly one of configMap, objectKey, s3 and git.'),
  [
    {
      rule: '(has(self.configMap) ? 1 : 0) + (has(self.objectKey) ? 1 : 0) + (has(self.s3) ? 1 : 0) + (has(self.git) ? 1 : 0) == 1',
      message: 'set exactly one of configMap, objectKey, s3 and git',
      check: (t) => countSet(t.configMap, t.objectKey, t.s3, t.git) === 1,
    },
  ],
);

/** MCPRegistry's filter with bounded lists, so that the immutability rule stays within the API server's CEL cost budget. */
const BoundedValues = z.array(z.string().min(1).max(253)).max(100).optional();
const JobFilterSet = z.object({ names: BoundedValues, tags: BoundedValues, tiers: BoundedValues, transports: BoundedValues, categories: BoundedValues });
export const JobFilter = z.object({ include: JobFilterSet.optional(), exclude: JobFilterSet.optional() });

export const ExportFormat = z.enum(['toolhive', 'upstream', 'upstream-list']);

export const MCPRegistryExportJobSpec = immutable(
  z.object({
    registryRef: RegistryRef,
    format: ExportFormat.default('toolhive').describe(
      "Format to write: toolhive (registry.json), upstream (ToolHive's upstream file envelope of server.json documents) or upstream-list (the registry API's list envelope, as /v0.1/servers serves it).",
    ),
    filter: JobFilter.optional().describe('Which servers of the snapshot are exported (MCPRegistry filter semantics; at most 100 values per list); all when absent.'),
    target: ExportTarget,
    backoffLimit: BackoffLimit,
    ttlSecondsAfterFinished: TtlSecondsAfterFinished,
  })
  .describe("Write a registry's current snapshot in a chosen format to a ConfigMap, an object key of the snapshot bucket or of another S3-compatible bucket, or a file in a git repository."),
);
export type MCPRegistryExportJobSpec = z.infer<typeof MCPRegistryExportJobSpec>;
