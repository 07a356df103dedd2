import { z } from 'zod';
import { FilterSpec } from '../filter/spec.ts';
import { countSet, withRules } from './validation-rules.ts';

/**
 * The MCPRegistry spec, one source of truth for the types. `crds/mcpregistries.yaml` is
 * generated from these schemas (scripts/gen-crds.ts): descriptions become `kubectl explain`
 * text, defaults become CRD defaults, and the cross-field rules exist both as zod
 * refinements and as CEL `x-kubernetes-validations` (see validation-rules.ts). Patterns are
 * written in the common subset of RE2 (the API server) and ECMAScript (zod).
 */

export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
export const Duration = z.string().regex(new RegExp(DURATION_PATTERN), 'a duration such as 30s, 5m, 1h30m');

/** http(s) URLs only; other schemes are refused before any fetch (SSRF policy). */
export const URL_PATTERN = '^https?://[^\\s/?#]+[^\\s]*$';
/** names of ConfigMaps and Secrets (DNS subdomain) */
export const OBJECT_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** keys of ConfigMaps and Secrets */
export const DATA_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';
/** an HTTP header field name (RFC 9110 token) */
export const HEADER_NAME_PATTERN = "^[-A-Za-z0-9!#$%&'*+.^_`|~]+$";
/** a branch or tag name: no whitespace and none of the characters git forbids in refs */
export const GIT_REF_PATTERN = '^[^\\s~^:?*\\[\\\\]+$';

const ObjectName = z
  .string()
  .min(1)
  .max(253)
  .regex(new RegExp(OBJECT_NAME_PATTERN), 'a Kubernetes object name (lower-case letters, digits, "-" and ".")');
const DataKey = z
  .string()
  .min(1)
  .max(253)
  .regex(new RegExp(DATA_KEY_PATTERN), 'a ConfigMap/Secret key (letters, digits, "-", "_" and ".")');
export const HttpUrl = z
  .url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })
  .max(2048)
  .regex(new RegExp(URL_PATTERN), 'an http:// or https:// URL');

const AUTH_FIELDS = {
  name: ObjectName.describe('Name of a Secret in the MCPRegistry\'s namespace.'),
  tokenKey: DataKey.optional().describe('Key holding a bearer token, sent as "Authorization: Bearer <token>".'),
  usernameKey: DataKey.optional().describe('Key holding the user name for HTTP basic auth (with passwordKey).'),
  passwordKey: DataKey.optional().describe('Key holding the password for HTTP basic auth (with usernameKey).'),
  headerName: z
    .string()
    .min(1)
    .max(256)
    .regex(new RegExp(HEADER_NAME_PATTERN), 'an HTTP header name')
    .optional()
    .describe('Name of a header whose value is read from the Secret (with headerValueKey), e.g. X-API-Key.'),
  headerValueKey: DataKey.optional().describe('Key holding the value of the header named by headerName.'),
};

type AuthFields = { tokenKey?: string | undefined; usernameKey?: string | undefined; passwordKey?: string | undefined; headerName?: string | undefined; headerValueKey?: string | undefined };

const PAIR_RULES = [
  {
    rule: 'has(self.usernameKey) == has(self.passwordKey)',
    message: 'usernameKey and passwordKey must be set together',
    check: (s: AuthFields) => (s.usernameKey === undefined) === (s.passwordKey === undefined),
  },
  {
    rule: 'has(self.headerName) == has(self.headerValueKey)',
    message: 'headerName and headerValueKey must be set together',
    check: (s: AuthFields) => (s.headerName === undefined) === (s.headerValueKey === undefined),
  },
];

const httpCredentials = (s: AuthFields) =>
  countSet(s.tokenKey) + (countSet(s.usernameKey, s.passwordKey) > 0 ? 1 : 0) + (countSet(s.headerName, s.headerValueKey) > 0 ? 1 : 0);
