import { createHash } from 'node:crypto';
import { RegistryError } from '../errors.ts';
import { categoriesOf } from '../filter/categories.ts';
import { buildReverseDnsName, extractSimpleName } from '../formats/names.ts';
import type { EnvVar, ImageMetadata, Permissions, RemoteServerMetadata } from '../formats/toolhive-schema.ts';
import type { ServerJson } from '../formats/upstream-schema.ts';
import { serverJsonToToolhive } from '../formats/upstream-to-toolhive.ts';
import { ANNOTATIONS, registryLabels } from './labels.ts';

/**
 * A registry entry → the ToolHive workload that runs it (pure; no I/O).
 *
 *   image entries, upstream OCI packages → MCPServer (toolhive.stacklok.dev/v1beta1)
 *   remote entries (ToolHive remote_servers, upstream remotes) → MCPRemoteProxy
 *
 * Upstream server.json documents are read through the same conversion the snapshot's
 * toolhive.json uses (lib/formats/upstream-to-toolhive.ts), so both formats map alike.
 */

export const WORKLOAD_GROUP = 'toolhive.stacklok.dev';
export const WORKLOAD_VERSION = 'v1beta1';
export const WORKLOAD_API_VERSION = `${WORKLOAD_GROUP}/${WORKLOAD_VERSION}`;
export const MCP_SERVER_KIND = 'MCPServer';
export const MCP_REMOTE_PROXY_KIND = 'MCPRemoteProxy';
/** the key of the permission profile in its ConfigMap */
export const PROFILE_KEY = 'permissions.json';
/** our server-side apply field manager */
export const FIELD_MANAGER = 'mcp-registry';

/** The spec fields the registry manages on each kind (everything else is the user's). */
export const MANAGED_FIELDS = {
  MCPServer: ['spec.image', 'spec.transport', 'spec.proxyPort', 'spec.mcpPort', 'spec.args', 'spec.env', 'spec.permissionProfile'],
  MCPRemoteProxy: ['spec.remoteUrl', 'spec.transport', 'spec.proxyPort', 'spec.headerForward'],
} as const;

export type DeployEntry =
  | { kind: 'image'; name: string; upstreamName: string; version?: string | undefined; entry: ImageMetadata }
  | { kind: 'remote'; name: string; upstreamName: string; version?: string | undefined; entry: RemoteServerMetadata };

/** An entry of a ToolHive registry.json: its key is the ToolHive name. */
export function fromToolhive(key: string, kind: 'image' | 'remote', entry: ImageMetadata | RemoteServerMetadata, version?: string): DeployEntry {
  const upstreamName = typeof entry.name === 'string' && entry.name !== '' ? entry.name : buildReverseDnsName(key);
  return kind === 'image'
    ? { kind, name: key, upstreamName, version, entry: entry as ImageMetadata }
    : { kind, name: key, upstreamName, version, entry: entry as RemoteServerMetadata };
}

/** An upstream server.json; `name` is its ToolHive name (default: the part after the `/`). */
export function fromUpstream(server: ServerJson, name: string = extractSimpleName(server.name)): DeployEntry {
  const converted = serverJsonToToolhive(server);
  if (converted.kind === 'image' && !(server.packages ?? []).some((p) => p.registryType === 'oci')) {
    throw new RegistryError('unsupported', 'has no oci package and no remote: only container images and remote servers can be deployed', { where: { server: server.name } });
  }
  return converted.kind === 'image'
    ? { kind: 'image', name, upstreamName: server.name, version: server.version, entry: converted.entry }
    : { kind: 'remote', name, upstreamName: server.name, version: server.version, entry: converted.entry };
}

export interface SecretRef {
  name: string;
  key: string;
}

export interface DeployOptions {
  registry: { namespace: string; name: string };
  /** where the workload goes (the registry's namespace unless said) */
  namespace: string;
  /** the workload's name (default: the server name as a DNS label) */
  workloadName?: string | undefined;
  /** values for the entry's variables (or headers), by name */
  env?: Readonly<Record<string, string>>;
  /** Secrets for the entry's secret variables (or headers), by name */
  secrets?: Readonly<Record<string, SecretRef>>;
  /** the snapshot the entry comes from */
  snapshot?: string | undefined;
  /**
   * names in `env`/`secrets` whose values are the user's (given on the command line, not
   * defaults): recorded in the `registry-user-values` annotation, so that updates keep them —
   * a variable the entry does not declare as much as a value that overrides a default
   */
  userValues?: readonly string[];
}

