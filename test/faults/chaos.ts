/**
 * The seeded chaos run: the sync function as a real process (dist/sync.js), the query function
 * as a real process (dist/query.js), the embedded control plane behind a freezable TCP proxy,
 * S3 (s3rver behind the fault front) and HTTP sources. Each step changes one registry's source
 * (a ConfigMap or a URL document), asks for a sync the way the cluster would (an ApiServerSource
 * event, or the PingSource's ping) and, at random points of that sync, injects S3 faults of
 * every kind, freezes / stops / restarts the Kubernetes API and kill -9s the sync process (then
 * starts it again). After each step the invariant checker (invariants.ts) runs twice: on what
 * the faults left, and after the system was given the chance to recover (events redelivered
 * as the Broker would, pings as the PingSource would).
 *
 * The seed fixes every decision (what changes, which faults, when); timing still varies from
 * run to run, so a seed replays the same schedule, not the same interleaving.
 *
 * Run it with `npm run test:faults` (chaos-run.ts); chaos.test.ts runs a short one in `npm test`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { cp as copy, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudEvent, HTTP } from 'cloudevents';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane/index.ts';
import { kubeConfigObject } from '../../lib/local/control-plane/kubeconfig.ts';
import { createS3Store, type S3Store } from '../../lib/snapshots/s3-store.ts';
import { parsePointer } from '../../lib/snapshots/read.ts';
import { Rng } from '../bench/generate.ts';
import { startKube } from '../harness/kube.ts';
import { startFreezableProxy, type FreezableProxy } from '../servers/freezable-proxy.ts';
import { startHttpServer, type TestHttpServer } from '../servers/http.ts';
import { s3StoreEnv, startS3Server, type TestS3 } from '../servers/s3.ts';
import { FAULT_KINDS, emptyInjected, type FaultKind, type FaultRule } from '../servers/s3-faults.ts';
import { changeRegistry, newRegistryModel, registryDocument, type RegistryModel } from './chaos-model.ts';
import {
  checkConverged,
  checkPointerComplete,
  checkProcess,
  checkProgress,
  checkQuery,
  checkStatus,
  checkVersions,
  keysNamed,
  type CheckedSnapshot,
  type Entry,
  type InvariantName,
  type QueryObservation,
  type Served,
  type StatusView,
  type Violation,
} from './invariants.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SYNC_BUNDLE = join(ROOT, 'dist', 'sync.js');
const QUERY_BUNDLE = join(ROOT, 'dist', 'query.js');
const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'team';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** the sync function's timing, short so that a killed holder's lease lapses quickly */
const SYNC_DEADLINE = '3s';
const LEASE_DURATION = '4s';
const POINTER_TTL_MS = 250;
/** how long a restarted sync process may take to answer /healthz */
const RESTART_LIMIT_MS = 15_000;
/** how long recovery may take once the faults stop (a dead holder's lease, a retry's backoff) */
const CONVERGE_LIMIT_MS = 30_000;

export interface ChaosOptions {
  seed: number;
  steps: number;
  /** progress lines (default: none) */
  log?: (line: string) => void;
}

export interface ChaosCounts {
  steps: number;
  syncs: number;
  syncsByOutcome: Record<'published' | 'unchanged' | 'failed', number>;
  deliveries: number;
  pings: number;
  faultsArmed: number;
  faultsInjected: Record<FaultKind, number>;
  kills: number;
  restarts: number;
  apiFreezes: number;
  apiStops: number;
  apiRestarts: number;
  invariantChecks: number;
  checksByInvariant: Record<InvariantName, number>;
}

export interface ChaosFailure {
  step: number;
  phase: 'after-faults' | 'after-recovery';
  violations: Violation[];
  /** what the step did, for the report */
  plan: string;
  /** where the sync process's log and the run's record were kept */
  keptDir: string;
}

export interface ChaosReport {
  seed: number;
  counts: ChaosCounts;
  durationMs: number;
  failure?: ChaosFailure;
}