const HTTP_CREDENTIALS_CEL = '(has(self.tokenKey) ? 1 : 0) + (has(self.usernameKey) || has(self.passwordKey) ? 1 : 0) + (has(self.headerName) || has(self.headerValueKey) ? 1 : 0)';

/** Reference to a Secret in the registry's namespace and the keys to read from it. */
export const AuthSecretRef = withRules(
  z
    .object(AUTH_FIELDS)
    .describe(
      'Credentials read from a Secret: exactly one of tokenKey, usernameKey+passwordKey, or headerName+headerValueKey. ' +
        'Secret values never appear in status, events or logs.',
    ),
  [
    {
      rule: `${HTTP_CREDENTIALS_CEL} == 1`,
      message: 'set exactly one credential: tokenKey, usernameKey+passwordKey, or headerName+headerValueKey',
      check: (s) => httpCredentials(s) === 1,
    },
    ...PAIR_RULES,
  ],
);
export type AuthSecretRef = z.infer<typeof AuthSecretRef>;

const Headers = z
  .record(z.string(), z.string())
  .describe('Extra request headers (name → value). Never put credentials here: use authSecret.');

const AllowHttp = z
  .boolean()
  .default(false)
  .describe('Allow a plain http:// URL. Off by default: https is required.');

export const ConfigMapSource = z
  .object({
    name: ObjectName.describe('Name of a ConfigMap in the MCPRegistry\'s namespace.'),
    key: DataKey.default('registry.json').describe('Key in the ConfigMap\'s data (or binaryData) holding the registry document.'),
  })
  .describe('Read the registry document from a ConfigMap. Edits to the ConfigMap sync immediately.');
export type ConfigMapSource = z.infer<typeof ConfigMapSource>;

export const UrlSource = z
  .object({
    url: HttpUrl.describe('URL of the registry document (https://, or http:// with allowHttp).'),
    headers: Headers.optional(),
    authSecret: AuthSecretRef.optional(),
    allowHttp: AllowHttp,
  })
  .describe('Fetch the registry document over HTTP(S); revalidated with ETag/Last-Modified.');
export type UrlSource = z.infer<typeof UrlSource>;

/** A git source's credentials: the HTTP ones, or an SSH deploy key (with the known_hosts to check the server by). */
export const GitAuthSecretRef = withRules(
  z
    .object({
      ...AUTH_FIELDS,
      sshPrivateKeyKey: DataKey.optional().describe(
        'Key holding an unencrypted SSH private key (OpenSSH or PEM), e.g. ssh-privatekey of a kubernetes.io/ssh-auth Secret: for ssh:// and user@host:path repositories.',
      ),
      knownHostsKey: DataKey.optional().describe(
        'With sshPrivateKeyKey: key holding known_hosts lines (as ssh-keyscan prints them; hashed names allowed) that the server\'s host key must match. Without it, sshHostKeyFingerprint is required.',
      ),
    })
    .describe(
      'Credentials read from a Secret: exactly one of tokenKey, usernameKey+passwordKey, headerName+headerValueKey (https), or sshPrivateKeyKey (ssh, with knownHostsKey optional). ' +
        'Secret values never appear in status, events or logs.',
    ),
  [
    {
      rule: `${HTTP_CREDENTIALS_CEL} + (has(self.sshPrivateKeyKey) ? 1 : 0) == 1`,
      message: 'set exactly one credential: tokenKey, usernameKey+passwordKey, headerName+headerValueKey, or sshPrivateKeyKey',
      check: (s) => httpCredentials(s) + countSet(s.sshPrivateKeyKey) === 1,
    },
    ...PAIR_RULES,
    {
      rule: '!has(self.knownHostsKey) || has(self.sshPrivateKeyKey)',
      message: 'knownHostsKey goes with sshPrivateKeyKey',
      check: (s) => s.knownHostsKey === undefined || s.sshPrivateKeyKey !== undefined,
    },
  ],
);
export type GitAuthSecretRef = z.infer<typeof GitAuthSecretRef>;

