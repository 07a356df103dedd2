import { RegistryError } from '../errors.ts';
import type { EnvVar, Header, ImageMetadata, RemoteServerMetadata, ToolhiveKind } from './toolhive-schema.ts';
import type { Argument, Input, KeyValueInput, Package, Remote, ServerJson } from './upstream-schema.ts';
import {
  EXTENSION_COMMON_FIELDS,
  EXTENSION_IMAGE_FIELDS,
  EXTENSION_REMOTE_FIELDS,
  UPSTREAM_HOME_FIELDS,
  clampText,
  isEmpty,
  normalizeToolDefinitions,
  readExtension,
  type Extension,
} from './toolhive-extension.ts';

/**
 * server.json → ToolHive entry, following ToolHive's own converter: `name` is the upstream
 * name, `transport` and `target_port` come from the package transport (or the remote),
 * environment variables from `environmentVariables` and `-e`/`--env` runtime arguments,
 * `args` from the package arguments (else the extension), and the ToolHive-only fields from
 * the extension keyed by the image reference or remote URL (else the first one there).
 *
 * Which part of the server becomes the entry (ToolHive itself only reads exactly one `oci`
 * package, or the first remote):
 *   1. the first `oci` package (document order) → an image entry;
 *   2. else the first remote → a remote entry;
 *   3. else the first `npm`, `pypi` or `nuget` package → an image entry whose image uses the
 *      protocol scheme ToolHive runs these with (`npx://id@version`, `uvx://…`, `dnx://…`);
 *   4. else (no packages and no remotes, or only e.g. `mcpb` packages) the server cannot be
 *      expressed in ToolHive's format: RegistryError('unsupported').
 */

export type ToolhiveConverted =
  | { kind: 'image'; entry: ImageMetadata }
  | { kind: 'remote'; entry: RemoteServerMetadata };

const SCHEMES: Record<string, string> = { npm: 'npx://', pypi: 'uvx://', nuget: 'dnx://' };

export function serverJsonToToolhive(server: ServerJson): ToolhiveConverted {
  const packages = server.packages ?? [];
  const oci = packages.find((p) => p.registryType === 'oci');
  if (oci) return { kind: 'image', entry: packageToImage(server, oci, oci.identifier) };
  const remote = server.remotes?.[0];
  if (remote) return { kind: 'remote', entry: serverJsonToRemote(server, remote) };
  const runnable = packages.find((p) => SCHEMES[p.registryType] !== undefined);
  if (runnable) {
    const image = `${SCHEMES[runnable.registryType]}${runnable.identifier}${runnable.version ? `@${runnable.version}` : ''}`;
    return { kind: 'image', entry: packageToImage(server, runnable, image) };
  }
  const found = packages.length === 0 ? 'no packages and no remotes' : `only ${[...new Set(packages.map((p) => p.registryType))].join(', ')} packages`;
  throw new RegistryError('unsupported', `has ${found}; a ToolHive entry needs an oci, npm, pypi or nuget package or a remote`, {
    where: { server: server.name },
  });
}

/**
 * The key of the extension that belongs to the part of the server a ToolHive entry is made from
 * (image reference or remote URL), by the rule above; undefined when there is none.
 */
export function primaryExtensionKey(server: ServerJson): string | undefined {
  const packages = server.packages ?? [];
  const oci = packages.find((p) => p.registryType === 'oci');
  if (oci) return oci.identifier;
  const remote = server.remotes?.[0];
  if (remote) return remote.url;
  const runnable = packages.find((p) => SCHEMES[p.registryType] !== undefined);
  if (runnable) return `${SCHEMES[runnable.registryType]}${runnable.identifier}${runnable.version ? `@${runnable.version}` : ''}`;
  return undefined;
}

/** the kind of ToolHive entry the server becomes, by the rule above */
export function toolhiveKindOf(server: ServerJson): ToolhiveKind | undefined {
  const packages = server.packages ?? [];
  if (packages.some((p) => p.registryType === 'oci')) return 'image';
  if ((server.remotes ?? []).length > 0) return 'remote';
  if (packages.some((p) => SCHEMES[p.registryType] !== undefined)) return 'image';
  return undefined;
}

const IMAGE_READ = new Set<string>([...EXTENSION_COMMON_FIELDS, ...EXTENSION_IMAGE_FIELDS, ...UPSTREAM_HOME_FIELDS, 'stateless', 'description', 'title', 'target_port', 'env_vars']);
const REMOTE_READ = new Set<string>([...EXTENSION_COMMON_FIELDS, ...EXTENSION_REMOTE_FIELDS, ...UPSTREAM_HOME_FIELDS, 'stateless', 'description', 'title', 'proxy_port']);

function packageToImage(server: ServerJson, pkg: Package, image: string): ImageMetadata {
  const ext = readExtension(server, image);
  const entry: ImageMetadata = base(server, pkg.transport.type, ext) as ImageMetadata;
  entry.image = image;
  const url = (pkg.transport as { url?: unknown }).url;
  const port = targetPort(typeof url === 'string' ? url : undefined);
  if (port !== undefined) entry.target_port = port;
  else if (ext && typeof ext.target_port === 'number' && ext.target_port > 0) entry.target_port = ext.target_port;
  if (ext) setIfNotEmpty(entry, 'proxy_port', ext.proxy_port);
  if (ext) setIfNotEmpty(entry, 'permissions', ext.permissions);
  const env = [...(pkg.environmentVariables ?? []).map((v) => toEnvVar(v)), ...envFromRuntimeArguments(pkg.runtimeArguments ?? [])];
  if (env.length > 0) entry.env_vars = env;
  const args = flattenArguments(pkg.packageArguments ?? []);
  if (args.length > 0) entry.args = args;
  else if (ext) setIfNotEmpty(entry, 'args', ext.args);
  if (ext) {
    setIfNotEmpty(entry, 'docker_tags', ext.docker_tags);
    setIfNotEmpty(entry, 'provenance', ext.provenance);
    copyUnread(entry, ext, IMAGE_READ);
  }
  return entry;
}

