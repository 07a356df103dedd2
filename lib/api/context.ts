import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../log.ts';
import type { Telemetry } from '../telemetry/telemetry.ts';
import type { RegistryRef } from '../snapshots/layout.ts';
import { ANONYMOUS, type AccessControl, type Caller } from './auth.ts';
import { PreparedResponse, jsonResponse, problemResponse } from './prepared.ts';
import { problem, type Problem } from './problem.ts';
import type { ResponseCache } from './response-cache.ts';
import type { SnapshotCache } from './snapshot-cache.ts';
import { MORE, type Answer } from './upstream-query.ts';
import type { UpstreamView } from './upstream-view.ts';

/**
 * What every route handler gets: the caches, access control and settings, plus the small
 * helpers they share. Routes return a Reply; handler.ts turns it into HTTP.
 */

export interface Settings {
  defaultRegistry: RegistryRef | undefined;
  /** Cache-Control max-age of data responses, seconds */
  maxAgeSeconds: number;
  /** largest accepted /events body */
  maxEventBytes: number;
  readyTtlMs: number;
}

/** a reply that may be sent again for the same request URL while its snapshot is current */
export interface HotReply {
  ref: RegistryRef;
  hash: string;
  reply: Reply;
  /** the response cache key of the reply's response: the entry lives as long as that one */
  key: string;
}

export interface Ctx {
  cache: SnapshotCache;
  responses: ResponseCache;
  /** anonymous GETs by request URL (see handler.ts): lets a repeated request skip routing, parsing and awaiting */
  remember(url: string, hot: HotReply): void;
  settings: Settings;
  log: Logger;
  access(): Promise<AccessControl>;
  /** set when the access mode is known to be anonymous (skips every auth step) */
  anonymous: boolean;
  /** who may POST /events: the sync function only, when auth is on (events-auth.ts) */
  authorizeEvent(authorization: string | undefined): Promise<{ ok: true; user: string } | { ok: false; status: 401 | 403 | 503; reason: string }>;
  /** registries whose snapshot failed to load recently (registry-failures.ts; /readyz) */
  broken: import('./registry-failures.ts').BrokenRegistries;
  /** metrics and audit log of auth decisions */
  telemetry: Telemetry;
}

export interface Reply {
  response: PreparedResponse;
  /** header lists per encoding, built on first send (replies reused from the fast path) */
  sent?: Map<string, Array<string | number>>;
  /** Cache-Control; data replies get `public`/`private, max-age=…`, others `no-store` */
  cacheControl: string;
  /** extra Vary fields (Accept-Encoding is added for compressible bodies) */
  vary?: string;
  headers?: Record<string, string>;
}

export function problemReply(p: Problem, headers?: Record<string, string>): Reply {
  return { response: problemResponse(p), cacheControl: 'no-store', ...(headers ? { headers } : {}) };
}

export function dataReply(ctx: Ctx, response: PreparedResponse, vary?: string): Reply {
  const scope = ctx.anonymous ? 'public' : 'private';
  const authVary = ctx.anonymous ? undefined : 'Authorization';
  const allVary = [vary, authVary].filter((v) => v !== undefined).join(', ');
  return { response, cacheControl: `${scope}, max-age=${ctx.settings.maxAgeSeconds}`, ...(allVary ? { vary: allVary } : {}) };
}

export function plainReply(value: unknown, cacheControl = 'no-store'): Reply {
  return { response: jsonResponse(200, value), cacheControl };
}

export const registryKey = (ref: RegistryRef) => `${ref.namespace}/${ref.name}`;

export function registryNotFound(): Reply {
  return problemReply(problem(404, 'Registry not found'));
}

/** The caller, or the reply that refuses them (401, or 503 when review is unavailable). */
export async function authenticate(ctx: Ctx, headers: IncomingHttpHeaders): Promise<Caller | Reply> {
  if (ctx.anonymous) return ANONYMOUS;
  const access = await ctx.access();
  const result = await access.authenticate(headers.authorization);
  const rid = headers['x-request-id'];
  const requestId = typeof rid === 'string' && rid !== '' ? rid : undefined;
  if (result.ok) return requestId ? { ...result.caller, requestId } : result.caller;
  ctx.telemetry.metrics.authDecision(result.status === 401 ? 'unauthenticated' : 'error');
  ctx.telemetry.audit.record({
    actor: 'unknown',
    action: 'registry.read',
    resource: 'mcpregistries',
    outcome: 'denied',
    reason: result.status === 401 ? 'unauthenticated' : 'token review unavailable',
    ...(requestId ? { requestId } : {}),
  });
  return problemReply(result.problem, result.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : undefined);
}

/** null when the caller may read the registry, else the 403 reply */
export async function authorize(ctx: Ctx, caller: Caller, ref: RegistryRef): Promise<Reply | null> {
  if (ctx.anonymous) return null;
  const access = await ctx.access();
  if (await decided(ctx, caller, ref, access.canRead(caller, ref))) return null;
  return problemReply(problem(403, `Not allowed to read registry ${registryKey(ref)}`));
}

/** a read decision, counted and written to the audit log (who, which registry, allowed or denied) */
async function decided(ctx: Ctx, caller: Caller, ref: RegistryRef, decision: Promise<boolean>): Promise<boolean> {
  const { metrics, audit } = ctx.telemetry;
  let allowed: boolean;
  try {
    allowed = await decision;
  } catch (e) {
    metrics.authDecision('error');
    throw e;
  }
  metrics.authDecision(allowed ? 'allowed' : 'denied');
  audit.record({
    actor: caller.user,
    ...(caller.tokenHash ? { credential: caller.tokenHash.slice(0, 12) } : {}),
    action: 'registry.read',
    resource: `mcpregistries/${registryKey(ref)}`,
    outcome: allowed ? 'allowed' : 'denied',
    ...(caller.requestId ? { requestId: caller.requestId } : {}),
  });
  return allowed;
}

/** the registries among `refs` the caller may read */
export async function readable(ctx: Ctx, caller: Caller, refs: readonly RegistryRef[]): Promise<RegistryRef[]> {
  if (ctx.anonymous) return [...refs];
  const access = await ctx.access();
  const allowed = await Promise.all(refs.map((r) => decided(ctx, caller, r, access.canRead(caller, r))));
  return refs.filter((_, i) => allowed[i]);
}

/**
 * Runs a query against a view, waiting for a partial view to grow while the answer could
 * still change; when the load fails, the last good snapshot of the registry answers.
 */
export async function answer<T>(ctx: Ctx, ref: RegistryRef, start: { hash: string; view: UpstreamView }, query: (view: UpstreamView) => Answer<T>): Promise<{ hash: string; value: T }> {
  let { hash, view } = start;
  for (;;) {
    const a = query(view);
    if (a !== MORE) return { hash, value: a };
    if (view.failure) {
      ({ hash, view } = ctx.cache.fallback(ref, view));
      continue;
    }
    await view.changed();
  }
}

export function isReply(v: unknown): v is Reply {
  return typeof v === 'object' && v !== null && (v as Reply).response instanceof PreparedResponse;
}