/**
 * An SSH repository: `ssh://`, `git+ssh://`, `ssh+git://`, or scp-like `user@host:path`
 * (lib/sources/git-remote.ts reads them). In the common subset of RE2 and ECMAScript.
 */
export const SSH_REPOSITORY_PATTERN = '^((ssh|git\\+ssh|ssh\\+git)://|[A-Za-z0-9._-]+@(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):([^/]|/[^/]))';
/** a host key fingerprint as ssh-keygen -l prints it */
export const SSH_FINGERPRINT_PATTERN = '^SHA256:[A-Za-z0-9+/]{43}=?$';
const isSsh = (repository: string) => new RegExp(SSH_REPOSITORY_PATTERN).test(repository);

/** a git repository over smart HTTP: a git source's and a job's git target's */
export const GitRepositoryUrl = z.string().min(1).max(2048).regex(/^\S+$/, 'a repository URL without whitespace');

export const GitSource = withRules(
  z
    .object({
      repository: GitRepositoryUrl.describe(
        'Repository: https:// (or http:// with allowHttp), or SSH: ssh://[user@]host[:port]/path or user@host:path (user git when none), with authSecret.sshPrivateKeyKey.',
      ),
      branch: z
        .string()
        .min(1)
        .max(255)
        .regex(new RegExp(GIT_REF_PATTERN), 'a git branch name')
        .optional()
        .describe('Branch to follow. When none of branch, tag and commit is set, branch main is used.'),
      tag: z.string().min(1).max(255).regex(new RegExp(GIT_REF_PATTERN), 'a git tag name').optional().describe('Tag to read.'),
      commit: z
        .string()
        .regex(/^[0-9a-f]{7,40}$/, 'a commit hash (7 to 40 lower-case hex digits)')
        .optional()
        .describe('Commit to read (7 to 40 lower-case hex digits).'),
      path: z.string().min(1).max(1024).default('registry.json').describe('Path of the registry document inside the repository.'),
      authSecret: GitAuthSecretRef.optional(),
      sshHostKeyFingerprint: z
        .string()
        .regex(new RegExp(SSH_FINGERPRINT_PATTERN), 'a host key fingerprint as ssh-keygen -l prints it: SHA256: and 43 base64 characters')
        .optional()
        .describe(
          'SSH only: the SHA256 fingerprint of the server\'s host key (ssh-keygen -lf, or the host\'s published fingerprints), when authSecret has no knownHostsKey. The key offered first is checked: ssh-ed25519, then ECDSA, then RSA.',
        ),
      allowHttp: AllowHttp,
    })
    .describe('Read the registry document from a file in a git repository (shallow fetch over smart HTTP or SSH).'),
  [
    {
      rule: '(has(self.branch) ? 1 : 0) + (has(self.tag) ? 1 : 0) + (has(self.commit) ? 1 : 0) <= 1',
      message: 'set at most one of branch, tag and commit',
      check: (g) => countSet(g.branch, g.tag, g.commit) <= 1,
    },
    {
      rule: `!self.repository.matches(r'${SSH_REPOSITORY_PATTERN}') || (has(self.authSecret) && has(self.authSecret.sshPrivateKeyKey))`,
      message: 'an ssh repository needs authSecret.sshPrivateKeyKey (a deploy key)',
      fieldPath: '.authSecret',
      check: (g) => !isSsh(g.repository) || g.authSecret?.sshPrivateKeyKey !== undefined,
    },
    {
      rule: `!self.repository.matches(r'${SSH_REPOSITORY_PATTERN}') || has(self.sshHostKeyFingerprint) || (has(self.authSecret) && has(self.authSecret.knownHostsKey))`,
      message: 'an ssh repository needs authSecret.knownHostsKey or sshHostKeyFingerprint: a host key is never accepted unchecked',
      check: (g) => !isSsh(g.repository) || g.sshHostKeyFingerprint !== undefined || g.authSecret?.knownHostsKey !== undefined,
    },
    {
      rule: `self.repository.matches(r'${SSH_REPOSITORY_PATTERN}') || (!has(self.sshHostKeyFingerprint) && !(has(self.authSecret) && has(self.authSecret.sshPrivateKeyKey)))`,
      message: 'sshPrivateKeyKey, knownHostsKey and sshHostKeyFingerprint are for ssh repositories (ssh:// or user@host:path)',
      check: (g) => isSsh(g.repository) || (g.sshHostKeyFingerprint === undefined && g.authSecret?.sshPrivateKeyKey === undefined),
    },
  ],
);
export type GitSource = z.infer<typeof GitSource>;

