/**
 * `npm run bench -- deploy`: the registry → workloads reconciliation (lib/deploy/reconcile.ts)
 * on the embedded control plane with the generated workload CRDs. One registry of 1,000
 * image entries and 1,000 MCPServers associated with it (one per entry); then an entry update
 * that touches all of them (every image gets a new tag). Printed, one JSON line per scenario:
 * `wall_ms` of the reconciliation, `api_requests` as the control plane received them (counted
 * by an HTTP proxy in front of it; Events excluded and reported as `events`), `lists`,
 * `writes`, and `peak_rss_mb` of this process (the control plane runs in it too). The
 * `unchanged` scenario reconciles the same snapshot again: it must make zero writes. The floor
 * (same run): one merge patch per workload, as many at a time, through the same control plane.
 */
import type { Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { reconcileRegistryWorkloads } from '../../lib/deploy/reconcile.ts';
import { workloadCrds } from '../../lib/deploy/workload-crds.ts';
import { createEventRecorder } from '../../lib/kube/events.ts';
import { installCrds } from '../../lib/local/examples.ts';
import { silentLogger } from '../../lib/log.ts';
import { createFsStore } from '../../lib/snapshots/fs-store.ts';
import { readPointer } from '../../lib/snapshots/read.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController } from '../../lib/sync/controller.ts';
import { startKube } from '../harness/kube.ts';
import { startObservingProxy, via } from './kube-proxy.ts';

const N = 1000;
const NS = 'bench';
const L = 'toolhive.stacklok.io';

function registryDoc(tag: string): string {
  const servers: Record<string, unknown> = {};
  for (let i = 0; i < N; i++) {
    const name = `server-${String(i).padStart(4, '0')}`;
    servers[name] = { description: `bench server ${i}`, tier: 'Community', status: 'Active', transport: 'stdio', image: `ghcr.io/bench/${name}:${tag}`, tools: ['t'], env_vars: [{ name: 'LOG_LEVEL', description: 'l', required: false, default: 'info' }] };
  }
  return JSON.stringify({ version: '1.0.0', last_updated: '2026-03-01T00:00:00Z', servers });
}

interface Counts {
  total: number;
  events: number;
  lists: number;
  writes: number;
}

/** an HTTP proxy in front of the control plane that counts what it forwards */
async function countingProxy(target: URL): Promise<{ server: Server; url: string; counts: Counts; reset(): void }> {
  const counts: Counts = { total: 0, events: 0, lists: 0, writes: 0 };
  const { server, url } = await startObservingProxy(target, (req, path) => {
    if (/\/events(\?|$)/.test(path)) counts.events++;
    else {
      counts.total++;
      if (req.method === 'GET' && /\/(mcpservers|mcpremoteproxies)(\?|$)/.test(path)) counts.lists++;
      if (req.method !== 'GET') counts.writes++;
    }
  });
  return { server, url, counts, reset: () => Object.assign(counts, { total: 0, events: 0, lists: 0, writes: 0 }) };
}

export async function run(_args: string[]): Promise<void> {
  const cp = await startKube({ namespaces: [NS, 'mcp-registry'] });
  const dir = await mkdtemp(join(tmpdir(), 'mcpreg-bench-deploy-'));
  const proxy = await countingProxy(new URL(cp.kubeConfig().getCurrentCluster()!.server));
  try {
    const kc = cp.kubeConfig();
    await installCrds(kc, workloadCrds());
    const store = createFsStore({ dir, durable: false });
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'data' }, data: { 'registry.json': registryDoc('1.0.0') } } });
    // onUpdate create: the controller's own pass changes nothing, the measured passes below do
    await custom.createNamespacedCustomObject({ group: L, version: 'v1alpha1', plural: 'mcpregistries', namespace: NS, body: { apiVersion: `${L}/v1alpha1`, kind: 'MCPRegistry', metadata: { name: 'reg' }, spec: { source: { type: 'configmap', configMap: { name: 'data', key: 'registry.json' } }, syncPolicy: { onUpdate: 'create' } } } });
    for (let i = 0; i < N; i++) {
      const name = `server-${String(i).padStart(4, '0')}`;
      await custom.createNamespacedCustomObject({
        group: 'toolhive.stacklok.dev',
        version: 'v1beta1',
        plural: 'mcpservers',
        namespace: NS,
        body: { apiVersion: 'toolhive.stacklok.dev/v1beta1', kind: 'MCPServer', metadata: { name, labels: { [`${L}/registry-name`]: 'reg', [`${L}/registry-namespace`]: NS, [`${L}/server-name`]: name } }, spec: { image: `ghcr.io/bench/${name}:0.9.0`, transport: 'stdio', resources: { limits: { cpu: '100m' } } } },
      });
    }
    const controller = createSyncController({
      kubeConfig: kc,
      store,
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 0, totalTimeoutMs: 30_000 }),
      config: { deadlineMs: 120_000, concurrency: 1, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'bench', keepSnapshots: 3, apiBaseUrl: undefined, sink: undefined },
      log: silentLogger,
    });
    const counted = via(kc, proxy.url);
    const events = createEventRecorder(counted, 'bench', () => new Date());
    const reconcile = async (scenario: string) => {
      const object = (await custom.getNamespacedCustomObject({ group: L, version: 'v1alpha1', plural: 'mcpregistries', namespace: NS, name: 'reg' })) as never;
      const pointer = (await readPointer(store, { namespace: NS, name: 'reg' }))!.pointer;
      proxy.reset();
      const t0 = performance.now();
      const report = await reconcileRegistryWorkloads({ kubeConfig: counted, store, events, log: silentLogger }, { object, onUpdate: 'update', pointer });
      const wall = performance.now() - t0;
      const line = {
        scenario,
        workloads: N,
        wall_ms: Math.round(wall),
        api_requests: proxy.counts.total,
        lists: proxy.counts.lists,
        writes: proxy.counts.writes,
        events: proxy.counts.events,
        updated: report.updated,
        failures: report.failures.length,
        peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      };
      process.stdout.write(JSON.stringify(line) + '\n');
      return line;
    };
    await controller.syncRegistry(NS, 'reg', 'configmap');
    const first = await reconcile('deploy-associate-1000');
    await core.patchNamespacedConfigMap({ namespace: NS, name: 'data', body: { data: { 'registry.json': registryDoc('1.1.0') } } }, { headers: { 'Content-Type': 'application/merge-patch+json' } } as never).catch(async () => {
      const cm = await core.readNamespacedConfigMap({ namespace: NS, name: 'data' });
      cm.data = { 'registry.json': registryDoc('1.1.0') };
      await core.replaceNamespacedConfigMap({ namespace: NS, name: 'data', body: cm });
    });
    await controller.syncRegistry(NS, 'reg', 'configmap');
    const update = await reconcile('deploy-update-1000');
    const unchanged = await reconcile('deploy-unchanged-1000');
    // the floor: one merge patch per workload, 8 at a time (as the reconciliation applies), same control plane, same run
    const floorApi = counted.makeApiClient(CustomObjectsApi);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < N) {
          const name = `server-${String(next++).padStart(4, '0')}`;
          await floorApi.patchNamespacedCustomObject({ group: 'toolhive.stacklok.dev', version: 'v1beta1', plural: 'mcpservers', namespace: NS, name, body: { metadata: { annotations: { 'bench/floor': '1' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
        }
      }),
    );
    const floor = Math.round(performance.now() - t0);
    process.stdout.write(JSON.stringify({ scenario: 'deploy-update-1000-floor', floor_ms: floor, ratio: Math.round((update.wall_ms / floor) * 100) / 100 }) + '\n');
    if (first.updated !== N || update.updated !== N || unchanged.writes !== 0 || update.failures > 0) {
      console.error(`bench deploy: expected ${N} updates and an unchanged pass without writes, got ${first.updated}, ${update.updated} updates and ${unchanged.writes} writes`);
      process.exitCode = 1;
    }
  } finally {
    proxy.server.close();
    await cp.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
