import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { toRegistryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SnapshotStore } from '../snapshots/store.ts';
import { anonymousAccess, type AccessControl } from './auth.ts';
import type { QueryConfig } from './config.ts';
import { createQueryHandler, type QueryHandler } from './handler.ts';
import { SnapshotCache } from './snapshot-cache.ts';
import { MIB, containerMemoryLimit, memoryBudget, responseCacheBytes } from './memory-budget.ts';
import { instrumentStore } from '../telemetry/instrumented-store.ts';
import type { Telemetry } from '../telemetry/telemetry.ts';

// builtins through getBuiltinModule: ESM facades of builtins cost cold-start time
const { readFileSync } = process.getBuiltinModule('node:fs');
const { totalmem } = process.getBuiltinModule('node:os');

/** a cgroup file's text, or undefined where there is none */
function readSmallFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The query function's HTTP server (node:http): builds the caches and access control from
 * a config, listens, prefetches the default registry, and shuts down gracefully (stop
 * accepting, finish in-flight requests up to a deadline, then cut what is left).
 */

export interface QueryServerOptions {
  store: SnapshotStore;
  config: QueryConfig;
  logger: Logger;
  /** the Kubernetes credentials for TokenReview/SubjectAccessReview (kubernetes mode); default from MCPREG_KUBECONFIG or the environment */
  kubeConfig?: KubeConfig;
  host?: string;
  /** metrics, spans and audit log (default: none); GET /metrics when Prometheus is on */
  telemetry?: Telemetry;
}

export interface QueryServer {
  url: string;
  port: number;
  server: Server;
  handler: QueryHandler;
  /** graceful: stop accepting, wait for in-flight requests (up to the shutdown timeout) */
  close(): Promise<void>;
}

async function loadKubeConfig(config: QueryConfig): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (config.kubeconfigPath) kc.loadFromFile(config.kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

export async function startQueryServer(options: QueryServerOptions): Promise<QueryServer> {
  const { config, logger } = options;
  const cache = new SnapshotCache({
    store: options.telemetry ? instrumentStore(options.store, options.telemetry) : options.store,
    logger,
    pointerTtlMs: config.pointerTtlMs,
    registryListTtlMs: config.registryListTtlMs,
    negativeMaxEntries: config.negativeCacheEntries,
    negativeTtlMs: config.negativeCacheTtlMs,
    prefixBytes: config.prefixBytes,
    pieceBytes: config.pieceBytes,
  });
  const budget = memoryBudget(containerMemoryLimit(config.memoryLimitMb, readSmallFile, totalmem()), {
    ...(config.memoryBudgetMb !== undefined ? { budgetMb: config.memoryBudgetMb } : {}),
    ...(config.responseCacheMb !== undefined ? { responseCacheMb: config.responseCacheMb } : {}),
  });
  let held = 0;
  let heldAt = -Infinity;
  const access: AccessControl | (() => Promise<AccessControl>) =
    config.auth === 'anonymous'
      ? anonymousAccess
      : async () => {
          const { createKubeAccess } = await import('./kube-auth.ts');
          const kubeConfig = options.kubeConfig ?? (await loadKubeConfig(config));
          return createKubeAccess({ kubeConfig, logger, cacheTtlMs: config.authCacheTtlMs, timeoutMs: config.authTimeoutMs, ...(config.authAudiences ? { audiences: config.authAudiences } : {}) });
        };
  let eventsAuth: Promise<import('./events-auth.ts').EventsAuth> | undefined;
  const authorizeEvent = async (authorization: string | undefined) => {
    eventsAuth ??= import('./events-auth.ts').then(({ eventsAuthFromConfig }) => eventsAuthFromConfig(config, async () => options.kubeConfig ?? (await loadKubeConfig(config))));
    return (await eventsAuth)(authorization);
  };
  const handler = createQueryHandler({
    cache,
    authorizeEvent,
    logger,
    access,
    accessLog: config.accessLog,
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    responseCacheBytes: () => {
      // what the snapshots and indexes leave of the budget, re-read at most every 250 ms
      // (and at once when a snapshot finished loading)
      const now = performance.now();
      if (now - heldAt > 250) {
        held = cache.heldBytes();
        heldAt = now;
      }
      return responseCacheBytes(budget, held);
    },
    settings: { defaultRegistry: config.defaultRegistry, maxAgeSeconds: config.maxAgeSeconds },
  });
  cache.onHeld(() => {
    heldAt = -Infinity;
    handler.ctx.responses.trim();
    const heldNow = cache.heldBytes();
    if (heldNow > budget.budgetBytes) logger.warn('loaded snapshots exceed the memory budget; the response cache keeps its minimum', { heldMb: Math.round(heldNow / MIB), budgetMb: Math.round(budget.budgetBytes / MIB) });
  });
  // not an ESM import: the ESM facade of node:http loads undici (~15 ms of cold start)
  const { createServer } = process.getBuiltinModule('node:http');
  const server = createServer({ keepAlive: true, requestTimeout: 60_000, headersTimeout: 20_000 }, handler);
  // longer than the idle timeouts of the proxies in front (Knative's queue-proxy, load balancers)
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // once listening: a server that cannot start says only why (mcpreg dev's one-line errors)
  logger.info('memory budget', {
    budgetMb: Math.round(budget.budgetBytes / MIB),
    ...(budget.limit ? { limitMb: Math.round(budget.limit.bytes / MIB), limitFrom: budget.limit.source } : {}),
    ...(budget.responseCacheCapBytes !== undefined ? { responseCacheCapMb: Math.round(budget.responseCacheCapBytes / MIB) } : {}),
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

  if (config.prefetch && config.defaultRegistry) {
    const ref = config.defaultRegistry;
    cache.upstream(ref, { prefetch: true }).catch((e: unknown) => logger.warn('prefetch of the default registry failed', { registry: `${ref.namespace}/${ref.name}`, error: toRegistryError(e).describe() }));
  }
  if (config.auth === 'kubernetes') {
    // build the access control now, off the first request's path
    handler.ctx.access().catch((e: unknown) => logger.error('kubernetes access control unavailable', { error: toRegistryError(e).describe() }));
  }

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
      deadline.unref();
      // idle keep-alive sockets are closed as soon as their response is done
      const poll = setInterval(() => server.closeIdleConnections(), 50);
      try {
        await closed;
      } finally {
        clearInterval(poll);
        clearTimeout(deadline);
      }
    })();
    return closing;
  }

  return { url, port, server, handler, close };
}
