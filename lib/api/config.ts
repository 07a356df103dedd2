import { RegistryError } from '../errors.ts';
import type { RegistryRef } from '../snapshots/layout.ts';
import { parseRegistryRef } from './router.ts';

/**
 * The query function's configuration from environment variables (the store's own variables
 * are read by lib/snapshots/from-env.ts). Pure: validates and returns a plain value; a bad
 * value is a RegistryError naming the variable. Every knob, with its default:
 *
 *   PORT                        listen port (8080)
 *   MCPREG_DEFAULT_REGISTRY     namespace/name served at /v0.1/… and /v0/… (none)
 *   MCPREG_AUTH                 anonymous | kubernetes (anonymous)
 *   MCPREG_AUTH_CACHE_TTL       how long token and access decisions are reused (10s)
 *   MCPREG_AUTH_AUDIENCES       comma-separated TokenReview audiences (the API server's)
 *   MCPREG_AUTH_TIMEOUT         a TokenReview or SubjectAccessReview taking longer → 503 (5s)
 *   MCPREG_EVENTS_TOKEN         shared token the sync function sends to POST /events (none)
 *   MCPREG_EVENTS_OIDC_AUDIENCE POST /events needs the Broker's OIDC token for this audience (none)
 *   MCPREG_EVENTS_OIDC_SUBJECTS usernames allowed to deliver events with the audience (any)
 *   MCPREG_KUBECONFIG           kubeconfig file for the reviews (in-cluster config, then $KUBECONFIG)
 *   MCPREG_POINTER_TTL          revalidate a registry's current.json at most this often (2s)
 *   MCPREG_REGISTRY_LIST_TTL    reuse the list of registries for this long (5s)
 *   MCPREG_NEGATIVE_CACHE_SIZE  registry names remembered as unpublished, LRU (10000)
 *   MCPREG_NEGATIVE_CACHE_TTL   how long such a name is answered 404 without a store read (MCPREG_POINTER_TTL)
 *   MCPREG_CACHE_MAX_AGE        Cache-Control max-age of data responses (10s)
 *   MCPREG_MEMORY_LIMIT_MB      the memory limit the budget is derived from (the container's cgroup limit)
 *   MCPREG_MEMORY_BUDGET_MB     bytes the caches may hold together (derived from the limit; 48 without one)
 *   MCPREG_RESPONSE_CACHE_MB    cap of the prepared responses (what the snapshots leave of the budget)
 *   MCPREG_SNAPSHOT_PREFIX_KB   first bytes of upstream.json read to answer early pages (128)
 *   MCPREG_SNAPSHOT_PIECE_KB    size of the ranged reads that load the rest (4096)
 *   MCPREG_PREFETCH             load the default registry at start (true)
 *   MCPREG_ACCESS_LOG           one log line per request (false)
 *   MCPREG_SHUTDOWN_TIMEOUT     on SIGTERM, wait this long for in-flight requests (25s)
 *
 * Durations are `500ms`, `2s`, `1m`, or a number of seconds.
 */

