import type { EnvVar, Header, ImageMetadata, RemoteServerMetadata, ToolhiveEntry, ToolhiveKind } from './toolhive-schema.ts';
import { SERVER_SCHEMA_URL, type KeyValueInput, type Package, type Remote, type ServerJson } from './upstream-schema.ts';
import { buildReverseDnsName } from './names.ts';
import {
  EXTENSION_COMMON_FIELDS,
  EXTENSION_IMAGE_FIELDS,
  EXTENSION_REMOTE_FIELDS,
  UPSTREAM_HOME_FIELDS,
  clampText,
  extensionMeta,
  isEmpty,
  normalizeToolDefinitions,
  type Extension,
} from './toolhive-extension.ts';

/**
 * ToolHive entry → server.json, following ToolHive's own converter (toolhive-core
 * registry/converters): name `io.github.stacklok/<key>` unless the entry names itself, version
 * `1.0.0`, repository source `github`, one `oci` package (or one remote), and every
 * ToolHive-only field in the extension keyed by the image reference or remote URL.
 * Additions of this project (documented in README.md): texts over 100 characters are shortened
 * with the full text kept in the extension, and fields ToolHive's converter would drop
 * (unknown fields, `stateless`, a stdio image's `target_port`, a remote's `proxy_port`) travel
 * in the extension too.
 */

export const TOOLHIVE_VERSION = '1.0.0';

const COMMON_AND_HOME = new Set<string>([...EXTENSION_COMMON_FIELDS, ...UPSTREAM_HOME_FIELDS, 'title', 'description', 'stateless', 'env_vars']);
const IMAGE_HANDLED = new Set<string>([...COMMON_AND_HOME, ...EXTENSION_IMAGE_FIELDS, 'target_port']);
const REMOTE_HANDLED = new Set<string>([...COMMON_AND_HOME, ...EXTENSION_REMOTE_FIELDS, 'proxy_port']);

export function imageToServerJson(key: string, entry: ImageMetadata): ServerJson {
  const transportType = entry.transport || 'stdio';
  const transport: Package['transport'] =
    transportType === 'stdio'
      ? { type: 'stdio' }
      : { type: transportType, url: entry.target_port ? `http://localhost:${entry.target_port}` : 'http://localhost' };
  const pkg: Package = { registryType: 'oci', identifier: entry.image, transport };
  const env = (entry.env_vars ?? []).map(toKeyValueInput);
  if (env.length > 0) pkg.environmentVariables = env;

  const ext = commonExtension(entry);
  copyNonEmpty(ext, entry, EXTENSION_IMAGE_FIELDS);
  if (transportType === 'stdio' && entry.target_port) ext.target_port = entry.target_port;
  copyUnknown(ext, entry, IMAGE_HANDLED);

  const server = baseServer(key, entry, ext);
  server.packages = [pkg];
  server._meta = extensionMeta(entry.image, ext);
  return server;
}

export function remoteToServerJson(key: string, entry: RemoteServerMetadata): ServerJson {
  const remote: Remote = { type: entry.transport || 'sse', url: entry.url };
  const headers = (entry.headers ?? []).map(toKeyValueInput);
  if (headers.length > 0) remote.headers = headers;

  const ext = commonExtension(entry);
  copyNonEmpty(ext, entry, EXTENSION_REMOTE_FIELDS);
  if (entry.proxy_port) ext.proxy_port = entry.proxy_port;
  copyUnknown(ext, entry, REMOTE_HANDLED);

  const server = baseServer(key, entry, ext);
  server.remotes = [remote];
  server._meta = extensionMeta(entry.url, ext);
  return server;
}

export function toolhiveEntryToServerJson(key: string, entry: ToolhiveEntry, kind: ToolhiveKind): ServerJson {
  return kind === 'image' ? imageToServerJson(key, entry as ImageMetadata) : remoteToServerJson(key, entry as RemoteServerMetadata);
}

function baseServer(key: string, entry: ToolhiveEntry, ext: Extension): ServerJson {
  const description = entry.description ?? '';
  const server: ServerJson = {
    $schema: SERVER_SCHEMA_URL,
    name: entry.name || buildReverseDnsName(key),
    description: clampText(description),
    version: TOOLHIVE_VERSION,
  };
  if (server.description !== description) ext.description = description;
  if (entry.title) {
    server.title = clampText(entry.title);
    if (server.title !== entry.title) ext.title = entry.title;
  }
  if (entry.repository_url) {
    // the official schema wants a URI; anything else travels in the extension
    if (URL.canParse(entry.repository_url)) server.repository = { url: entry.repository_url, source: 'github' };
    else ext.repository_url = entry.repository_url;
  }
  return server;
}

function commonExtension(entry: ToolhiveEntry): Extension {
  // ToolHive writes `status` always, defaulting to "active"
  const ext: Extension = { status: entry.status || 'active' };
  copyNonEmpty(ext, entry, EXTENSION_COMMON_FIELDS);
  if (ext.tool_definitions !== undefined) ext.tool_definitions = normalizeToolDefinitions(ext.tool_definitions as unknown[]);
  if (entry.stateless === true) ext.stateless = true;
  return ext;
}

function copyNonEmpty(ext: Extension, entry: Record<string, unknown>, fields: readonly string[]): void {
  for (const field of fields) {
    if (field === 'status') continue;
    const value = entry[field];
    if (!isEmpty(value)) ext[field] = value;
  }
}

function copyUnknown(ext: Extension, entry: Record<string, unknown>, handled: Set<string>): void {
  for (const field in entry) {
    if (!handled.has(field) && entry[field] !== undefined) ext[field] = entry[field];
  }
}

function toKeyValueInput(v: EnvVar | Header): KeyValueInput {
  const out: KeyValueInput = { name: v.name };
  if (v.description) out.description = v.description;
  if (v.required) out.isRequired = true;
  if (v.secret) out.isSecret = true;
  if (v.default) out.default = v.default;
  if ('choices' in v && Array.isArray(v.choices) && v.choices.length > 0) out.choices = v.choices;
  return out;
}
