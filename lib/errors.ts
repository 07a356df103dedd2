/**
 * Typed errors shared by every concern. An error carries a stable `code` (what went
 * wrong, for status reasons and HTTP mapping) and `where` (file, JSON path, server name,
 * source, URL, object key) so that a message can say exactly what and where.
 *
 * Never put a secret value into `message` or `where`.
 */

export const ERROR_CODES = [
  // input documents
  'invalid_json', // not JSON, truncated, not UTF-8
  'unknown_format', // neither toolhive nor upstream
  'invalid_document', // schema validation failed (strict mode, or document-level)
  'duplicate_name',
  'too_large', // payload over a size limit
  'too_deep', // nesting over a depth limit
  // sources
  'source_not_found', // ConfigMap/key/file/ref/URL 404
  'source_unavailable', // network error, 5xx after retries, server unreachable
  'source_timeout',
  'auth_failed', // 401/403 from a source, or a missing/unreadable Secret key
  'secret_not_found',
  'url_forbidden', // SSRF policy refused the address or scheme
  'host_key_rejected', // an SSH server's host key is unknown, changed or revoked
  'unsupported', // e.g. ssh:// git URLs
  'rate_limited',
  // aggregate sources: a member registry that cannot be used
  'member_not_found',
  'member_not_synced',
  'member_forbidden',
  'aggregate_cycle',
  // pipeline
  'empty_result',
  'deadline_exceeded',
  'aborted',
  // stores and concurrency
  'conflict', // lost a conditional write / stale resourceVersion
  'not_found',
  'store_unavailable',
  // everything else
  'invalid_argument',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorWhere {
  /** file or object the problem was found in (a path, a ConfigMap key, a URL path) */
  file?: string;
  /** JSON path inside the document, e.g. `servers.github.env_vars[0].name` */
  path?: string;
  /** server (entry) name the problem concerns */
  server?: string;
  /** the source, e.g. `url`, `git`, `configmap default/my-registry` */
  source?: string;
  /** a URL with credentials and query strings stripped */
  url?: string;
  /** an object-store key */
  key?: string;
}

export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly where: ErrorWhere;
  /** true when retrying the same operation later may succeed */
  readonly transient: boolean;

  constructor(code: ErrorCode, message: string, options: { where?: ErrorWhere; transient?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.where = options.where ?? {};
    this.transient = options.transient ?? false;
  }

  /** `where: message` in one line, the form the CLI and status conditions print */
  describe(): string {
    const at = formatWhere(this.where);
    return at ? `${at}: ${this.message}` : this.message;
  }

  toJSON(): { code: ErrorCode; message: string; where: ErrorWhere; transient: boolean } {
    return { code: this.code, message: this.message, where: this.where, transient: this.transient };
  }
}

export function formatWhere(where: ErrorWhere): string {
  const parts: string[] = [];
  if (where.source) parts.push(where.source);
  if (where.url) parts.push(where.url);
  if (where.file) parts.push(where.file);
  if (where.key) parts.push(where.key);
  if (where.server) parts.push(`server ${JSON.stringify(where.server)}`);
  if (where.path) parts.push(where.path);
  return parts.join(' ');
}

export function isRegistryError(e: unknown): e is RegistryError {
  return e instanceof RegistryError;
}

/** Wrap anything thrown into a RegistryError without losing the original as `cause`. */
export function toRegistryError(e: unknown, fallback: ErrorCode = 'internal', where: ErrorWhere = {}): RegistryError {
  if (e instanceof RegistryError) return e;
  if (e instanceof Error && e.name === 'AbortError') return new RegistryError('aborted', 'operation aborted', { where, cause: e });
  const message = e instanceof Error ? e.message : String(e);
  return new RegistryError(fallback, message, { where, cause: e });
}
