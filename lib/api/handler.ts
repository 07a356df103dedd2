import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRegistryError, type RegistryError } from '../errors.ts';
import { BrokenRegistries } from './registry-failures.ts';
import type { Logger } from '../log.ts';
import { pointerKey } from '../snapshots/layout.ts';
import type { AccessControl } from './auth.ts';
import { plainReply, problemReply, type Ctx, type HotReply, type Reply, type Settings } from './context.ts';
import { chooseEncoding, type Encoding, type PreparedResponse } from './prepared.ts';
import { endpointNotFound, problem } from './problem.ts';
import { ResponseCache } from './response-cache.ts';
import { allowedMethods, matchRoute, type Route } from './router.ts';
import type { SnapshotCache } from './snapshot-cache.ts';
import { upstreamRoute } from './upstream-routes.ts';
import { NO_TELEMETRY, type Telemetry } from '../telemetry/telemetry.ts';
import { routeRegistry, routeTemplate } from './route-template.ts';

/**
 * The query function's request handler: route, authenticate, answer from the caches, and
 * write the reply with ETag/304, gzip or br, Cache-Control, Vary and CORS. Routes that are
 * not on the hot path (ToolHive format, events, OpenAPI) are imported on first use.
 * Errors become problem+json without internal detail; the detail goes to the log.
 */

export interface QueryHandlerOptions {
  cache: SnapshotCache;
  logger: Logger;
  /** the access control, or a factory run on first need (kubernetes mode loads lazily) */
  access: AccessControl | (() => Promise<AccessControl>);
  settings?: Partial<Settings>;
  /** who may POST /events (default: anyone; the server passes lib/api/events-auth.ts) */
  authorizeEvent?: Ctx['authorizeEvent'];
  /** bytes of prepared responses kept, or a function giving the bound now (memory-budget.ts; default 64 MiB) */
  responseCacheBytes?: number | (() => number);
  /** log one line per request (method, path, status, duration; never headers) */
  accessLog?: boolean;
  /** request metrics, cache lookups, auth decisions; GET /metrics when Prometheus is on */
  telemetry?: Telemetry;
}

export interface QueryHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** requests being answered right now */
  readonly inflight: number;
  readonly ctx: Ctx;
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'ETag, Content-Encoding, WWW-Authenticate',
};

const PREFLIGHT_HEADERS = {
  ...CORS_HEADERS,
  'Access-Control-Allow-Methods': 'GET, HEAD, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, If-None-Match, Cache-Control',
  'Access-Control-Max-Age': '86400',
};

function statusOf(e: RegistryError): number {
  switch (e.code) {
    case 'store_unavailable':
    case 'source_unavailable':
    case 'source_timeout':
    case 'rate_limited':
    case 'deadline_exceeded':
      return 503;
    default:
      return 500;
  }
}

const GENERIC_500: Partial<Record<Route['kind'], string>> = {
  'up-list': 'Failed to get registry list',
  'up-version': 'Failed to get server details',
  'up-versions': 'Failed to get server versions',
};

/**
 * bounds of the fast path's memory of replies by URL: its bytes are the response cache's (an
 * entry goes when its response leaves the cache), so only the count is bounded here
 */
const HOT_MAX_ENTRIES = 10_000;
/** URLs remembered per cached response (different spellings of one request) */
const HOT_URLS_PER_RESPONSE = 8;