export interface KubeManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

export interface WorkloadPlan {
  /** the apply configuration of the workload */
  workload: KubeManifest;
  /** the permission profile, for image entries that declare permissions */
  configMap?: KubeManifest;
  /** hash of what the registry manages: equal hashes, nothing to update */
  entryHash: string;
}

/** a DNS-1123 label (what a workload name must be) for a server name: lower-cased, shortened with a hash when needed */
export function workloadNameFor(serverName: string): string {
  const plain = serverName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (plain === serverName && plain.length <= 63 && plain !== '') return plain;
  const hash = createHash('sha256').update(serverName).digest('hex').slice(0, 8);
  const head = plain.slice(0, 63 - 9).replace(/-$/, '');
  return head ? `${head}-${hash}` : `mcp-${hash}`;
}

function missing(variable: string, server: string, what: string): RegistryError {
  const how = what.startsWith('secret') ? `give it from a Secret (--secret ${variable}=SECRET/KEY)` : `give it a value (--env ${variable}=VALUE)`;
  return new RegistryError('invalid_argument', `${what} ${variable} is required and has no default: ${how}`, { where: { server } });
}

/**
 * The workload (and permission-profile ConfigMap) for an entry. Throws RegistryError
 * `invalid_argument` naming the variable when a required one has no value, and when a
 * secret variable is given a plain value.
 */
export function planWorkload(entry: DeployEntry, options: DeployOptions): WorkloadPlan {
  const name = options.workloadName ?? workloadNameFor(entry.name);
  const { labels, annotations } = registryLabels({
    registry: options.registry,
    serverName: entry.name,
    tier: typeof entry.entry.tier === 'string' ? entry.entry.tier : undefined,
    category: categoriesOf(entry.entry.custom_metadata, entry.entry.tags ?? [])[0],
  });
  const managed = entry.kind === 'image' ? imageSpec(entry.entry, entry.name, name, options) : remoteSpec(entry.entry, entry.name, options);
  const entryHash = createHash('sha256').update(JSON.stringify([managed.spec, managed.profile ?? null])).digest('hex').slice(0, 16);
  const meta = { name, namespace: options.namespace };
  const workload: KubeManifest = {
    apiVersion: WORKLOAD_API_VERSION,
    kind: entry.kind === 'image' ? MCP_SERVER_KIND : MCP_REMOTE_PROXY_KIND,
    metadata: {
      ...meta,
      labels,
      annotations: {
        ...annotations,
        [ANNOTATIONS.upstreamName]: entry.upstreamName,
        ...(entry.version !== undefined ? { [ANNOTATIONS.version]: entry.version } : {}),
        ...(options.snapshot !== undefined ? { [ANNOTATIONS.snapshot]: options.snapshot } : {}),
        [ANNOTATIONS.entryHash]: entryHash,
        [ANNOTATIONS.managedFields]: MANAGED_FIELDS[entry.kind === 'image' ? MCP_SERVER_KIND : MCP_REMOTE_PROXY_KIND].join(','),
        ...(options.userValues && options.userValues.length > 0 ? { [ANNOTATIONS.userValues]: [...new Set(options.userValues)].sort().join(',') } : {}),
      },
    },
    spec: managed.spec,
  };
  const plan: WorkloadPlan = { workload, entryHash };
  if (managed.profile) {
    plan.configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: profileConfigMapName(name), namespace: options.namespace, labels: { ...labels } },
      data: { [PROFILE_KEY]: `${JSON.stringify(managed.profile, null, 2)}\n` },
    };
  }
  return plan;
}

export function profileConfigMapName(workloadName: string): string {
  const suffix = '-permissions';
  return `${workloadName.slice(0, 253 - suffix.length)}${suffix}`;
}

interface Managed {
  spec: Record<string, unknown>;
  profile?: Record<string, unknown>;
}

function imageSpec(entry: ImageMetadata, server: string, workloadName: string, options: DeployOptions): Managed {
  const spec: Record<string, unknown> = { image: entry.image, transport: entry.transport ?? 'stdio' };
  if (entry.proxy_port !== undefined) spec.proxyPort = entry.proxy_port;
  if (entry.target_port !== undefined) spec.mcpPort = entry.target_port;
  if (entry.args && entry.args.length > 0) spec.args = [...entry.args];
  const { env, secrets } = variables(entry.env_vars ?? [], server, options, 'variable');
  if (env.length > 0) spec.env = env;
  if (secrets.length > 0) spec.secrets = secrets;
  const out: Managed = { spec };
  if (entry.permissions && !isEmptyProfile(entry.permissions)) {
    out.profile = operatorProfile(entry.permissions);
    spec.permissionProfile = { type: 'configmap', name: profileConfigMapName(workloadName), key: PROFILE_KEY };
  }
  return out;
}