function serverJsonToRemote(server: ServerJson, remote: Remote): RemoteServerMetadata {
  const ext = readExtension(server, remote.url);
  const entry: RemoteServerMetadata = base(server, remote.type, ext) as RemoteServerMetadata;
  entry.url = remote.url;
  if (remote.headers && remote.headers.length > 0) entry.headers = remote.headers.map(toHeader);
  if (ext) {
    setIfNotEmpty(entry, 'proxy_port', ext.proxy_port);
    setIfNotEmpty(entry, 'oauth_config', ext.oauth_config);
    setIfNotEmpty(entry, 'env_vars', ext.env_vars);
    copyUnread(entry, ext, REMOTE_READ);
  }
  return entry;
}

/** The fields every entry has; ToolHive writes description, tier, status, transport and tools always. */
function base(server: ServerJson, transport: string, ext: Extension | undefined): Record<string, unknown> {
  const entry: Record<string, unknown> = { name: server.name };
  const title = restoreText(server.title, ext?.title);
  if (title) entry.title = title;
  entry.description = restoreText(server.description, ext?.description) ?? '';
  entry.tier = typeof ext?.tier === 'string' ? ext.tier : '';
  entry.status = typeof ext?.status === 'string' ? ext.status : '';
  entry.transport = transport;
  if (ext?.stateless === true) entry.stateless = true;
  entry.tools = Array.isArray(ext?.tools) ? ext.tools : [];
  if (ext) setIfNotEmpty(entry, 'metadata', ext.metadata);
  if (server.repository?.url) entry.repository_url = server.repository.url;
  else if (typeof ext?.repository_url === 'string' && ext.repository_url !== '') entry.repository_url = ext.repository_url;
  if (ext) {
    setIfNotEmpty(entry, 'tags', ext.tags);
    setIfNotEmpty(entry, 'overview', ext.overview);
    if (Array.isArray(ext.tool_definitions) && ext.tool_definitions.length > 0) entry.tool_definitions = normalizeToolDefinitions(ext.tool_definitions);
    setIfNotEmpty(entry, 'custom_metadata', ext.custom_metadata);
  }
  return entry;
}

/** the full text kept in the extension when the upstream one is its shortened form */
function restoreText(upstream: string | undefined, full: unknown): string | undefined {
  if (typeof full === 'string' && upstream !== undefined && full !== upstream && clampText(full) === upstream) return full;
  return upstream;
}

function setIfNotEmpty(entry: Record<string, unknown>, field: string, value: unknown): void {
  if (!isEmpty(value)) entry[field] = value;
}

/** extension fields this converter does not know (written by a newer ToolHive or by us) */
function copyUnread(entry: Record<string, unknown>, ext: Extension, read: Set<string>): void {
  for (const field in ext) {
    if (!read.has(field) && entry[field] === undefined && ext[field] !== undefined) entry[field] = ext[field];
  }
}

function toEnvVar(v: KeyValueInput): EnvVar {
  const out: EnvVar = { name: v.name, description: v.description ?? '', required: v.isRequired === true };
  if (v.default) out.default = v.default;
  if (v.isSecret) out.secret = true;
  return out;
}

function toHeader(v: KeyValueInput): Header {
  const out: Header = toEnvVar(v);
  if (v.choices && v.choices.length > 0) out.choices = v.choices;
  return out;
}

/** `-e KEY=value` / `--env KEY={var}` runtime arguments (the Docker CLI pattern) */
function envFromRuntimeArguments(args: readonly Argument[]): EnvVar[] {
  const out: EnvVar[] = [];
  for (const arg of args) {
    if (arg.type !== 'named' || (arg.name !== '-e' && arg.name !== '--env') || !arg.value) continue;
    const eq = arg.value.indexOf('=');
    if (eq <= 0) continue;
    const env: EnvVar = { name: arg.value.slice(0, eq), description: arg.description ?? '', required: false };
    const value = arg.value.slice(eq + 1);
    if (value.length > 2 && value.startsWith('{') && value.endsWith('}')) {
      const variable: Input | undefined = arg.variables?.[value.slice(1, -1)];
      if (variable) {
        env.required = variable.isRequired === true;
        if (variable.isSecret) env.secret = true;
        if (variable.default) env.default = variable.default;
      }
    } else if (value !== '') {
      env.default = value;
    }
    // ToolHive: the argument's own isRequired decides
    env.required = arg.isRequired === true;
    out.push(env);
  }
  return out;
}

/** structured package arguments → plain args: the flag name, then its value */
function flattenArguments(args: readonly Argument[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (arg.name) out.push(arg.name);
    if (arg.value) out.push(arg.value);
  }
  return out;
}

/** the port of an http transport URL; undefined when there is none or it is a template */
export function targetPort(url: string | undefined): number | undefined {
  if (!url) return undefined;
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(?:\[[^\]]*\]|[^/?#:]*):(\d{1,5})(?:[/?#]|$)/i.exec(url);
  if (!m) return undefined;
  const port = Number(m[1]);
  return port >= 1 && port <= 65535 ? port : undefined;
}
