// The query function's HTTP entry point: configuration from the environment, the snapshot
// store, the server, and a graceful exit on SIGTERM/SIGINT. Everything else is in lib/api/.
import { queryConfigFromEnv } from '../../lib/api/config.ts';
import { startQueryServer } from '../../lib/api/server.ts';
import { isRegistryError } from '../../lib/errors.ts';
import { createLogger } from '../../lib/log.ts';
import { createQueryStore } from '../../lib/api/query-store.ts';
import { telemetryConfigFromEnv } from '../../lib/telemetry/config.ts';
import { startTelemetry } from '../../lib/telemetry/telemetry.ts';

const logger = createLogger({ fields: { component: 'query' } });

async function main(): Promise<void> {
  const config = queryConfigFromEnv(process.env);
  const store = await createQueryStore(process.env);
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