function remoteSpec(entry: RemoteServerMetadata, server: string, options: DeployOptions): Managed {
  const spec: Record<string, unknown> = { remoteUrl: entry.url, transport: entry.transport ?? 'streamable-http' };
  if (entry.proxy_port !== undefined) spec.proxyPort = entry.proxy_port;
  const plain: Record<string, string> = {};
  const fromSecret: { headerName: string; valueSecretRef: SecretRef }[] = [];
  for (const h of entry.headers ?? []) {
    const secret = options.secrets?.[h.name];
    const value = options.env?.[h.name];
    if (h.secret) {
      if (value !== undefined) throw plainSecret(h.name, server, 'header');
      if (secret) fromSecret.push({ headerName: h.name, valueSecretRef: { name: secret.name, key: secret.key } });
      else if (h.required) throw missing(h.name, server, 'secret header');
      continue;
    }
    if (secret) fromSecret.push({ headerName: h.name, valueSecretRef: { name: secret.name, key: secret.key } });
    else if (value !== undefined || h.default !== undefined) plain[h.name] = (value ?? h.default) as string;
    else if (h.required) throw missing(h.name, server, 'header');
  }
  if (Object.keys(plain).length > 0 || fromSecret.length > 0) {
    spec.headerForward = {
      ...(Object.keys(plain).length > 0 ? { addPlaintextHeaders: plain } : {}),
      ...(fromSecret.length > 0 ? { addHeadersFromSecret: fromSecret } : {}),
    };
  }
  return { spec };
}

function plainSecret(variable: string, server: string, what: string): RegistryError {
  return new RegistryError('invalid_argument', `${what} ${variable} is secret: give it from a Secret (--secret ${variable}=SECRET/KEY), never as a plain value`, { where: { server } });
}

/** env (non-secret variables with a default or a given value) and secrets (secret variables, from the Secrets named) */
function variables(vars: readonly EnvVar[], server: string, options: DeployOptions, what: string): { env: { name: string; value: string }[]; secrets: { name: string; key: string; targetEnvName: string }[] } {
  const env: { name: string; value: string }[] = [];
  const secrets: { name: string; key: string; targetEnvName: string }[] = [];
  const known = new Set<string>();
  for (const v of vars) {
    known.add(v.name);
    const secret = options.secrets?.[v.name];
    const value = options.env?.[v.name];
    if (v.secret) {
      if (value !== undefined) throw plainSecret(v.name, server, `secret ${what}`);
      if (secret) secrets.push({ name: secret.name, key: secret.key, targetEnvName: v.name });
      else if (v.required) throw missing(v.name, server, `secret ${what}`);
      continue;
    }
    if (secret) secrets.push({ name: secret.name, key: secret.key, targetEnvName: v.name });
    else if (value !== undefined) env.push({ name: v.name, value });
    else if (v.default !== undefined) env.push({ name: v.name, value: v.default });
    else if (v.required) throw missing(v.name, server, what);
  }
  // values for variables the entry does not declare are the caller's to add
  for (const [name, value] of Object.entries(options.env ?? {})) if (!known.has(name)) env.push({ name, value });
  for (const [name, secret] of Object.entries(options.secrets ?? {})) if (!known.has(name)) secrets.push({ name: secret.name, key: secret.key, targetEnvName: name });
  return { env, secrets };
}

function isEmptyProfile(p: Permissions): boolean {
  return !p.read?.length && !p.write?.length && !p.network?.outbound && p.privileged !== true;
}

/** ToolHive's registry permissions (snake_case) → the operator's permission profile (camelCase) */
export function operatorProfile(p: Permissions): Record<string, unknown> {
  const out: Record<string, unknown> = { read: [...(p.read ?? [])], write: [...(p.write ?? [])] };
  const outbound = p.network?.outbound;
  if (outbound) {
    out.network = {
      outbound: {
        insecureAllowAll: outbound.insecure_allow_all === true,
        allowHost: [...(outbound.allow_host ?? [])],
        allowPort: [...(outbound.allow_port ?? [])],
      },
    };
  }
  if (p.privileged === true) out.privileged = true;
  return out;
}