interface RegistryDef {
  name: string;
  source: 'configmap' | 'url';
}

export const REGISTRIES: RegistryDef[] = [
  { name: 'cm-one', source: 'configmap' },
  { name: 'url-two', source: 'url' },
  { name: 'cm-three', source: 'configmap' },
  { name: 'url-four', source: 'url' },
];

/**
 * A free port below the kernel's ephemeral range (32768+ on Linux): the processes started here
 * listen a while after the port is picked (and the sync function again after each kill), and a
 * port from the ephemeral range could meanwhile go to another test's server, which would then
 * answer our health checks and events.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer()
        .once('error', () => resolve(false))
        .listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One step's plan, drawn from the seed before anything runs. */
export interface StepPlan {
  registry: RegistryDef;
  delivery: 'event' | 'ping';
  faults: FaultRule[];
  kube: { kind: 'freeze' | 'stop' | 'restart'; atMs: number; forMs: number } | null;
  killAtMs: number | null;
}

function drawFault(rng: Rng): FaultRule {
  const kind = rng.pick(FAULT_KINDS);
  // the sync reads the pointer (GET), checks objects (HEAD), writes snapshot objects and the pointer (PUT), lists and deletes when pruning
  const targets: Array<{ method?: string; key?: string }> =
    kind === 'lost-response'
      ? [{ method: 'PUT', key: 'current\\.json$' }, { method: 'PUT', key: 'snapshots/' }, { method: 'PUT' }]
      : kind === 'slow' || kind === 'reset' || kind === 'stall'
        ? [{ method: 'GET', key: 'current\\.json$' }, { method: 'GET', key: 'snapshots/' }, { method: 'GET' }]
        : [{ method: 'GET', key: 'current\\.json$' }, { method: 'PUT', key: 'current\\.json$' }, { method: 'PUT', key: 'snapshots/' }, { method: 'HEAD' }, { method: 'GET' }, {}];
  const rule: FaultRule = { kind, ...rng.pick(targets), count: rng.int(1, 3) };
  // part-way through the sync: the first matching requests pass
  if (rng.chance(0.4)) rule.after = rng.int(1, 3);
  if (kind === 'status') rule.status = rng.pick([500, 503]);
  if (kind === 'timeout') rule.ms = 2_000;
  if (kind === 'slow') {
    rule.delayMs = rng.int(20, 150);
    rule.chunkBytes = rng.pick([512, 1024, 4096]);
  }
  return rule;
}

export function drawPlan(rng: Rng, syncMs: number): StepPlan {
  const registry = rng.pick(REGISTRIES);
  const delivery = rng.chance(0.2) ? 'ping' : 'event';
  const faults: FaultRule[] = [];
  if (rng.chance(0.6)) {
    for (let i = rng.int(1, 2); i > 0; i--) {
      const rule = drawFault(rng);
      faults.push(rule);
      // a partition mid-write: the answer is lost, and the client's retries fail too
      if (rule.kind === 'lost-response' && rng.chance(0.5)) faults.push({ kind: 'status', status: 503, ...(rule.method ? { method: rule.method } : {}), ...(rule.key ? { key: rule.key } : {}), count: 2 });
    }
  }
  const roll = rng.next();
  const at = () => Math.round(rng.next() * syncMs * 1.2);
  const kube = roll < 0.12 ? { kind: 'freeze' as const, atMs: at(), forMs: rng.int(200, 2_500) } : roll < 0.2 ? { kind: 'stop' as const, atMs: at(), forMs: rng.int(200, 2_500) } : roll < 0.27 ? { kind: 'restart' as const, atMs: at(), forMs: 0 } : null;
  const killAtMs = rng.chance(0.12) ? Math.round(rng.next() * syncMs * 1.5) : null;
  return { registry, delivery, faults, kube, killAtMs };
}

