// The query function's HTTP entry point: configuration from the environment, the snapshot
// store, the server, and a graceful exit on SIGTERM/SIGINT. Everything else is in lib/api/.
// The server's modules are imported once the store exists and the default registry's first
// reads are under way (lib/api/primed-store.ts): loading them overlaps those round trips.
import { queryConfigFromEnv } from '../../lib/api/config.ts';
import { primeDefaultRegistry } from '../../lib/api/primed-store.ts';
import { isRegistryError } from '../../lib/errors.ts';
import { createLogger } from '../../lib/log.ts';
import { createQueryStore } from '../../lib/api/query-store.ts';

const logger = createLogger({ fields: { component: 'query' } });

/** `load()` on the next turn of the event loop, after the I/O that is ready */
const nextTurn = <T>(load: () => Promise<T>): Promise<T> => new Promise<void>((resolve) => setImmediate(resolve)).then(load);

async function main(): Promise<void> {
  const config = queryConfigFromEnv(process.env);
  const created = await createQueryStore(process.env);
  const store = config.prefetch && config.defaultRegistry ? primeDefaultRegistry(created, config.defaultRegistry, config.prefixBytes) : created;
  // Module loading runs as one chain of microtasks, during which no I/O is handled: the
  // primed reads' connect, the pointer's answer and the ranged read it starts would all wait
  // for the last module. So the modules load one graph per event-loop turn.
  const { telemetryConfigFromEnv } = await nextTurn(() => import('../../lib/telemetry/config.ts'));
  const { startTelemetry } = await nextTurn(() => import('../../lib/telemetry/telemetry.ts'));
  const { startQueryServer } = await nextTurn(() => import('../../lib/api/server.ts'));
  const telemetry = await startTelemetry(telemetryConfigFromEnv(process.env, { serviceName: 'mcp-registry-query' }));
  const server = await startQueryServer({ store, config, logger, telemetry });
  logger.info('listening', { url: server.url, store: store.description, auth: config.auth, defaultRegistry: config.defaultRegistry ? `${config.defaultRegistry.namespace}/${config.defaultRegistry.name}` : undefined });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, inflight: server.handler.inflight });
    server
      .close()
      .then(() => telemetry.shutdown())
      .then(() => {
        store.close?.();
        process.exit(0);
      })
      .catch(() => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  logger.error('query function failed to start', { error: isRegistryError(e) ? e.describe() : e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