export const RegistryApiSource = z
  .object({
    url: HttpUrl.describe('Base URL of an MCP registry API (the server serving /v0.1/servers), e.g. https://registry.modelcontextprotocol.io.'),
    headers: Headers.optional(),
    authSecret: AuthSecretRef.optional(),
    allowHttp: AllowHttp,
    fullSyncEvery: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(10)
      .describe('After this many incremental syncs (updated_since), the next sync is a full reconcile.'),
  })
  .describe('Page through an upstream MCP registry API (GET /v0.1/servers with cursors).');
export type RegistryApiSource = z.infer<typeof RegistryApiSource>;

/**
 * Annotation on an MCPRegistry naming the namespaces whose aggregates may include it
 * (comma-separated namespace names, or `*` for every namespace). Without it, only aggregates
 * in the registry's own namespace may: a tenant cannot read another tenant's registry
 * through an aggregate of its own.
 */
export const AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION = 'toolhive.stacklok.io/aggregation-allowed-namespaces';

/** a namespace name (DNS label) */
export const NAMESPACE_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** most members of one aggregate */
export const MAX_AGGREGATE_MEMBERS = 32;

export const AggregateMember = z
  .object({
    name: ObjectName.describe('Name of the member MCPRegistry.'),
    namespace: z
      .string()
      .min(1)
      .max(63)
      .regex(new RegExp(NAMESPACE_PATTERN), 'a namespace name (lower-case letters, digits and "-")')
      .optional()
      .describe(
        `Namespace of the member; the aggregate's own when absent. A member in another namespace must carry the annotation ${AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION} listing the aggregate's namespace (or "*").`,
      ),
  })
  .describe('One member registry of an aggregate.');
export type AggregateMember = z.infer<typeof AggregateMember>;

// Unique members are checked when the spec is parsed, not by a CEL rule: the pairwise rule
// over 32 members exceeds a real kube-apiserver's cost budget by more than 100x and the CRD
// was refused (found by npm run test:cluster).
export const AggregateSource = z
  .object({
    registries: z
      .array(AggregateMember)
      .min(1)
      .max(MAX_AGGREGATE_MEMBERS)
      .describe(
        'Member MCPRegistries in priority order: a server name is taken whole (every version) from the first member that has it. ' +
          "Their published snapshots are read from the store (nothing is fetched); a member's publish re-syncs the aggregate.",
      ),
  })
  .describe('Publish the union of other MCPRegistries, de-duplicated by server name, first member wins.')
  .superRefine((s, ctx) => {
    if (new Set(s.registries.map((m) => `${m.namespace ?? ''}/${m.name}`)).size !== s.registries.length) {
      ctx.addIssue({ code: 'custom', message: 'each member may be listed only once', path: ['registries'] });
    }
  });
export type AggregateSource = z.infer<typeof AggregateSource>;

export const SourceType = z.enum(['configmap', 'url', 'git', 'registry', 'aggregate']);
export type SourceType = z.infer<typeof SourceType>;

const SOURCE_BLOCKS = [
  ['configmap', 'configMap'],
  ['url', 'url'],
  ['git', 'git'],
  ['registry', 'registry'],
  ['aggregate', 'aggregate'],
] as const;