function describePlan(step: number, p: StepPlan, changes: string[]): string {
  const faults = p.faults.map((f) => `${f.kind}${f.status ? ` ${f.status}` : ''} ${f.method ?? '*'} ${f.key ?? '*'} ×${f.count}${f.after ? ` after ${f.after}` : ''}`).join('; ');
  const kube = p.kube ? `API ${p.kube.kind} at ${p.kube.atMs} ms${p.kube.forMs ? ` for ${p.kube.forMs} ms` : ''}` : '';
  const kill = p.killAtMs !== null ? `kill -9 at ${p.killAtMs} ms` : '';
  return `step ${step}: ${p.registry.name} (${p.registry.source}) ${changes.join('+')}, via ${p.delivery}${faults ? `; S3 ${faults}` : ''}${kube ? `; ${kube}` : ''}${kill ? `; ${kill}` : ''}`;
}

function emptyCounts(): ChaosCounts {
  return {
    steps: 0,
    syncs: 0,
    syncsByOutcome: { published: 0, unchanged: 0, failed: 0 },
    deliveries: 0,
    pings: 0,
    faultsArmed: 0,
    faultsInjected: emptyInjected(),
    kills: 0,
    restarts: 0,
    apiFreezes: 0,
    apiStops: 0,
    apiRestarts: 0,
    invariantChecks: 0,
    checksByInvariant: { 'pointer-complete': 0, 'versions-exact': 0, 'no-rollback': 0, 'history-kept': 0, 'query-serves-pointer': 0, 'status-truthful': 0, 'process-returns': 0, converges: 0 },
  };
}

