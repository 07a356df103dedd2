// The sync function's entry point: configuration from the environment, the Kubernetes client,
// the snapshot store, the controller and the HTTP server; a graceful exit on SIGTERM/SIGINT.
import { KubeConfig } from '@kubernetes/client-node';
import { isRegistryError } from '../../lib/errors.ts';
import { createLogger } from '../../lib/log.ts';
import { createStoreFromEnv } from '../../lib/snapshots/from-env.ts';
import { policyFromEnv } from '../../lib/sources/policy.ts';
import { syncConfigFromEnv } from '../../lib/sync/config.ts';
import { createSyncController } from '../../lib/sync/controller.ts';
import { createIngressAuth } from '../../lib/sync/ingress-auth.ts';
import { createWebhookHandler } from '../../lib/sync/webhook.ts';
import { telemetryConfigFromEnv } from '../../lib/telemetry/config.ts';
import { startTelemetry } from '../../lib/telemetry/telemetry.ts';
import { instrumentStore } from '../../lib/telemetry/instrumented-store.ts';
import { startSyncServer } from './server.ts';

const log = createLogger({ fields: { component: 'sync' } });

async function main(): Promise<void> {
  const config = syncConfigFromEnv(process.env);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const store = await createStoreFromEnv(process.env);
  const telemetry = await startTelemetry(telemetryConfigFromEnv(process.env, { serviceName: 'mcp-registry-sync' }));
  const controller = createSyncController({ kubeConfig, store: instrumentStore(store, telemetry), policy: policyFromEnv(process.env), config, log, telemetry });
  const authorize = config.oidcAudience ? createIngressAuth({ kubeConfig, audience: config.oidcAudience, ...(config.oidcSubjects ? { subjects: config.oidcSubjects } : {}) }) : undefined;
  const webhook = createWebhookHandler({ kubeConfig, getRegistry: controller.getRegistry, sync: controller.syncNow, log, telemetry });
  const server = await startSyncServer({
    handle: controller.handle,
    log,
    port: config.port,
    host: '0.0.0.0',
    telemetry,
    webhook,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    ...(authorize ? { authorize } : {}),
  });
  log.info('listening', { port: config.port, store: store.description, leaseNamespace: config.leaseNamespace, sink: config.sink, oidcAudience: config.oidcAudience ?? 'off' });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    server
      .close()
      .then(() => telemetry.shutdown())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  log.error('sync function failed to start', { error: isRegistryError(e) ? e.describe() : e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