export const SourceSpec = withRules(
  z
    .object({
      type: SourceType.describe('Which block below is used: configmap, url, git, registry or aggregate.'),
      configMap: ConfigMapSource.optional(),
      url: UrlSource.optional(),
      git: GitSource.optional(),
      registry: RegistryApiSource.optional(),
      aggregate: AggregateSource.optional(),
    })
    .describe('Where the registry document comes from. Set type and exactly the matching block.'),
  SOURCE_BLOCKS.map(([type, block]) => ({
    rule: `has(self.${block}) == (self.type == '${type}')`,
    message: `${block} must be set when type is ${type}, and only then`,
    fieldPath: `.${block}`,
    check: (s: { type: SourceType; [k: string]: unknown }) => (s[block] !== undefined) === (s.type === type),
  })),
);
export type SourceSpec = z.infer<typeof SourceSpec>;

export const SyncPolicy = z
  .object({
    enabled: z.boolean().default(true).describe('Sync on a schedule and on changes. When false, only manual triggers sync.'),
    interval: Duration.default('1h').describe('How often to re-sync (Go-style duration: 30s, 5m, 1h30m).'),
    onUpdate: z
      .enum(['create', 'update', 'recreate'])
      .default('update')
      .describe('What happens to MCPServers created from this registry when an entry changes: create only new ones, update existing ones, or recreate them.'),
    retry: z
      .object({
        maxRetries: z.number().int().min(0).max(100).default(3).describe('Retries after a failed sync before waiting for the next interval.'),
        backoffInterval: Duration.default('30s').describe('First retry delay; it doubles with every further failure (with jitter).'),
      })
      .prefault({})
      .describe('Retries after a failed sync.'),
    webhook: z
      .object({
        secretRef: z
          .object({
            name: ObjectName.describe("Name of a Secret in the MCPRegistry's namespace."),
            key: DataKey.default('secret').describe('Key holding the shared secret that signs webhook bodies.'),
          })
          .describe('The Secret holding the HMAC-SHA256 secret.'),
      })
      .optional()
      .describe('POST /webhooks/{namespace}/{name} on the sync function syncs this registry at once when the body is signed with the secret (X-Hub-Signature-256: sha256=<hex HMAC-SHA256>).'),
  })
  .describe('When and how the registry is synced.');
export type SyncPolicy = z.infer<typeof SyncPolicy>;

export const RegistryFormat = z.enum(['toolhive', 'upstream']);
export type RegistryFormat = z.infer<typeof RegistryFormat>;

export const MCPRegistrySpec = z
  .object({
    displayName: z.string().max(256).optional().describe('Human-readable name of the registry.'),
    description: z.string().max(4096).optional().describe('What this registry holds.'),
    format: RegistryFormat.optional().describe(
      'Format of the source document: toolhive (registry.json) or upstream (MCP registry server.json list). Detected when absent.',
    ),
    source: SourceSpec,
    syncPolicy: SyncPolicy.prefault({}),
    filter: FilterSpec.optional().describe(
      'Which servers are published. A server is kept when it matches include (or include is absent) and does not match exclude.',
    ),
    validation: z
      .enum(['strict', 'lenient'])
      .default('lenient')
      .describe('strict: one invalid entry fails the sync. lenient: invalid entries are skipped and counted in status.invalidCount.'),
    allowEmpty: z
      .boolean()
      .default(false)
      .describe('Publish a snapshot with zero servers. Off by default, so that a broken source cannot empty a registry.'),
    allowPartial: z
      .boolean()
      .default(false)
      .describe(
        'Aggregate sources: publish without the members that are missing, not yet synced or not allowed (the MembersAvailable condition names them). ' +
          'Off by default: such a member fails the sync and the last snapshot keeps serving. A cycle is refused either way.',
      ),
  })
  .describe('Desired state of an MCPRegistry.');
export type MCPRegistrySpec = z.infer<typeof MCPRegistrySpec>;
