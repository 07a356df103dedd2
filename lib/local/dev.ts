import { mkdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { queryConfigFromEnv } from '../api/config.ts';
import { startQueryServer } from '../api/server.ts';
import { RegistryError, isRegistryError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { createStore, storeConfigFromEnv, type StoreConfig } from '../snapshots/from-env.ts';
import type { SnapshotStore } from '../snapshots/store.ts';
import { policyFromEnv } from '../sources/policy.ts';
import { syncConfigFromEnv } from '../sync/config.ts';
import { createSyncController } from '../sync/controller.ts';
import { startSyncServer } from '../../functions/sync/server.ts';
import { createWebhookHandler } from '../sync/webhook.ts';
import { startControlPlane } from './control-plane/index.ts';
import { publishedEvent } from '../events/publish.ts';
import { REGISTRY_RESOURCES, startEventBridge, WORKLOAD_RESOURCES, type EventBridge } from './event-bridge.ts';
import { prepareExampleFiles } from './example-data.ts';
import { startExampleServers, type ExampleAddresses } from './example-servers.ts';
import { githubPushEvent } from './github-push-event.ts';
import { ensureNamespace, examplePorts, installCrds, readManifests, setUpExamples, type ExamplesOutcome } from './examples.ts';
import { findCrdsDir } from './project-files.ts';
import { workloadCrds } from '../deploy/workload-crds.ts';
import { connectExistingCluster, ensureLeaseNamespace } from './existing-cluster.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { telemetryConfigFromEnv } from '../telemetry/config.ts';
import { instrumentStore } from '../telemetry/instrumented-store.ts';
import { startTelemetry } from '../telemetry/telemetry.ts';

/**
 * Local mode (`mcpreg dev`, `npm start`): the whole system in one process, no cluster.
 *
 *   control plane (Kubernetes API, state in <data>/state.json, kubeconfig <data>/kubeconfig)
 *     └─ watched by the event bridge ── ApiServerSource/PingSource CloudEvents ──► sync function (HTTP)
 *   sync function ── snapshots ──► store (<data>/snapshots, or S3) ◄── query function (the REST API)
 *                 └─ snapshot-published CloudEvent ──► query function /events
 *                                                  └──► event bridge ──► sync function (aggregates of that registry)
 *   example servers (url, git, registry API) on loopback, for the examples of crds/examples/
 *     └─ git push ── GitHub push CloudEvent (as Knative's GitHubSource) ──► event bridge ──► sync function
 *
 * Start-up order: store, query API, control plane, CRDs, example servers, sync function,
 * event bridge, examples (applied on the first start, re-pointed on later ones), then one
 * resync tick so that registries which are due (or never synced) sync at once. Everything
 * binds 127.0.0.1. A failure part-way stops what was started, in reverse.
 *
 * With `cluster` (`mcpreg dev --kubeconfig FILE`) an existing cluster takes the control plane's
 * place: it is checked first (reachable, credentials accepted, this project's CRDs served; see
 * existing-cluster.ts), nothing is installed in it, examples are applied only when asked, and
 * ToolHive's workloads are watched only where the cluster has their CRDs.
 */

export interface DevOptions {
  /** data directory (created when missing) */
  dataDir: string;
  /** query API port (0 = any free one) */
  port: number;
  /** Kubernetes API port (0 = any free one) */
  apiPort: number;
  /** resync tick period; 0 = only the one at start-up */
  resyncIntervalMs: number;
  /** start the example servers and apply crds/examples/ on the first start */
  examples: boolean;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** default: found from this module's location */
  crdsDir?: string;
  /** serve Prometheus text on GET /metrics of both functions (MCPREG_METRICS=prometheus for each) */
  metrics?: boolean;
  /** an existing cluster instead of the embedded control plane (`apiPort` is then unused) */
  cluster?: { kubeconfig: string; context?: string | undefined; timeoutMs?: number };
}

export interface DevRuntime {
  dataDir: string;
  queryUrl: string;
  apiServerUrl: string;
  kubeconfigPath: string;
  /** the kubeconfig context, when running against an existing cluster */
  context: string | undefined;
  syncUrl: string;
  /** where each function serves Prometheus text, with `metrics` */
  metricsUrls: { query: string; sync: string } | undefined;
  /** the snapshot directory (fs) or the bucket and prefix (s3) */
  store: { kind: StoreConfig['kind']; location: string };
  examples: ExampleAddresses | undefined;
  examplesOutcome: ExamplesOutcome | undefined;
  resyncIntervalMs: number;
  /** syncs being handled right now */
  activeSyncs(): number;
  /** stops everything in reverse order; syncs in progress get `graceMs` to finish */
  stop(graceMs?: number): Promise<void>;
}

const HOST = '127.0.0.1';
const LEASE_NAMESPACE = 'mcp-registry';
const LOOPBACK = ['127.0.0.0/8', '::1/128'];

/** Creates the data directory and proves it is writable, or says in one line why not. */
export async function checkDataDir(dir: string): Promise<void> {
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.code === 'ENOTDIR' || err.code === 'EEXIST' ? 'not a directory' : err.code === 'EROFS' ? 'read-only file system' : err.message;
    throw new RegistryError('invalid_argument', `the data directory is not writable: ${why}`, { where: { file: dir } });
  }
}

/** The snapshot store of local mode: S3 when the environment asks for it, else files under the data directory. */
export function devStoreConfig(env: NodeJS.ProcessEnv, dataDir: string): StoreConfig {
  const kind = env.MCPREG_STORE?.trim().toLowerCase();
  const s3 = kind === 's3' || ((kind === undefined || kind === '') && !!env.MCPREG_S3_BUCKET?.trim());
  if (s3) return storeConfigFromEnv({ ...env, MCPREG_STORE: 's3' });
  // anything but fs is refused by storeConfigFromEnv, naming the variable
  if (kind && kind !== 'fs') return storeConfigFromEnv(env);
  return storeConfigFromEnv({ ...env, MCPREG_STORE: 'fs', MCPREG_STORE_DIR: env.MCPREG_STORE_DIR?.trim() || join(dataDir, 'snapshots') });
}

function portError(e: unknown, what: string, flag: string, port: number): RegistryError {
  const message = isRegistryError(e) ? e.message : (e as Error).message;
  if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' || /already in use/.test(message)) {
    return new RegistryError('invalid_argument', `${what}: port ${port} is already in use (choose another with ${flag})`, { cause: e });
  }
  return new RegistryError('invalid_argument', `${what}: cannot listen on ${HOST}:${port}: ${message}`, { cause: e });
}