export function createQueryHandler(options: QueryHandlerOptions): QueryHandler {
  const log = options.logger;
  const hotEntries = new Map<string, HotReply>();
  /** response cache key → the URLs remembered for it */
  const hotUrls = new Map<string, string[]>();
  const forgetUrl = (url: string) => {
    const hot = hotEntries.get(url);
    if (!hot) return;
    hotEntries.delete(url);
    const urls = hotUrls.get(hot.key);
    if (!urls) return;
    const at = urls.indexOf(url);
    if (at >= 0) urls.splice(at, 1);
    if (urls.length === 0) hotUrls.delete(hot.key);
  };
  const forgetKey = (key: string) => {
    const urls = hotUrls.get(key);
    if (!urls) return;
    hotUrls.delete(key);
    for (const url of urls) if (hotEntries.get(url)?.key === key) hotEntries.delete(url);
  };
  const accessLog = options.accessLog ?? false;
  const telemetry = options.telemetry ?? NO_TELEMETRY;
  const metrics = telemetry.metrics;
  const measured = metrics.enabled;
  const tracing = telemetry.tracing;
  let accessPromise: Promise<AccessControl> | undefined;
  const access = options.access;
  const ctx: Ctx = {
    cache: options.cache,
    responses: new ResponseCache(options.responseCacheBytes ?? 64 * 1024 * 1024, measured ? (hit) => metrics.cache('response', hit) : undefined, forgetKey),
    settings: {
      defaultRegistry: options.settings?.defaultRegistry,
      maxAgeSeconds: options.settings?.maxAgeSeconds ?? 10,
      maxEventBytes: options.settings?.maxEventBytes ?? 1024 * 1024,
      readyTtlMs: options.settings?.readyTtlMs ?? 5000,
    },
    log,
    remember(url: string, hot: HotReply) {
      if (hotEntries.has(url) || !ctx.responses.has(hot.key)) return;
      const urls = hotUrls.get(hot.key) ?? [];
      if (urls.length >= HOT_URLS_PER_RESPONSE) return;
      while (hotEntries.size >= HOT_MAX_ENTRIES) forgetUrl(hotEntries.keys().next().value as string);
      hotEntries.set(url, hot);
      urls.push(url);
      hotUrls.set(hot.key, urls);
    },
    anonymous: typeof access !== 'function' && access.mode === 'anonymous',
    broken: new BrokenRegistries(),
    authorizeEvent: options.authorizeEvent ?? (async () => ({ ok: true, user: 'anonymous' })),
    telemetry,
    access() {
      if (typeof access !== 'function') return Promise.resolve(access);
      accessPromise ??= access().catch((e: unknown) => {
        accessPromise = undefined;
        throw e;
      });
      return accessPromise;
    },
  };
  options.cache.onChange((ref) => {
    // every hot entry of the registry goes with its cached response (forgetKey)
    ctx.responses.dropPrefix(`${ref.namespace}/${ref.name}|`);
  });

  let ready: { at: number; probe: Promise<Reply | null> } | undefined;
  function readiness(): Promise<Reply> {
    const now = performance.now();
    if (!ready || now - ready.at >= ctx.settings.readyTtlMs) {
      const probe = ctx.settings.defaultRegistry ?? { namespace: 'readyz', name: 'probe' };
      ready = {
        at: now,
        probe: ctx.cache.store.exists(pointerKey(probe)).then(
          () => null,
          (e: unknown) => {
            log.warn('not ready: snapshot store unreachable', { error: isRegistryError(e) ? e.describe() : String(e) });
            return problemReply(problem(503, 'The snapshot store is unreachable'));
          },
        ),
      };
    }
    return ready.probe.then((down) => {
      if (down) return down;
      const broken = ctx.broken.list();
      return plainReply({ status: 'ready', store: ctx.cache.store.description, ...(broken.length ? { brokenRegistries: broken } : {}) });
    });
  }

  let openapi: Promise<Reply> | undefined;
  let toolhiveModule: Promise<typeof import('./toolhive-routes.ts')> | undefined;

  async function dispatch(route: Route, method: string, rawQuery: string, req: IncomingMessage): Promise<Reply> {
    if (!allowedMethods(route).includes(method === 'HEAD' ? 'GET' : method)) {
      if (route.kind === 'not-found') return problemReply(endpointNotFound(pathOf(req)));
      const detail = route.kind === 'up-status' ? `Method ${method} is not allowed here: status updates are not supported, this registry is synced from its source` : `Method ${method} is not allowed here`;
      return problemReply(problem(405, detail), { Allow: [...allowedMethods(route), 'OPTIONS'].join(', ') });
    }
    switch (route.kind) {
      case 'up-list':
      case 'up-versions':
      case 'up-version':
      case 'up-ping':
      case 'up-health':
      case 'up-publish':
        return upstreamRoute(ctx, route, rawQuery, req.headers, req.url ?? '/');
      case 'healthz':
        return plainReply({ status: 'ok' });
      case 'readyz':
        return readiness();
      case 'th-registries':
      case 'th-registry':
      case 'th-servers':
      case 'th-server': {
        // the module once (an import() per request cost ~12 µs of module-map lookups)
        const { toolhiveRoute } = await (toolhiveModule ??= import('./toolhive-routes.ts'));
        return toolhiveRoute(ctx, route, rawQuery, req.headers);
      }
      case 'registry-file': {
        const { registryFileRoute } = await import('./registry-file-route.ts');
        return registryFileRoute(ctx, route.registry, rawQuery, req.headers);
      }
      case 'th-search': {
        const { searchRoute } = await import('./search-route.ts');
        return searchRoute(ctx, rawQuery, req.headers);
      }
      case 'events': {
        const { eventsRoute } = await import('./events-route.ts');
        return eventsRoute(ctx, req);
      }
      case 'openapi':
        openapi ??= import('./openapi.ts').then(({ openApiReply }) => openApiReply()).catch((e: unknown) => {
          openapi = undefined;
          throw e;
        });
        return openapi;
      case 'bad-registry':
        return problemReply(problem(404, 'Registry not found'));
      case 'bad-encoding':
        return problemReply(problem(400, 'Bad request: invalid percent-encoding in the path', { errors: [{ message: 'invalid percent-encoding', location: route.location, value: route.value }] }));
      case 'not-found':
        return problemReply(endpointNotFound(pathOf(req)));
      case 'up-status':
        throw new Error('unreachable: up-status allows no method');
    }
  }

  let inflight = 0;

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    // fast path: a repeated anonymous read whose snapshot is still current, answered without
    // routing, parsing or awaiting anything
    // (with tracing on, every request gets its span on the ordinary path)
    if (!accessLog && !tracing.enabled && (method === 'GET' || method === 'HEAD')) {
      const hot = hotEntries.get(url);
      const t0 = measured ? performance.now() : 0;
      if (hot && ctx.cache.freshHash(hot.ref) === hot.hash) {
        ctx.responses.touch(hot.key);
        // the body in the negotiated encoding may still be compressing: then it is written
        // when ready (never a second time by the ordinary path)
        const pending = write(req, res, method, hot.reply);
        const done = () => {
          if (measured) {
            metrics.cache('hot', true);
            observe(matchRoute(pathOf(req)), method, res.statusCode, t0);
          }
        };
        if (pending === undefined) done();
        else
          pending.then(done, (e: unknown) => {
            log.error('failed to write a response', { path: pathOf(req), error: e instanceof Error ? e.message : String(e) });
            res.destroy();
          });
        return;
      }
    }
    inflight++;
    const started = accessLog || measured ? performance.now() : 0;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    if (path === '/metrics' && telemetry.prometheus && method === 'GET') {
      inflight--;
      telemetry.prometheus(req, res);
      return;
    }
    const route = matchRoute(path);
    const finish = () => {
      inflight--;
      if (accessLog) log.info('request', { method, path, status: res.statusCode, ms: Math.round((performance.now() - started) * 10) / 10 });
      if (measured) observe(route, method, res.statusCode, started);
    };
    if (method === 'OPTIONS') {
      res.writeHead(204, PREFLIGHT_HEADERS);
      res.end();
      finish();
      return;
    }
    const answer = (): Promise<Reply> => {
      let pending: Promise<Reply>;
      try {
        pending = dispatch(route, method, rawQuery, req);
      } catch (e) {
        pending = Promise.reject(e);
      }
      return pending.catch((e: unknown) => failure(e, route, path));
    };
    (tracing.enabled ? traced(route, method, req, answer) : answer())
      .then((reply) => write(req, res, method, reply))
      .catch((e: unknown) => {
        log.error('failed to write a response', { path, error: e instanceof Error ? e.message : String(e) });
        res.destroy();
      })
      .finally(finish);
  }) as QueryHandler;

  /** a server span named by the route template, continuing the caller's W3C trace context */
  function traced(route: Route, method: string, req: IncomingMessage, answer: () => Promise<Reply>): Promise<Reply> {
    const template = routeTemplate(route);
    return tracing.span(
      `${method} ${template}`,
      { 'http.request.method': method, 'http.route': template },
      async (span) => {
        const reply = await answer();
        const status = reply.response.status;
        span.setAttributes({ 'http.response.status_code': status });
        if (status >= 500) span.fail(String(status));
        return reply;
      },
      req.headers,
    );
  }

  const defaultRegistry = ctx.settings.defaultRegistry ? `${ctx.settings.defaultRegistry.namespace}/${ctx.settings.defaultRegistry.name}` : undefined;
  function observe(route: Route, method: string, status: number, started: number): void {
    // a registry label only for answers from a registry that exists: made-up names in
    // 404s and 403s must not grow the series
    const registry = status < 400 ? routeRegistry(route, defaultRegistry) : undefined;
    metrics.request({ method, route: routeTemplate(route), status, seconds: (performance.now() - started) / 1000, ...(registry !== undefined ? { registry } : {}) });
  }

  function failure(e: unknown, route: Route, path: string): Reply {
    if (isRegistryError(e)) {
      const status = statusOf(e);
      log.error('request failed', { path, code: e.code, error: e.describe() });
      if (status === 503) return problemReply(problem(503, 'The registry data is temporarily unavailable'), { 'Retry-After': '1' });
      return problemReply(problem(500, GENERIC_500[route.kind] ?? 'Internal server error'));
    }
    log.error('request failed', { path, error: e instanceof Error ? e.message : String(e) });
    return problemReply(problem(500, GENERIC_500[route.kind] ?? 'Internal server error'));
  }

  Object.defineProperty(handler, 'inflight', { get: () => inflight });
  Object.defineProperty(handler, 'ctx', { value: ctx });
  return handler;
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * Writes a reply: synchronously when the body in the negotiated encoding is ready (returns
 * undefined), else once it is compressed (returns that promise). Header lists are built once
 * per reply and encoding.
 */
