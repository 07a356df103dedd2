import { PUBLISHER_PROVIDED_KEY, type ServerJson } from './upstream-schema.ts';
import { TOOLHIVE_NAMESPACE } from './names.ts';

/**
 * ToolHive's extension inside server.json:
 * `_meta["io.modelcontextprotocol.registry/publisher-provided"]["io.github.stacklok"][<image
 * reference or remote URL>]`. Field names are ToolHive's own (snake_case).
 */

export type Extension = Record<string, unknown>;

/** Fields ToolHive's converter writes into the extension, for both kinds. */
export const EXTENSION_COMMON_FIELDS = ['status', 'tier', 'tools', 'tags', 'overview', 'metadata', 'custom_metadata', 'tool_definitions'] as const;
/** …for container images only */
export const EXTENSION_IMAGE_FIELDS = ['permissions', 'args', 'provenance', 'docker_tags', 'proxy_port'] as const;
/** …for remote servers only */
export const EXTENSION_REMOTE_FIELDS = ['oauth_config', 'env_vars'] as const;
/**
 * Fields this project adds to the extension so that nothing is lost; ToolHive ignores them:
 * `stateless`; `description`/`title` when the upstream ones had to be shortened to 100
 * characters; `target_port` of a stdio image (it has no place in a stdio transport);
 * `proxy_port` of a remote server; a `repository_url` that is not a URL.
 */
export const EXTENSION_OWN_FIELDS = ['stateless', 'description', 'title', 'target_port', 'proxy_port', 'repository_url'] as const;

/** Entry fields whose place is in server.json itself; never read back from the extension. */
export const UPSTREAM_HOME_FIELDS = ['name', 'transport', 'image', 'url', 'headers', 'repository_url'] as const;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The ToolHive extension of a server: the one keyed by `preferredKey`, else the first one. */
export function readExtension(server: ServerJson, preferredKey: string | undefined): Extension | undefined {
  const provided = server._meta?.[PUBLISHER_PROVIDED_KEY];
  if (!isRecord(provided)) return undefined;
  const stacklok = provided[TOOLHIVE_NAMESPACE];
  if (!isRecord(stacklok)) return undefined;
  if (preferredKey !== undefined) {
    const exact = stacklok[preferredKey];
    if (isRecord(exact)) return exact;
  }
  for (const key in stacklok) {
    const value = stacklok[key];
    if (isRecord(value)) return value;
  }
  return undefined;
}

/** `_meta` holding one ToolHive extension under `key` */
export function extensionMeta(key: string, extension: Extension): NonNullable<ServerJson['_meta']> {
  return { [PUBLISHER_PROVIDED_KEY]: { [TOOLHIVE_NAMESPACE]: { [key]: extension } } };
}

/**
 * ToolHive stores tool definitions as MCP `Tool` values whose `annotations` is always written;
 * a definition without one gets `{}` (as ToolHive's output does). Nothing else is changed.
 */
export function normalizeToolDefinitions(defs: readonly unknown[]): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < defs.length; i++) {
    const def = defs[i];
    if (isRecord(def) && def.annotations === undefined) {
      out ??= defs.slice();
      out[i] = { ...def, annotations: {} };
    }
  }
  return out ?? (defs as unknown[]);
}

/** Go's `omitempty`: absent, empty string, zero, false, empty array or empty object */
export function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isRecord(v)) {
    for (const _ in v) return false;
    return true;
  }
  return false;
}

const UPSTREAM_DESCRIPTION_MAX = 100;

/**
 * The official schema allows at most 100 characters for `description` and `title`; a longer
 * ToolHive text is shortened (99 characters and `…`) and the full text kept in the extension.
 */
export function clampText(text: string): string {
  if (text.length <= UPSTREAM_DESCRIPTION_MAX) return text;
  const chars = Array.from(text);
  if (chars.length <= UPSTREAM_DESCRIPTION_MAX) return text;
  return `${chars.slice(0, UPSTREAM_DESCRIPTION_MAX - 1).join('')}…`;
}