export async function startDev(options: DevOptions): Promise<DevRuntime> {
  const env = { ...(options.env ?? process.env) };
  // PORT belongs to the functions in a cluster; here the flags decide
  delete env.PORT;
  const log = options.log ?? silentLogger;
  const dataDir = resolve(options.dataDir);
  const cleanup: Array<() => Promise<void>> = [];
  const unwind = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  };

  try {
    await checkDataDir(dataDir);
    const crdsDir = options.crdsDir ?? findCrdsDir();
    const manifests = await readManifests(crdsDir);
    // an existing cluster is checked before anything starts: its failures are the likely ones
    const existing = options.cluster
      ? await connectExistingCluster({ ...options.cluster, kubeconfig: resolve(options.cluster.kubeconfig) }, manifests.crds, WORKLOAD_RESOURCES)
      : undefined;

    const storeConfig = devStoreConfig(env, dataDir);
    const store: SnapshotStore = await createStore(storeConfig);
    cleanup.push(async () => store.close?.());

    // each function its own telemetry, as in a cluster (the OTEL_* variables apply too); with
    // traces on, the outgoing-request spans of both go through the one started last (one process)
    const telemetryEnv = options.metrics ? { ...env, MCPREG_METRICS: 'prometheus' } : env;
    const queryTelemetry = await startTelemetry(telemetryConfigFromEnv(telemetryEnv, { serviceName: 'mcp-registry-query' }));
    cleanup.push(() => queryTelemetry.shutdown());
    const syncTelemetry = await startTelemetry(telemetryConfigFromEnv(telemetryEnv, { serviceName: 'mcp-registry-sync' }));
    cleanup.push(() => syncTelemetry.shutdown());

    const queryConfig = queryConfigFromEnv({ ...env, PORT: String(options.port) });
    let query;
    try {
      query = await startQueryServer({ store, config: queryConfig, logger: log.child({ component: 'query' }), host: HOST, telemetry: queryTelemetry });
    } catch (e) {
      throw portError(e, 'query API', '--port', options.port);
    }
    cleanup.push(() => query.close());

    let kubeConfig: KubeConfig;
    let apiServerUrl: string;
    let kubeconfigPath: string;
    let workloads: readonly (typeof WORKLOAD_RESOURCES)[number][];
    const leaseNamespace = env.MCPREG_LEASE_NAMESPACE || LEASE_NAMESPACE;
    if (existing) {
      ({ kubeConfig, server: apiServerUrl, kubeconfigPath } = existing);
      workloads = existing.served;
      const unwatched = WORKLOAD_RESOURCES.filter((w) => !workloads.includes(w)).map((w) => w.kind);
      if (unwatched.length > 0) log.info('the cluster has no CRD for these ToolHive workloads; their changes are not watched', { kinds: unwatched });
      await ensureLeaseNamespace(kubeConfig, leaseNamespace);
    } else {
      let cp;
      try {
        cp = await startControlPlane({ port: options.apiPort, host: HOST, dataDir, log: log.child({ component: 'control-plane' }) });
      } catch (e) {
        if (isRegistryError(e) && e.code !== 'invalid_argument') throw e;
        throw portError(e, 'Kubernetes API', '--api-port', options.apiPort);
      }
      const started = cp;
      cleanup.push(() => started.stop());
      kubeConfig = cp.kubeConfig();
      apiServerUrl = cp.url;
      kubeconfigPath = cp.kubeconfigPath ?? join(dataDir, 'kubeconfig');
      await installCrds(kubeConfig, manifests.crds);
      // ToolHive's operator owns these on a cluster; local mode stands in with compatible ones
      await installCrds(kubeConfig, workloadCrds());
      workloads = WORKLOAD_RESOURCES;
      await ensureNamespace(kubeConfig, leaseNamespace);
    }

    // the event bridge starts after the sync function; what happens before that wakes nothing
    let relay: EventBridge | undefined;
    let addresses: ExampleAddresses | undefined;
    if (options.examples) {
      const files = await prepareExampleFiles(dataDir, join(crdsDir, 'examples'));
      const examplesLog = log.child({ component: 'examples' });
      const servers = await startExampleServers(files, examplesLog, await examplePorts(kubeConfig), {
        // as Knative's GitHubSource would: one push CloudEvent per changed ref, through the bridge (the Broker's stand-in)
        onGitPush: ({ repositoryUrl, updates }) => {
          for (const update of updates) {
            examplesLog.info('git example: pushed; notifying the sync function', { repository: repositoryUrl, ref: update.ref, commit: update.after.slice(0, 12) });
            if (relay) relay.relay(githubPushEvent(repositoryUrl, update));
            else examplesLog.warn('git example: pushed before the event bridge started; the registries sync at their interval', { ref: update.ref });
          }
        },
      });
      cleanup.push(() => servers.close());
      addresses = servers.addresses;
    }

    const syncLog = log.child({ component: 'sync' });
    const fromEnv = syncConfigFromEnv(env);
    const policy = policyFromEnv(env);
    // the example servers listen on loopback, which the SSRF policy refuses by default
    policy.allowPrivate = [...new Set([...policy.allowPrivate, ...LOOPBACK])];
    const controller = createSyncController({
      kubeConfig,
      store: instrumentStore(store, syncTelemetry),
      policy,
      telemetry: syncTelemetry,
      config: {
        ...fromEnv,
        leaseNamespace,
        // stable across restarts: a lease left by a run that was killed mid-sync is taken back at once
        identity: `mcpreg-dev-${hostname()}`,
        apiBaseUrl: fromEnv.apiBaseUrl ?? query.url,
        sink: `${query.url}/events`,
      },
      log: syncLog,
      onPublished: (pointer) => relay?.relay(publishedEvent(pointer)),
    });
    const active = new Set<Promise<unknown>>();
    const sync = await startSyncServer({
      log: syncLog,
      host: HOST,
      port: 0,
      headersTimeoutMs: fromEnv.headersTimeoutMs,
      requestTimeoutMs: fromEnv.requestTimeoutMs,
      keepAliveTimeoutMs: fromEnv.keepAliveTimeoutMs,
      webhook: createWebhookHandler({ kubeConfig, getRegistry: controller.getRegistry, sync: controller.syncNow, log: syncLog, telemetry: syncTelemetry }),
      telemetry: syncTelemetry,
      handle: (event) => {
        const p = controller.handle(event);
        active.add(p);
        void p.then(
          () => active.delete(p),
          () => active.delete(p),
        );
        return p;
      },
    });
    cleanup.push(() => sync.close());

    const bridge = await startEventBridge({
      kubeConfig,
      // local mode installs the workload CRDs (above), so their changes are watched too
      resources: [...REGISTRY_RESOURCES, ...workloads],
      sink: `${sync.url}/`,
      ping: { intervalMs: options.resyncIntervalMs },
      log: log.child({ component: 'event-bridge' }),
    });
    relay = bridge;
    cleanup.push(() => bridge.stop());

    let examplesOutcome: ExamplesOutcome | undefined;
    if (addresses) {
      examplesOutcome = await setUpExamples(kubeConfig, manifests, addresses, log.child({ component: 'examples' }));
      for (const r of examplesOutcome.repointed) log.info('example registry pointed at its server\'s new port', { registry: r });
    }
    // ApiServerSource says nothing about what already exists: this tick syncs what is due
    bridge.ping();

    let stopping: Promise<void> | undefined;
    return {
      dataDir,
      queryUrl: query.url,
      apiServerUrl,
      kubeconfigPath,
      context: existing?.context,
      syncUrl: sync.url,
      metricsUrls: queryTelemetry.prometheus && syncTelemetry.prometheus ? { query: `${query.url}/metrics`, sync: `${sync.url}/metrics` } : undefined,
      store: { kind: storeConfig.kind, location: storeConfig.kind === 'fs' ? storeConfig.dir : store.description },
      examples: addresses,
      examplesOutcome,
      resyncIntervalMs: options.resyncIntervalMs,
      activeSyncs: () => active.size,
      stop(graceMs = 10_000) {
        stopping ??= (async () => {
          const started = Date.now();
          // no new events; the deliveries in flight are the syncs in progress
          await bridge.stop(graceMs);
          const left = graceMs - (Date.now() - started);
          if (active.size > 0 && left > 0) {
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([Promise.allSettled([...active]), new Promise<void>((r) => (timer = setTimeout(r, left)))]);
            clearTimeout(timer);
          }
          if (active.size > 0) log.warn('stopping with syncs still running; they are retried at the next start', { syncs: active.size });
          await unwind();
        })();
        return stopping;
      },
    };
  } catch (e) {
    await unwind();
    throw e;
  }
}