function write(req: IncomingMessage, res: ServerResponse, method: string, reply: Reply): Promise<void> | undefined {
  const r: PreparedResponse = reply.response;
  const ok = r.status === 200;
  const encoding = ok && r.compressible ? chooseEncoding(req.headers['accept-encoding']) : 'identity';
  if (ok && r.matches(req.headers['if-none-match'])) {
    const headers = headerList(reply, encoding, false);
    res.writeHead(304, headers);
    res.end();
    return undefined;
  }
  const v = r.variant(encoding);
  if (v instanceof Buffer) {
    res.writeHead(r.status, headerList(reply, encoding, true));
    if (method === 'HEAD') res.end();
    else res.end(v);
    return undefined;
  }
  return (v as Promise<Buffer>).then((body) => {
    res.writeHead(r.status, headerList(reply, encoding, true));
    if (method === 'HEAD') res.end();
    else res.end(body);
  });
}

/** [name, value, name, value, …] for writeHead, memoised on the reply */
function headerList(reply: Reply, encoding: Encoding, withBody: boolean): Array<string | number> {
  const key = withBody ? encoding : `304:${encoding}`;
  reply.sent ??= new Map();
  let list = reply.sent.get(key);
  if (list) return list;
  const r = reply.response;
  const ok = r.status === 200;
  const headers: Record<string, string | number> = { ...CORS_HEADERS, 'Cache-Control': reply.cacheControl };
  if (withBody) headers['Content-Type'] = r.contentType;
  if (reply.headers) Object.assign(headers, reply.headers);
  const vary = [r.compressible && ok ? 'Accept-Encoding' : undefined, reply.vary].filter((v) => v !== undefined).join(', ');
  if (vary) headers.Vary = vary;
  if (ok) headers.ETag = r.etagFor(encoding);
  if (withBody) {
    if (encoding !== 'identity') headers['Content-Encoding'] = encoding;
    const body = r.variant(encoding);
    headers['Content-Length'] = body instanceof Buffer ? body.length : 0;
  }
  list = Object.entries(headers).flat();
  reply.sent.set(key, list);
  return list;
}
