import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { parseDuration } from './duration.ts';

/**
 * The sync function's settings, from its environment. Every knob, its default and meaning:
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | `PORT` | 8080 | HTTP port (Knative sets it) |
 * | `MCPREG_SYNC_DEADLINE` | 5m | one sync's deadline; the sync aborts cleanly after it |
 * | `MCPREG_SYNC_CONCURRENCY` | 4 | registries synced at once on a ping |
 * | `MCPREG_LEASE_NAMESPACE` | `POD_NAMESPACE`, else mcp-registry | where the per-registry Leases live |
 * | `MCPREG_LEASE_DURATION` | deadline + 1m | a lease not released after this is taken over |
 * | `MCPREG_KEEP_SNAPSHOTS` | 3 | snapshots kept per registry (the current one included) |
 * | `MCPREG_API_BASE_URL` | (none) | base URL of the query API, for `status.apiEndpoint` |
 * | `K_SINK` | (none) | where `io.toolhive.registry.snapshot.published` events go |
 * | `MCPREG_EVENTS_TOKEN` | (none) | sent as `Authorization: Bearer` with those events (the query function's shared token, for direct delivery) |
 * | `MCPREG_SYNC_OIDC_AUDIENCE` | (none) | when set, every event needs a bearer token for this audience (TokenReview) |
 * | `MCPREG_SYNC_OIDC_SUBJECTS` | (any) | comma-separated usernames allowed to deliver events when the audience is set |
 * | `MCPREG_SYNC_HEADERS_TIMEOUT` | 20s | a connection that has not sent its request headers within this is closed (slowloris) |
 * | `MCPREG_SYNC_REQUEST_TIMEOUT` | 60s | the whole request (headers and body) must arrive within this; the sync it starts may take longer |
 * | `MCPREG_SYNC_KEEPALIVE_TIMEOUT` | 65s | an idle keep-alive connection is closed after this (longer than the proxies' in front) |
 * | `MCPREG_STORE`, `MCPREG_S3_*`, … | | the snapshot store (lib/snapshots/README.md) |
 * | `MCPREG_FETCH_*`, `MCPREG_ALLOW_PRIVATE_NETWORKS` | | fetch limits and SSRF policy (lib/sources/README.md) |
 */

export interface SyncConfig {
  port: number;
  deadlineMs: number;
  concurrency: number;
  leaseNamespace: string;
  leaseDurationSeconds: number;
  identity: string;
  keepSnapshots: number;
  apiBaseUrl?: string;
  sink?: string;
  /** bearer token sent with the published events (MCPREG_EVENTS_TOKEN) */
  eventsToken?: string;
  /** ingress authentication: the audience event tokens must be for, and who may send */
  oidcAudience?: string;
  oidcSubjects?: string[];
  /** HTTP server timeouts (ms) */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 65_000;

function durationOf(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  let ms: number;
  try {
    ms = parseDuration(raw, name);
  } catch (e) {
    throw new Error(`${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!(ms > 0)) throw new Error(`${name} must be a positive duration, got ${JSON.stringify(raw)}`);
  return ms;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

export function syncConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SyncConfig {
  const deadlineMs = env.MCPREG_SYNC_DEADLINE ? parseDuration(env.MCPREG_SYNC_DEADLINE, 'MCPREG_SYNC_DEADLINE') : 5 * 60_000;
  const leaseMs = env.MCPREG_LEASE_DURATION ? parseDuration(env.MCPREG_LEASE_DURATION, 'MCPREG_LEASE_DURATION') : deadlineMs + 60_000;
  const config: SyncConfig = {
    port: positiveInt(env, 'PORT', 8080),
    deadlineMs,
    concurrency: positiveInt(env, 'MCPREG_SYNC_CONCURRENCY', 4),
    leaseNamespace: env.MCPREG_LEASE_NAMESPACE || env.POD_NAMESPACE || 'mcp-registry',
    leaseDurationSeconds: Math.ceil(leaseMs / 1000),
    identity: `${env.HOSTNAME || hostname()}-${randomBytes(4).toString('hex')}`,
    keepSnapshots: positiveInt(env, 'MCPREG_KEEP_SNAPSHOTS', 3),
    headersTimeoutMs: durationOf(env, 'MCPREG_SYNC_HEADERS_TIMEOUT', DEFAULT_HEADERS_TIMEOUT_MS),
    requestTimeoutMs: durationOf(env, 'MCPREG_SYNC_REQUEST_TIMEOUT', DEFAULT_REQUEST_TIMEOUT_MS),
    keepAliveTimeoutMs: durationOf(env, 'MCPREG_SYNC_KEEPALIVE_TIMEOUT', DEFAULT_KEEPALIVE_TIMEOUT_MS),
  };
  // Node requires the headers timeout not to exceed the request timeout
  if (config.headersTimeoutMs > config.requestTimeoutMs) throw new Error('MCPREG_SYNC_HEADERS_TIMEOUT must not be longer than MCPREG_SYNC_REQUEST_TIMEOUT');
  if (env.MCPREG_API_BASE_URL) config.apiBaseUrl = env.MCPREG_API_BASE_URL.replace(/\/+$/, '');
  if (env.K_SINK) config.sink = env.K_SINK;
  if (env.MCPREG_EVENTS_TOKEN?.trim()) config.eventsToken = env.MCPREG_EVENTS_TOKEN.trim();
  if (env.MCPREG_SYNC_OIDC_AUDIENCE) config.oidcAudience = env.MCPREG_SYNC_OIDC_AUDIENCE.trim();
  const subjects = (env.MCPREG_SYNC_OIDC_SUBJECTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (subjects.length > 0) {
    if (!config.oidcAudience) throw new Error('MCPREG_SYNC_OIDC_SUBJECTS needs MCPREG_SYNC_OIDC_AUDIENCE');
    config.oidcSubjects = subjects;
  }
  return config;
}