/** The counts line the run prints at the end. */
export function countsLine(seed: number, c: ChaosCounts): string {
  const faults = Object.entries(c.faultsInjected)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return (
    `chaos seed=${seed}: ${c.steps} steps, ${c.syncs} syncs (${c.syncsByOutcome.published} published, ${c.syncsByOutcome.unchanged} unchanged, ${c.syncsByOutcome.failed} failed), ` +
    `${c.deliveries} events + ${c.pings} pings delivered; S3 faults injected ${Object.values(c.faultsInjected).reduce((a, b) => a + b, 0)} of ${c.faultsArmed} armed (${faults}); ` +
    `kill -9 ${c.kills} (restarts ${c.restarts}); API freezes ${c.apiFreezes}, stops ${c.apiStops}, restarts ${c.apiRestarts}; invariant checks ${c.invariantChecks}`
  );
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  for (const bundle of [SYNC_BUNDLE, QUERY_BUNDLE]) if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build first`);
  const started = Date.now();
  const log = options.log ?? (() => {});
  const rng = new Rng(options.seed);
  const counts = emptyCounts();
  const dir = await mkdtemp(join(tmpdir(), 'mcpreg-chaos-'));
  // the run's own copy of the bundles: a rebuild of dist/ meanwhile (npm run build, merging)
  // would otherwise make a restarted sync process fail to load its chunks
  const dist = join(dir, 'dist');
  await copy(join(ROOT, 'dist'), dist, { recursive: true, filter: (src: string) => !src.endsWith('.map') });
  const syncBundle = join(dist, 'sync.js');
  const queryBundle = join(dist, 'query.js');
  const syncLogPath = join(dir, 'sync.log');
  const recordPath = join(dir, 'steps.log');

  let s3: TestS3 | undefined;
  let cp: ControlPlane | undefined;
  let proxy: FreezableProxy | undefined;
  let http: TestHttpServer | undefined;
  let raw: S3Store | undefined;
  let sync: ChildProcess | undefined;
  let query: ChildProcess | undefined;
  let failure: ChaosFailure | undefined;
  const kubeDir = join(dir, 'kube');

  let threw = false;
  try {
    s3 = await startS3Server();
    // stopped and started again on the same port: one outside the ephemeral range (freePort)
    cp = await startKube({ port: await freePort(), dataDir: kubeDir, namespaces: [NS, 'mcp-registry'] });
    const cpPort = cp.port;
    const token = cp.tokenFor();
    const kc: KubeConfig = kubeConfigObject(cp.url, 'admin', token);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const core = kc.makeApiClient(CoreV1Api);
    proxy = await startFreezableProxy(cp.url);
    const kubeconfigPath = join(dir, 'sync-kubeconfig');
    await writeFile(kubeconfigPath, kubeConfigObject(proxy.url, 'admin', token).exportConfig());
    http = await startHttpServer();
    raw = await createS3Store({ ...s3.storeOptions(), endpoint: s3.rawEndpoint, maxAttempts: 2, requestTimeoutMs: 10_000 });

    const s3Env = {
      ...s3StoreEnv(s3),
      MCPREG_S3_MAX_ATTEMPTS: '3',
      MCPREG_S3_CONNECT_TIMEOUT_MS: '1000',
      MCPREG_S3_REQUEST_TIMEOUT_MS: '1000',
      MCPREG_LOG_FORMAT: 'json',
    };

    // the query function
    const queryPort = await freePort();
    const queryUrl = `http://127.0.0.1:${queryPort}`;
    query = spawn(process.execPath, [queryBundle], {
      env: { PATH: process.env.PATH, ...s3Env, PORT: String(queryPort), MCPREG_POINTER_TTL: `${POINTER_TTL_MS}ms`, MCPREG_REGISTRY_LIST_TTL: `${POINTER_TTL_MS}ms`, MCPREG_PREFETCH: 'false', MCPREG_S3_REQUEST_TIMEOUT_MS: '3000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let queryErr = '';
    query.stderr!.on('data', (d: Buffer) => (queryErr = (queryErr + d.toString()).slice(-20_000)));
    if ((await waitHealthy(queryUrl, 20_000, () => query?.exitCode !== null)) === null) throw new Error(`the query function did not start:\n${queryErr}`);

    // the sync function: the same port across restarts, as a pod's container keeps its Service
    const syncPort = await freePort();
    const syncUrl = `http://127.0.0.1:${syncPort}`;
    const startSync = (): ChildProcess => {
      const child = spawn(process.execPath, [syncBundle], {
        env: {
          PATH: process.env.PATH,
          ...s3Env,
          PORT: String(syncPort),
          KUBECONFIG: kubeconfigPath,
          MCPREG_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
          MCPREG_LEASE_NAMESPACE: 'mcp-registry',
          MCPREG_SYNC_DEADLINE: SYNC_DEADLINE,
          MCPREG_LEASE_DURATION: LEASE_DURATION,
          MCPREG_FETCH_RETRY_BASE: '100ms',
          K_SINK: `${queryUrl}/events`,
          HOSTNAME: 'chaos-sync',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let partial = '';
      child.stderr!.on('data', (d: Buffer) => {
        const text = partial + d.toString();
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          appendFileSync(syncLogPath, `${line}\n`);
          try {
            const { msg, ms } = JSON.parse(line) as { msg?: string; ms?: number };
            // the controller's line per sync (the pipeline logs its own 'sync failed' too, without ms)
            if ((msg === 'sync published' || msg === 'sync unchanged' || msg === 'sync failed') && ms !== undefined) {
              counts.syncs++;
              counts.syncsByOutcome[msg.slice(5) as 'published' | 'unchanged' | 'failed']++;
            }
          } catch {
            // not a JSON line (a crash trace): kept in the log
          }
        }
      });
      return child;
    };
    sync = startSync();
    if ((await waitHealthy(syncUrl, RESTART_LIMIT_MS, () => sync?.exitCode !== null)) === null) throw new Error('the sync function did not start (see its log)');

    // the registries and their sources
    const models = new Map<string, RegistryModel>();
    const writeSource = async (def: RegistryDef): Promise<Record<string, unknown>> => {
      const doc = registryDocument(models.get(def.name)!);
      if (def.source === 'url') {
        http!.route(`/${def.name}.json`, { body: doc, etag: `"r${models.get(def.name)!.revisions.length - 1}"` });
        return {};
      }
      return (await core.patchNamespacedConfigMap({ namespace: NS, name: `${def.name}-source`, body: { data: { 'registry.json': doc } } }, mergePatch)) as unknown as Record<string, unknown>;
    };
    const syncPolicy = { interval: '1h', retry: { maxRetries: 100, backoffInterval: '1s' } };
    for (const def of REGISTRIES) {
      models.set(def.name, newRegistryModel(rng));
      if (def.source === 'configmap') {
        await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `${def.name}-source` }, data: { 'registry.json': registryDocument(models.get(def.name)!) } } });
      } else await writeSource(def);
      const source = def.source === 'configmap' ? { type: 'configmap', configMap: { name: `${def.name}-source`, key: 'registry.json' } } : { type: 'url', url: { url: `${http.url}/${def.name}.json`, allowHttp: true } };
      await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name: def.name }, spec: { source, syncPolicy } } });
    }

    const post = async (event: CloudEvent<unknown>): Promise<number | Error> => {
      const message = HTTP.binary(event);
      try {
        const res = await fetch(`${syncUrl}/`, { method: 'POST', headers: message.headers as Record<string, string>, body: String(message.body), signal: AbortSignal.timeout(60_000) });
        await res.text();
        return res.status;
      } catch (e) {
        return e instanceof Error ? e : new Error(String(e));
      }
    };
    const pingEvent = () => new CloudEvent({ type: 'dev.knative.sources.ping', source: '/apis/v1/namespaces/mcp-registry/pingsources/mcp-registry-resync', datacontenttype: 'application/json', data: {} });
    const deliverPing = async () => {
      counts.pings++;
      return post(pingEvent());
    };

    const getRegistry = async (name: string) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name })) as { metadata: { generation?: number; annotations?: Record<string, string> }; status?: StatusView & { lastManualSyncTrigger?: string } };

    // ---------------------------------------------------------------- observing and checking
    const served = new Map<string, Served>();
    const check = (name: InvariantName, n = 1) => {
      counts.invariantChecks += n;
      counts.checksByInvariant[name] += n;
    };

    interface Observed {
      snapshots: Map<string, CheckedSnapshot>;
      statuses: Map<string, StatusView | undefined>;
      violations: Violation[];
    }

    /** every pointer in the store (raw s3rver, no faults), the snapshots they name, and each registry's status */
    const observe = async (): Promise<Observed> => {
      const violations: Violation[] = [];
      const snapshots = new Map<string, CheckedSnapshot>();
      const keys = await raw!.list('registries/');
      const pointers = keys.filter((k) => k.endsWith('/current.json'));
      for (const key of pointers) {
        const [, namespace, name] = key.split('/') as [string, string, string];
        const ref = { namespace, name };
        const object = await raw!.get(key);
        if (object === null || object === 'not-modified') continue;
        const objects = new Map<string, Uint8Array | null>();
        try {
          const pointer = parsePointer(ref, object);
          for (const k of keysNamed(pointer, `registries/${namespace}/${name}/`)) {
            const o = await raw!.get(k);
            objects.set(k, o && o !== 'not-modified' ? o.body : null);
          }
        } catch {
          // reported by checkPointerComplete
        }
        const result = checkPointerComplete({ ref, pointerKey: key, pointerBytes: object.body, pointerEtag: object.etag, objects });
        check('pointer-complete');
        violations.push(...result.violations);
        if (result.snapshot) snapshots.set(`${namespace}/${name}`, result.snapshot);
      }
      const statuses = new Map<string, StatusView | undefined>();
      for (const def of REGISTRIES) statuses.set(def.name, (await getRegistry(def.name)).status);
      return { snapshots, statuses, violations };
    };

    const queryObservation = async (name: string): Promise<QueryObservation> => {
      const infoRes = await fetch(`${queryUrl}/api/v1/registries/${NS}/${name}`);
      const infoBody = (await infoRes.json().catch(() => ({}))) as { snapshot?: { hash?: string }; serverCount?: number; versionCount?: number };
      const info = { status: infoRes.status, ...(infoBody.snapshot?.hash ? { hash: infoBody.snapshot.hash } : {}), ...(infoBody.serverCount !== undefined ? { serverCount: infoBody.serverCount } : {}), ...(infoBody.versionCount !== undefined ? { versionCount: infoBody.versionCount } : {}) };
      let entries: Entry[] | null = [];
      let listError: string | undefined;
      let cursor: string | undefined;
      for (let page = 0; page < 100; page++) {
        const res = await fetch(`${queryUrl}/registries/${NS}/${name}/v0.1/servers?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        if (res.status !== 200) {
          listError = `page ${page + 1}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`;
          entries = null;
          break;
        }
        const body = (await res.json()) as { servers: Array<{ server: { name: string; version: string; description: string } }>; metadata?: { nextCursor?: string } };
        entries.push(...body.servers.map((s) => ({ name: s.server.name, version: s.server.version, description: s.server.description })));
        cursor = body.metadata?.nextCursor;
        if (!cursor) break;
      }
      const th = await fetch(`${queryUrl}/registries/${NS}/${name}/registry.json?format=toolhive`);
      const toolhive = { status: th.status, body: new Uint8Array(await th.arrayBuffer()) };
      return { info, entries, ...(listError ? { listError } : {}), toolhive };
    };

    /** the query function revalidates within its pointer TTL: wait for it, then compare everything */
    const checkQueries = async (o: Observed): Promise<Violation[]> => {
      const out: Violation[] = [];
      for (const def of REGISTRIES) {
        const snapshot = o.snapshots.get(`${NS}/${def.name}`);
        if (!snapshot) continue;
        const deadline = Date.now() + POINTER_TTL_MS + 5_000;
        let q = await queryObservation(def.name);
        while (q.info.hash !== snapshot.pointer.hash && Date.now() < deadline) {
          await sleep(100);
          q = await queryObservation(def.name);
        }
        check('query-serves-pointer');
        out.push(...checkQuery(`${NS}/${def.name}`, snapshot, q));
      }
      return out;
    };

    /** versions, progress and status against what was observed; `exact` status when its writer could write */
    const checkState = (o: Observed, statusMode: 'claims' | 'exact', commit: boolean): Violation[] => {
      const out: Violation[] = [...o.violations];
      for (const def of REGISTRIES) {
        const registry = `${NS}/${def.name}`;
        const snapshot = o.snapshots.get(registry);
        check('status-truthful');
        out.push(...checkStatus(registry, o.statuses.get(def.name), snapshot?.pointer ?? null, statusMode));
        if (!snapshot) continue;
        check('versions-exact');
        const v = checkVersions(registry, snapshot.entries, models.get(def.name)!.revisions);
        out.push(...v.violations);
        if (v.revision === undefined) continue;
        const now: Served = { hash: snapshot.pointer.hash, revision: v.revision };
        check('no-rollback');
        check('history-kept');
        out.push(...checkProgress(registry, served.get(registry), now, snapshot.pointer));
        if (commit) served.set(registry, now);
      }
      return out;
    };

    const converged = (o: Observed): boolean =>
      REGISTRIES.every((def) => {
        const snapshot = o.snapshots.get(`${NS}/${def.name}`);
        if (!snapshot) return false;
        const v = checkVersions('', snapshot.entries, models.get(def.name)!.revisions);
        return v.revision === models.get(def.name)!.revisions.length - 1 && checkStatus('', o.statuses.get(def.name), snapshot.pointer, 'exact').length === 0;
      });

    /** as the PingSource would: pings until every registry serves its latest revision, or the limit */
    const recover = async (): Promise<{ observed: Observed; waitedMs: number }> => {
      const since = Date.now();
      for (;;) {
        const o = await observe();
        if (converged(o) || Date.now() - since > CONVERGE_LIMIT_MS) return { observed: o, waitedMs: Date.now() - since };
        await deliverPing();
        await sleep(200);
      }
    };

    // ---------------------------------------------------------------- the kube chaos
    const stopApi = async () => {
      await cp!.stop();
    };
    const startApi = async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          cp = await startControlPlane({ port: cpPort, dataDir: kubeDir });
          return;
        } catch (e) {
          if (attempt > 50) throw e;
          await sleep(100);
        }
      }
    };

    // the first sync of everything, without faults
    await deliverPing();
    {
      const { observed, waitedMs } = await recover();
      const violations = [...checkState(observed, 'exact', true), ...(await checkQueries(observed))];
      for (const def of REGISTRIES) {
        check('converges');
        violations.push(...checkConverged(`${NS}/${def.name}`, served.get(`${NS}/${def.name}`)?.revision, models.get(def.name)!.revisions.length - 1, waitedMs));
      }
      if (violations.length > 0) throw new Error(`the first sync, without faults, failed the invariants:\n${violations.map((v) => `  ${v.invariant} ${v.registry ?? ''}: ${v.message}`).join('\n')}`);
    }

    let syncMs = 150;
    for (let step = 1; step <= options.steps; step++) {
      const plan = drawPlan(rng, syncMs);
      const model = models.get(plan.registry.name)!;
      const changes = changeRegistry(model, rng);
      const description = describePlan(step, plan, changes);
      appendFileSync(recordPath, `${description}\n`);
      log(description);

      // the change, and what the cluster sends about it
      const changed = await writeSource(plan.registry);
      let event: CloudEvent<unknown>;
      if (plan.registry.source === 'url') {
        // a URL source changes without telling anyone: someone asks for a sync
        const object = (await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name: plan.registry.name, body: { metadata: { annotations: { [`${GROUP}/sync-trigger`]: `step-${step}` } } } }, mergePatch)) as Record<string, unknown>;
        event = new CloudEvent({ type: 'dev.knative.apiserver.resource.update', source: cp.url, subject: `/apis/${GROUP}/${VERSION}/namespaces/${NS}/mcpregistries/${plan.registry.name}`, datacontenttype: 'application/json', data: object });
      } else {
        event = new CloudEvent({ type: 'dev.knative.apiserver.resource.update', source: cp.url, subject: `/api/v1/namespaces/${NS}/configmaps/${plan.registry.name}-source`, datacontenttype: 'application/json', data: { apiVersion: 'v1', kind: 'ConfigMap', ...changed } });
      }
      if (plan.delivery === 'ping') event = pingEvent();

      // faults armed, then the delivery, with the API and kill chaos on timers beside it
      if (plan.faults.length > 0) {
        await s3.fault(...plan.faults);
        counts.faultsArmed += plan.faults.reduce((a, f) => a + (f.count ?? 1), 0);
      }
      let killed = false;
      const chaos: Promise<void>[] = [];
      if (plan.kube) {
        const k = plan.kube;
        chaos.push(
          (async () => {
            await sleep(k.atMs);
            if (k.kind === 'freeze') {
              counts.apiFreezes++;
              proxy!.freeze();
              await sleep(k.forMs);
              proxy!.thaw();
            } else if (k.kind === 'stop') {
              counts.apiStops++;
              await stopApi();
              await sleep(k.forMs);
              await startApi();
            } else {
              counts.apiRestarts++;
              await stopApi();
              await startApi();
            }
          })(),
        );
      }
      if (plan.killAtMs !== null) {
        const at = plan.killAtMs;
        chaos.push(
          (async () => {
            await sleep(at);
            counts.kills++;
            killed = true;
            const victim = sync!;
            const exited = new Promise<void>((r) => (victim.exitCode !== null || victim.signalCode !== null ? r() : victim.once('exit', () => r())));
            victim.kill('SIGKILL');
            await exited;
          })(),
        );
      }
      const t0 = Date.now();
      if (plan.delivery === 'ping') counts.pings++;
      else counts.deliveries++;
      const answer = await post(event);
      const tookMs = Date.now() - t0;
      await Promise.all(chaos);
      await s3.clearFaults();
      const clean = plan.faults.length === 0 && !plan.kube && !killed;
      if (clean && answer === 204) syncMs = Math.round(syncMs * 0.7 + tookMs * 0.3);

      const violations: Violation[] = [];
      if (killed) {
        counts.restarts++;
        const restartedAt = Date.now();
        sync = startSync();
        const healthy = await waitHealthy(syncUrl, RESTART_LIMIT_MS, () => sync?.exitCode !== null);
        check('process-returns');
        violations.push(...checkProcess(true, healthy === null ? null : Date.now() - restartedAt, RESTART_LIMIT_MS));
      }

      // what the faults left: complete pointers, exact versions, no rollback, status never inventing a snapshot
      // (and naming exactly the one served when its writer answered and the API was there throughout)
      const writerFinished = typeof answer === 'number' && answer < 300 && !plan.kube && !killed;
      let observed = await observe();
      violations.push(...checkState(observed, writerFinished ? 'exact' : 'claims', true), ...(await checkQueries(observed)));
      if (violations.length > 0) {
        failure = { step, phase: 'after-faults', violations, plan: description, keptDir: dir };
        break;
      }

      // recovery: the Broker redelivers what was not accepted, the PingSource pings
      for (let attempt = 0; attempt < 20; attempt++) {
        const again = attempt === 0 ? answer : await post(event);
        if (typeof again === 'number' && again < 300) break;
        if (attempt > 0) counts.deliveries++;
        await sleep(300);
      }
      const tRecover = Date.now();
      const recovered = await recover();
      observed = recovered.observed;
      const recoverMs = Date.now() - tRecover;
      violations.push(...checkState(observed, 'exact', true), ...(await checkQueries(observed)));
      for (const def of REGISTRIES) {
        check('converges');
        violations.push(...checkConverged(`${NS}/${def.name}`, served.get(`${NS}/${def.name}`)?.revision, models.get(def.name)!.revisions.length - 1, recovered.waitedMs));
      }
      counts.steps = step;
      const timing = `  delivery ${answer instanceof Error ? answer.message : answer} after ${tookMs} ms; recovered in ${recoverMs} ms; step ${Date.now() - t0} ms`;
      appendFileSync(recordPath, `${timing}\n`);
      log(timing);
      if (violations.length > 0) {
        failure = { step, phase: 'after-recovery', violations, plan: description, keptDir: dir };
        break;
      }
    }
    counts.faultsInjected = (await s3.faultState()).injected;
  } catch (e) {
    threw = true;
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n(the sync function's log and the steps run are kept in ${dir})`, { cause: e });
  } finally {
    for (const child of [sync, query]) {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGKILL');
        await exited;
      }
    }
    raw?.close();
    await http?.close();
    await proxy?.stop();
    await cp?.stop();
    await s3?.stop();
    if (!failure && !threw) await rm(dir, { recursive: true, force: true });
  }
  return { seed: options.seed, counts, durationMs: Date.now() - started, ...(failure ? { failure } : {}) };
}

/** Polls GET /healthz; the time it took, or null when `gaveUp` says so or the limit passes. */
async function waitHealthy(url: string, limitMs: number, gaveUp: () => boolean): Promise<number | null> {
  const start = Date.now();
  while (Date.now() - start < limitMs) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      await res.text();
      if (res.status === 200) return Date.now() - start;
    } catch {
      if (gaveUp()) return null;
    }
    await sleep(25);
  }
  return null;
}