export interface QueryConfig {
  port: number;
  defaultRegistry: RegistryRef | undefined;
  auth: 'anonymous' | 'kubernetes';
  authCacheTtlMs: number;
  authAudiences: string[] | undefined;
  authTimeoutMs: number;
  eventsToken: string | undefined;
  eventsOidcAudience: string | undefined;
  eventsOidcSubjects: string[];
  kubeconfigPath: string | undefined;
  pointerTtlMs: number;
  registryListTtlMs: number;
  negativeCacheEntries: number;
  negativeCacheTtlMs: number;
  maxAgeSeconds: number;
  /** MCPREG_MEMORY_LIMIT_MB, when set (else the cgroup limit is read: memory-budget.ts) */
  memoryLimitMb: number | undefined;
  memoryBudgetMb: number | undefined;
  responseCacheMb: number | undefined;
  prefixBytes: number;
  pieceBytes: number;
  prefetch: boolean;
  accessLog: boolean;
  shutdownTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

function bad(variable: string, message: string): RegistryError {
  return new RegistryError('invalid_argument', `${variable}: ${message}`, { where: { source: 'environment', path: variable } });
}

function raw(env: Env, variable: string): string | undefined {
  const v = env[variable]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
}

function duration(env: Env, variable: string, fallbackMs: number): number {
  const v = raw(env, variable);
  if (v === undefined) return fallbackMs;
  const ms = parseDuration(v);
  if (ms === undefined) throw bad(variable, `expected a duration such as 500ms, 2s or 1m, got ${JSON.stringify(v)}`);
  return ms;
}

function int(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const v = raw(env, variable);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw bad(variable, `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

function optionalInt(env: Env, variable: string, min: number, max: number): number | undefined {
  return raw(env, variable) === undefined ? undefined : int(env, variable, 0, min, max);
}

function flag(env: Env, variable: string, fallback: boolean): boolean {
  const v = raw(env, variable)?.toLowerCase();
  if (v === undefined) return fallback;
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw bad(variable, `expected true or false, got ${JSON.stringify(v)}`);
}

export function queryConfigFromEnv(env: Env = process.env): QueryConfig {
  const defaultRaw = raw(env, 'MCPREG_DEFAULT_REGISTRY');
  const defaultRegistry = defaultRaw === undefined ? undefined : parseRegistryRef(defaultRaw);
  if (defaultRaw !== undefined && !defaultRegistry) throw bad('MCPREG_DEFAULT_REGISTRY', `expected namespace/name, got ${JSON.stringify(defaultRaw)}`);
  const auth = raw(env, 'MCPREG_AUTH')?.toLowerCase() ?? 'anonymous';
  if (auth !== 'anonymous' && auth !== 'kubernetes') throw bad('MCPREG_AUTH', `expected anonymous or kubernetes, got ${JSON.stringify(auth)}`);
  const audiences = raw(env, 'MCPREG_AUTH_AUDIENCES')
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const pointerTtlMs = duration(env, 'MCPREG_POINTER_TTL', 2000);
  const eventsOidcAudience = raw(env, 'MCPREG_EVENTS_OIDC_AUDIENCE');
  const eventsOidcSubjects = (raw(env, 'MCPREG_EVENTS_OIDC_SUBJECTS') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (eventsOidcSubjects.length > 0 && !eventsOidcAudience) throw bad('MCPREG_EVENTS_OIDC_SUBJECTS', 'needs MCPREG_EVENTS_OIDC_AUDIENCE');
  return {
    port: int(env, 'PORT', 8080, 0, 65535),
    defaultRegistry,
    auth,
    authCacheTtlMs: duration(env, 'MCPREG_AUTH_CACHE_TTL', 10_000),
    authAudiences: audiences && audiences.length > 0 ? audiences : undefined,
    authTimeoutMs: duration(env, 'MCPREG_AUTH_TIMEOUT', 5000),
    eventsToken: raw(env, 'MCPREG_EVENTS_TOKEN'),
    eventsOidcAudience,
    eventsOidcSubjects,
    kubeconfigPath: raw(env, 'MCPREG_KUBECONFIG'),
    pointerTtlMs,
    registryListTtlMs: duration(env, 'MCPREG_REGISTRY_LIST_TTL', 5000),
    negativeCacheEntries: int(env, 'MCPREG_NEGATIVE_CACHE_SIZE', 10_000, 0, 10_000_000),
    negativeCacheTtlMs: duration(env, 'MCPREG_NEGATIVE_CACHE_TTL', pointerTtlMs),
    maxAgeSeconds: Math.round(duration(env, 'MCPREG_CACHE_MAX_AGE', 10_000) / 1000),
    memoryLimitMb: optionalInt(env, 'MCPREG_MEMORY_LIMIT_MB', 64, 1024 * 1024),
    memoryBudgetMb: optionalInt(env, 'MCPREG_MEMORY_BUDGET_MB', 8, 1024 * 1024),
    responseCacheMb: optionalInt(env, 'MCPREG_RESPONSE_CACHE_MB', 1, 65536),
    prefixBytes: int(env, 'MCPREG_SNAPSHOT_PREFIX_KB', 128, 1, 1024 * 1024) * 1024,
    pieceBytes: int(env, 'MCPREG_SNAPSHOT_PIECE_KB', 4096, 16, 1024 * 1024) * 1024,
    prefetch: flag(env, 'MCPREG_PREFETCH', true),
    accessLog: flag(env, 'MCPREG_ACCESS_LOG', false),
    shutdownTimeoutMs: duration(env, 'MCPREG_SHUTDOWN_TIMEOUT', 25_000),
  };
}
