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

async function main(): Promise<void> {
  const config = queryConfigFromEnv(process.env);
  const created = await createQueryStore(process.env);
  const store = config.prefetch && config.defaultRegistry ? primeDefaultRegistry(created, config.defaultRegistry, config.prefixBytes) : created;
  const [{ startQueryServer }, { telemetryConfigFromEnv }, { startTelemetry }] = await Promise.all([
    import('../../lib/api/server.ts'),
    import('../../lib/telemetry/config.ts'),
    import('../../lib/telemetry/telemetry.ts'),
  ]);
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
