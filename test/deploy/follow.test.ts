/**
 * Workloads following their registry: discovery, association and syncPolicy.onUpdate, driven
 * by the sync controller against the embedded control plane with the generated workload CRDs
 * (ConfigMap sources, snapshots in a filesystem store).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { workloadCrds } from '../../lib/deploy/workload-crds.ts';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { installCrds } from '../../lib/local/examples.ts';
import { silentLogger } from '../../lib/log.ts';
import { createFsStore } from '../../lib/snapshots/fs-store.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController, type SyncController } from '../../lib/sync/controller.ts';
import { startKube } from '../harness/kube.ts';
import { syncConfigMapRegistry } from './configmap-registry.ts';

const G = 'toolhive.stacklok.dev';
const V = 'v1beta1';
const L = 'toolhive.stacklok.io';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const ssa = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

function registryJson(image: string, extra: Record<string, unknown> = {}, withFetch = true) {
  return JSON.stringify({
    version: '1.0.0',
    last_updated: '2026-03-01T00:00:00Z',
    servers: {
      ...(withFetch
        ? {
            fetch: {
              description: 'Fetches web pages',
              tier: 'Community',
              status: 'Active',
              transport: 'stdio',
              image,
              tools: ['fetch'],
              tags: ['web'],
              env_vars: [{ name: 'LOG_LEVEL', description: 'log level', required: false, default: 'info' }],
              ...extra,
            },
          }
        : {}),
      time: { description: 'Tells the time', tier: 'Official', status: 'Active', transport: 'stdio', image: 'ghcr.io/example/time:2.0.0', tools: ['now'] },
    },
    remote_servers: {
      docs: { description: 'Docs search', tier: 'Community', status: 'Active', transport: 'streamable-http', url: 'https://docs.example.com/mcp', tools: ['search'] },
    },
  });
}

describe('workloads follow their registry', () => {
  let cp: ControlPlane;
  let dir: string;
  let controller: SyncController;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;

  before(async () => {
    cp = await startKube({ namespaces: ['mcp-registry', 'team-u', 'team-r', 'team-c', 'team-f'] });
    await installCrds(cp.kubeConfig(), workloadCrds());
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-follow-'));
    custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    controller = createSyncController({
      kubeConfig: cp.kubeConfig(),
      store: createFsStore({ dir, durable: false }),
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 0, totalTimeoutMs: 10_000 }),
      config: { deadlineMs: 60_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'test-sync', keepSnapshots: 3, apiBaseUrl: undefined, sink: undefined },
      log: silentLogger,
    });
  });
  after(async () => {
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const workload = (ns: string, name: string, plural = 'mcpservers') => custom.getNamespacedCustomObject({ group: G, version: V, plural, namespace: ns, name }) as Promise<any>;
  const registry = (ns: string, name: string) => custom.getNamespacedCustomObject({ group: L, version: 'v1alpha1', plural: 'mcpregistries', namespace: ns, name }) as Promise<any>;
  const server = (ns: string, name: string, image: string, metadata: Record<string, unknown> = {}) =>
    custom.createNamespacedCustomObject({ group: G, version: V, plural: 'mcpservers', namespace: ns, body: { apiVersion: `${G}/${V}`, kind: 'MCPServer', metadata: { name, ...metadata }, spec: { image, transport: 'stdio' } } }) as Promise<any>;
  const labelsFor = (ns: string, reg: string, serverName: string) => ({ [`${L}/registry-name`]: reg, [`${L}/registry-namespace`]: ns, [`${L}/server-name`]: serverName });
  const eventsOf = async (ns: string, name: string) => (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.involvedObject.name === name);

  const setRegistry = (ns: string, name: string, doc: string, onUpdate: string) => syncConfigMapRegistry({ core, custom }, controller, ns, name, doc, onUpdate);

  it('discovery labels a hand-made MCPServer by image, leaves an opted-out one alone, and associates a hand-labelled one (update)', async () => {
    await server('team-u', 'my-fetch', 'ghcr.io/example/fetch:0.9.0');
    await server('team-u', 'keep-out', 'ghcr.io/example/fetch:0.9.0', { annotations: { [`${L}/registry-discovery`]: 'false' } });
    await server('team-u', 'by-hand', 'quay.io/someone/else:1', { labels: labelsFor('team-u', 'reg', 'time') });
    await server('team-u', 'unrelated', 'ghcr.io/example/other:1');
    await setRegistry('team-u', 'reg', registryJson('ghcr.io/example/fetch:1.0.0'), 'update');

    const found = await workload('team-u', 'my-fetch');
    assert.equal(found.metadata.labels[`${L}/registry-name`], 'reg');
    assert.equal(found.metadata.labels[`${L}/registry-namespace`], 'team-u');
    assert.equal(found.metadata.labels[`${L}/server-name`], 'fetch');
    assert.equal(found.metadata.labels[`${L}/tier`], 'Community');
    assert.equal(found.spec.image, 'ghcr.io/example/fetch:1.0.0', 'onUpdate update brings a discovered workload to its entry');
    assert.deepEqual(found.spec.env, [{ name: 'LOG_LEVEL', value: 'info' }]);
    const out = await workload('team-u', 'keep-out');
    assert.equal(out.metadata.labels, undefined);
    assert.equal(out.spec.image, 'ghcr.io/example/fetch:0.9.0');
    assert.equal((await workload('team-u', 'unrelated')).metadata.labels, undefined);
    const hand = await workload('team-u', 'by-hand');
    assert.equal(hand.spec.image, 'ghcr.io/example/time:2.0.0');
    assert.ok((hand.metadata.managedFields as { manager: string; operation: string }[]).some((m) => m.manager === 'mcp-registry' && m.operation === 'Apply'));

    const reg = await registry('team-u', 'reg');
    assert.deepEqual(reg.status.workloads, { associated: 2, behind: 0 });
    const cond = reg.status.conditions.find((c: { type: string }) => c.type === 'WorkloadsSynced');
    assert.equal(cond.status, 'True');
    assert.equal(cond.reason, 'UpToDate');
    assert.ok((await eventsOf('team-u', 'my-fetch')).some((e) => e.reason === 'RegistryDiscovered'));
    assert.ok((await eventsOf('team-u', 'by-hand')).some((e) => e.reason === 'RegistryUpdated'));
    assert.ok((await eventsOf('team-u', 'reg')).some((e) => e.reason === 'WorkloadsReconciled' && /my-fetch/.test(e.message ?? '')));
  });

  it('an unchanged sync writes nothing to the workloads', async () => {
    const before = [(await workload('team-u', 'my-fetch')).metadata.resourceVersion, (await workload('team-u', 'by-hand')).metadata.resourceVersion];
    // a sync that runs (a webhook call forces one) and finds the snapshot unchanged
    assert.deepEqual((await controller.syncRegistry('team-u', 'reg', 'webhook')).map((s) => s.outcome), ['unchanged']);
    const afterRv = [(await workload('team-u', 'my-fetch')).metadata.resourceVersion, (await workload('team-u', 'by-hand')).metadata.resourceVersion];
    assert.deepEqual(afterRv, before);
  });

  it('update changes the image and keeps a user-set resources and an extra env var', async () => {
    // the user's own edit (an Update by another field manager)
    await custom.patchNamespacedCustomObject(
      { group: G, version: V, plural: 'mcpservers', namespace: 'team-u', name: 'my-fetch', fieldManager: 'kubectl-edit', body: { spec: { resources: { limits: { cpu: '500m', memory: '256Mi' } }, env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'EXTRA', value: 'mine' }] } } },
      merge,
    );
    await setRegistry('team-u', 'reg', registryJson('ghcr.io/example/fetch:1.1.0'), 'update');
    const w = await workload('team-u', 'my-fetch');
    assert.equal(w.spec.image, 'ghcr.io/example/fetch:1.1.0');
    assert.deepEqual(w.spec.resources, { limits: { cpu: '500m', memory: '256Mi' } });
    assert.deepEqual(
      [...w.spec.env].sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name)),
      [
        { name: 'EXTRA', value: 'mine' },
        { name: 'LOG_LEVEL', value: 'info' },
      ],
    );
  });

  it('a removed entry annotates the workload and records an Event, and deletes nothing', async () => {
    await setRegistry('team-u', 'reg', registryJson('ghcr.io/example/fetch:1.1.0', {}, false), 'update');
    const w = await workload('team-u', 'my-fetch');
    assert.match(w.metadata.annotations[`${L}/registry-entry-removed`], /^[0-9a-f]{64}$/);
    assert.equal(w.spec.image, 'ghcr.io/example/fetch:1.1.0');
    assert.ok((await eventsOf('team-u', 'my-fetch')).some((e) => e.reason === 'RegistryEntryRemoved' && e.type === 'Warning'));
    const reg = await registry('team-u', 'reg');
    assert.deepEqual(reg.status.workloads, { associated: 2, behind: 1 });
  });

  it('recreate deletes and creates the workload (a new uid), keeping the user’s fields', async () => {
    const old = await server('team-r', 'fetcher', 'ghcr.io/example/fetch:0.1.0', { labels: labelsFor('team-r', 'reg', 'fetch') });
    await custom.patchNamespacedCustomObject({ group: G, version: V, plural: 'mcpservers', namespace: 'team-r', name: 'fetcher', fieldManager: 'kubectl-edit', body: { spec: { replicas: 2 } } }, merge);
    await setRegistry('team-r', 'reg', registryJson('ghcr.io/example/fetch:1.0.0'), 'recreate');
    const w = await workload('team-r', 'fetcher');
    assert.notEqual(w.metadata.uid, old.metadata.uid);
    assert.equal(w.spec.image, 'ghcr.io/example/fetch:1.0.0');
    assert.equal(w.spec.replicas, 2);
    assert.ok((await eventsOf('team-r', 'fetcher')).some((e) => e.reason === 'RegistryRecreated'));
  });

  it('create leaves existing workloads alone and counts them behind', async () => {
    const old = await server('team-c', 'fetcher', 'ghcr.io/example/fetch:0.1.0', { labels: labelsFor('team-c', 'reg', 'fetch') });
    const found = await server('team-c', 'found', 'ghcr.io/example/time:1.0.0');
    await setRegistry('team-c', 'reg', registryJson('ghcr.io/example/fetch:1.0.0'), 'create');
    const w = await workload('team-c', 'fetcher');
    assert.equal(w.metadata.resourceVersion, old.metadata.resourceVersion);
    assert.equal(w.spec.image, 'ghcr.io/example/fetch:0.1.0');
    const d = await workload('team-c', 'found');
    assert.equal(d.metadata.labels[`${L}/server-name`], 'time', 'discovery still labels');
    assert.equal(d.spec.image, found.spec.image);
    const reg = await registry('team-c', 'reg');
    assert.deepEqual(reg.status.workloads, { associated: 2, behind: 2 });
  });

  it('a conflict with another field manager on one workload is reported; the others are updated', async () => {
    await server('team-f', 'owned', 'ghcr.io/example/fetch:0.1.0', { labels: labelsFor('team-f', 'reg', 'fetch') });
    await server('team-f', 'free', 'ghcr.io/example/time:0.1.0', { labels: labelsFor('team-f', 'reg', 'time') });
    // another applier owns the image of "owned"
    await custom.patchNamespacedCustomObject(
      { group: G, version: V, plural: 'mcpservers', namespace: 'team-f', name: 'owned', fieldManager: 'gitops', force: true, body: { apiVersion: `${G}/${V}`, kind: 'MCPServer', metadata: { name: 'owned' }, spec: { image: 'ghcr.io/example/fetch:0.2.0' } } },
      ssa,
    );
    await setRegistry('team-f', 'reg', registryJson('ghcr.io/example/fetch:1.0.0'), 'update');
    assert.equal((await workload('team-f', 'owned')).spec.image, 'ghcr.io/example/fetch:0.2.0');
    assert.equal((await workload('team-f', 'free')).spec.image, 'ghcr.io/example/time:2.0.0');
    const reg = await registry('team-f', 'reg');
    assert.deepEqual(reg.status.workloads, { associated: 2, behind: 1, failed: 1 });
    const cond = reg.status.conditions.find((c: { type: string }) => c.type === 'WorkloadsSynced');
    assert.equal(cond.status, 'False');
    assert.equal(cond.reason, 'WorkloadsFailed');
    assert.match(cond.message, /MCPServer team-f\/owned/);
    assert.ok((await eventsOf('team-f', 'owned')).some((e) => e.reason === 'RegistryUpdateFailed'));
    assert.equal(reg.status.phase, 'Ready');
  });

  it('without the workload CRDs, deploy, discovery and updates are off with a condition saying why; the registry still syncs', async () => {
    const ext = cp.kubeConfig().makeApiClient(ApiextensionsV1Api);
    for (const name of ['mcpservers.toolhive.stacklok.dev', 'mcpremoteproxies.toolhive.stacklok.dev']) await ext.deleteCustomResourceDefinition({ name });
    await setRegistry('team-u', 'reg', registryJson('ghcr.io/example/fetch:1.2.0'), 'update');
    const reg = await registry('team-u', 'reg');
    assert.equal(reg.status.phase, 'Ready');
    const cond = reg.status.conditions.find((c: { type: string }) => c.type === 'WorkloadsSynced');
    assert.equal(cond.status, 'False');
    assert.equal(cond.reason, 'WorkloadCRDMissing');
    assert.match(cond.message, /MCPServer, MCPRemoteProxy/);
    assert.equal(reg.status.workloads, undefined);
  });
});
