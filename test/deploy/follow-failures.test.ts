/**
 * Workloads that cannot follow their registry: a patch forbidden by RBAC, a workload deleted
 * between the list and the write, and `recreate` of a workload held by finalizers. Each is
 * reported in the status and in Events and retried at the next sync, and one bad workload
 * never stops the others. The embedded control plane with the generated workload CRDs; the
 * sync controller as a non-admin user with the shipped ClusterRole where RBAC matters.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions, type KubeConfig, type V1PolicyRule } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { createRegistryWorkloads } from '../../lib/deploy/registry-workloads.ts';
import { workloadCrds } from '../../lib/deploy/workload-crds.ts';
import { createEventRecorder } from '../../lib/kube/events.ts';
import { createResourceClient } from '../../lib/kube/registry-client.ts';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { installCrds } from '../../lib/local/examples.ts';
import { silentLogger } from '../../lib/log.ts';
import { createFsStore } from '../../lib/snapshots/fs-store.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController, type SyncController } from '../../lib/sync/controller.ts';
import { createAuditLog } from '../../lib/telemetry/audit.ts';
import { NO_TELEMETRY } from '../../lib/telemetry/telemetry.ts';
import { startKube } from '../harness/kube.ts';
import { startHookProxy, type HookProxy } from '../servers/hook-proxy.ts';
import { syncConfigMapRegistry } from './configmap-registry.ts';

const G = 'toolhive.stacklok.dev';
const V = 'v1beta1';
const L = 'toolhive.stacklok.io';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const FINALIZER = 'example.com/cleanup';

function registryJson(fetchImage: string, timeImage = 'ghcr.io/example/time:2.0.0') {
  return JSON.stringify({
    version: '1.0.0',
    last_updated: '2026-03-01T00:00:00Z',
    servers: {
      fetch: { description: 'Fetches web pages', tier: 'Community', status: 'Active', transport: 'stdio', image: fetchImage, tools: ['fetch'] },
      time: { description: 'Tells the time', tier: 'Official', status: 'Active', transport: 'stdio', image: timeImage, tools: ['now'] },
    },
  });
}

/** the sync function's ClusterRole as shipped in knative/rbac-sync.yaml */
async function shippedSyncRules(): Promise<V1PolicyRule[]> {
  const text = await readFile(join(import.meta.dirname, '..', '..', 'knative', 'rbac-sync.yaml'), 'utf8');
  const doc = text.split(/^---$/m).find((d) => /kind: ClusterRole\n/.test(d) && /name: mcp-registry-sync\n/.test(d))!;
  return (parse(doc) as { rules: V1PolicyRule[] }).rules;
}

describe('workloads that cannot follow their registry', () => {
  let cp: ControlPlane;
  let dir: string;
  let store: SnapshotStore;
  let admin: KubeConfig;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let proxy: HookProxy | undefined;

  const audit: string[] = [];
  const controllerFor = (kubeConfig: KubeConfig): SyncController =>
    createSyncController({
      kubeConfig,
      store,
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 0, totalTimeoutMs: 10_000 }),
      config: { deadlineMs: 60_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'test-sync', keepSnapshots: 3, apiBaseUrl: undefined, sink: undefined },
      log: silentLogger,
      telemetry: { ...NO_TELEMETRY, audit: createAuditLog({ kind: 'stdout' }, 'mcp-registry-sync', (line) => audit.push(line)) },
    });
  const auditOf = (resource: string) => audit.map((l) => JSON.parse(l) as Record<string, string>).filter((r) => r.resource === resource);

  before(async () => {
    cp = await startKube({ tokens: [{ token: 'sync-token', user: 'sync' }], namespaces: ['mcp-registry', 'team-x', 'team-d', 'team-r', 'team-t', 'team-g'] });
    admin = cp.kubeConfig();
    await installCrds(admin, workloadCrds());
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-follow-failures-'));
    store = createFsStore({ dir, durable: false });
    custom = admin.makeApiClient(CustomObjectsApi);
    core = admin.makeApiClient(CoreV1Api);
  });
  after(async () => {
    await proxy?.stop();
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const workload = (ns: string, name: string) => custom.getNamespacedCustomObject({ group: G, version: V, plural: 'mcpservers', namespace: ns, name }) as Promise<any>;
  const exists = (ns: string, name: string) => workload(ns, name).then(() => true, (e: { code?: number }) => (e.code === 404 ? false : Promise.reject(e)));
  const registry = (ns: string, name = 'reg') => custom.getNamespacedCustomObject({ group: L, version: 'v1alpha1', plural: 'mcpregistries', namespace: ns, name }) as Promise<any>;
  const condition = (reg: any) => (reg.status.conditions as { type: string; status: string; reason: string; message: string }[]).find((c) => c.type === 'WorkloadsSynced')!;
  const server = (ns: string, name: string, serverName: string, image: string, finalizers?: string[]) =>
    custom.createNamespacedCustomObject({
      group: G,
      version: V,
      plural: 'mcpservers',
      namespace: ns,
      body: { apiVersion: `${G}/${V}`, kind: 'MCPServer', metadata: { name, labels: { [`${L}/registry-name`]: 'reg', [`${L}/registry-namespace`]: ns, [`${L}/server-name`]: serverName }, ...(finalizers ? { finalizers } : {}) }, spec: { image, transport: 'stdio' } },
    }) as Promise<any>;
  const eventsOf = async (ns: string, name: string) => (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.involvedObject.name === name);

  const setRegistry = (controller: SyncController, ns: string, doc: string, onUpdate: string) => syncConfigMapRegistry({ core, custom }, controller, ns, 'reg', doc, onUpdate);

  /** the workload follower as the sync function runs it, as admin, waiting `recreateWaitMs` for a deleted workload to go */
  const adminWorkloads = (recreateWaitMs: number) =>
    createRegistryWorkloads({
      kubeConfig: admin,
      store,
      events: createEventRecorder(admin, 'mcp-registry-sync', () => new Date()),
      registries: createResourceClient(admin, 'mcpregistries'),
      now: () => new Date(),
      log: silentLogger,
      recreateWaitMs,
    });

  /** stands in for an operator: lifts the finalizers of `name` once it is marked for deletion */
  function finalizerLifter(ns: string, name: string, delayMs = 200): { stop(): Promise<void> } {
    let running = true;
    const done = (async () => {
      while (running) {
        const w = await workload(ns, name).catch(() => undefined);
        if (w?.metadata.deletionTimestamp) {
          await new Promise((r) => setTimeout(r, delayMs));
          await custom.patchNamespacedCustomObject({ group: G, version: V, plural: 'mcpservers', namespace: ns, name, body: { metadata: { finalizers: null } } }, merge).catch(() => undefined);
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await done;
      },
    };
  }

  it('a patch forbidden by RBAC is reported in the status and Events, the other workload is updated, and the next sync retries it', async () => {
    // the shipped role, but patch on MCPServers only for "free"
    const shipped = await shippedSyncRules();
    const isWorkloads = (r: V1PolicyRule) => (r.apiGroups ?? []).includes(G);
    assert.ok(shipped.some((r) => isWorkloads(r) && r.verbs.includes('patch')), 'the shipped role grants patch on workloads');
    const leases: V1PolicyRule = { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update', 'delete'] };
    const narrowed = [...shipped.map((r) => (isWorkloads(r) ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') } : r)), { apiGroups: [G], resources: ['mcpservers'], resourceNames: ['free'], verbs: ['patch'] }, leases];
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: 'sync-test' }, rules: narrowed } });
    await rbac.createClusterRoleBinding({ body: { metadata: { name: 'sync-test' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'sync-test' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'sync' }] } });
    const controller = controllerFor(cp.kubeConfig('sync'));

    await server('team-x', 'blocked', 'fetch', 'ghcr.io/example/fetch:0.1.0');
    await server('team-x', 'free', 'time', 'ghcr.io/example/time:0.1.0');
    await setRegistry(controller, 'team-x', registryJson('ghcr.io/example/fetch:1.0.0'), 'update');

    assert.equal((await workload('team-x', 'blocked')).spec.image, 'ghcr.io/example/fetch:0.1.0');
    assert.equal((await workload('team-x', 'free')).spec.image, 'ghcr.io/example/time:2.0.0', 'one forbidden workload does not stop the other');
    let reg = await registry('team-x');
    assert.equal(reg.status.phase, 'Ready', 'the registry still syncs and serves');
    assert.deepEqual(reg.status.workloads, { associated: 2, behind: 1, failed: 1 });
    assert.equal(condition(reg).status, 'False');
    assert.equal(condition(reg).reason, 'WorkloadsFailed');
    assert.match(condition(reg).message, /MCPServer team-x\/blocked: .*forbidden.*HTTP 403.*retried at the next sync|retried at the next sync.*MCPServer team-x\/blocked: .*forbidden.*HTTP 403/);
    const failed = (await eventsOf('team-x', 'blocked')).find((e) => e.reason === 'RegistryUpdateFailed');
    assert.equal(failed?.type, 'Warning');
    assert.match(failed?.message ?? '', /forbidden by the API server \(HTTP 403\)/);
    assert.ok((await eventsOf('team-x', 'reg')).some((e) => e.reason === 'WorkloadsFailed' && /MCPServer team-x\/blocked/.test(e.message ?? '')));
    // the audit log: the refused update and the one that went through
    assert.deepEqual(auditOf('mcpservers/team-x/blocked').map((r) => [r.action, r.outcome, r.actor]), [['workload.update', 'failure', 'test-sync']]);
    assert.match(auditOf('mcpservers/team-x/blocked')[0]!.reason!, /^registry team-x\/reg, server fetch: .*forbidden by the API server \(HTTP 403\)/);
    assert.deepEqual(auditOf('mcpservers/team-x/free').map((r) => [r.action, r.outcome]), [['workload.update', 'success']]);

    // RBAC fixed: the next sync (an unchanged snapshot) retries the workload
    await rbac.patchClusterRole({ name: 'sync-test', body: { rules: [...shipped, leases] } }, merge);
    // the next sync (a webhook call forces one; the ConfigMap is as the snapshot was built from it)
    const again = await controller.syncRegistry('team-x', 'reg', 'webhook');
    assert.deepEqual(again.map((s) => s.outcome), ['unchanged']);
    assert.equal((await workload('team-x', 'blocked')).spec.image, 'ghcr.io/example/fetch:1.0.0');
    assert.deepEqual(auditOf('mcpservers/team-x/blocked').map((r) => r.outcome), ['failure', 'success']);
    reg = await registry('team-x');
    assert.deepEqual(reg.status.workloads, { associated: 2, behind: 0 });
    assert.equal(condition(reg).status, 'True');
  });

  it('a workload deleted between the list and the update is not created again by the apply; reported, and the next sync is clean', async () => {
    let deleted = false;
    proxy = await startHookProxy(admin.getCurrentCluster()!.server, async (req) => {
      // the moment the registry's apply of "doomed" reaches the API server, someone deletes it
      if (!deleted && req.method === 'PATCH' && /\/namespaces\/team-d\/mcpservers\/doomed\?/.test(req.url ?? '') && /apply-patch/.test(String(req.headers['content-type']))) {
        deleted = true;
        await custom.deleteNamespacedCustomObject({ group: G, version: V, plural: 'mcpservers', namespace: 'team-d', name: 'doomed' });
      }
    });
    const controller = controllerFor(proxy.kubeConfig(admin));
    await server('team-d', 'doomed', 'fetch', 'ghcr.io/example/fetch:0.1.0');
    await server('team-d', 'kept', 'time', 'ghcr.io/example/time:0.1.0');
    await setRegistry(controller, 'team-d', registryJson('ghcr.io/example/fetch:1.0.0'), 'update');

    assert.ok(deleted, 'the apply of doomed went through the proxy');
    assert.equal(await exists('team-d', 'doomed'), false, 'a workload deleted meanwhile stays deleted');
    assert.equal((await workload('team-d', 'kept')).spec.image, 'ghcr.io/example/time:2.0.0');
    let reg = await registry('team-d');
    assert.deepEqual(reg.status.workloads, { associated: 2, behind: 1, failed: 1 });
    assert.match(condition(reg).message, /MCPServer team-d\/doomed was deleted or replaced meanwhile; retried at the next sync/);
    assert.ok((await eventsOf('team-d', 'reg')).some((e) => e.reason === 'WorkloadsFailed' && /MCPServer team-d\/doomed was deleted or replaced meanwhile/.test(e.message ?? '')));

    assert.deepEqual((await controller.syncRegistry('team-d', 'reg', 'webhook')).map((x) => x.outcome), ['unchanged']);
    assert.equal(await exists('team-d', 'doomed'), false);
    reg = await registry('team-d');
    assert.deepEqual(reg.status.workloads, { associated: 1, behind: 0 });
    assert.equal(condition(reg).status, 'True');
  });

  it('recreate waits for the finalizers of the deleted workload, then creates it (a new uid)', async () => {
    const controller = controllerFor(admin);
    const old = await server('team-r', 'held', 'fetch', 'ghcr.io/example/fetch:0.1.0', [FINALIZER]);
    const lifter = finalizerLifter('team-r', 'held', 300);
    try {
      await setRegistry(controller, 'team-r', registryJson('ghcr.io/example/fetch:1.0.0'), 'recreate');
    } finally {
      await lifter.stop();
    }
    const w = await workload('team-r', 'held');
    assert.notEqual(w.metadata.uid, old.metadata.uid);
    assert.equal(w.metadata.deletionTimestamp, undefined);
    assert.equal(w.spec.image, 'ghcr.io/example/fetch:1.0.0');
    assert.equal(w.metadata.annotations[`${L}/registry-recreating`], undefined);
    assert.equal(w.metadata.finalizers, undefined, 'the operator adds its own finalizers again');
    assert.ok((await eventsOf('team-r', 'held')).some((e) => e.reason === 'RegistryRecreated'));
    assert.deepEqual((await registry('team-r')).status.workloads, { associated: 1, behind: 0 });
  });

  it('recreate of a workload whose finalizers outlast the wait is reported, and a later sync creates it once it is gone', async () => {
    const controller = controllerFor(admin);
    await setRegistry(controller, 'team-t', registryJson('ghcr.io/example/fetch:1.0.0'), 'recreate');
    const old = await server('team-t', 'stuck', 'fetch', 'ghcr.io/example/fetch:0.1.0', [FINALIZER]);
    const workloads = adminWorkloads(600);
    const [first] = await workloads.onWorkloadEvent('team-t');
    assert.equal(first?.report?.failures.length, 1);
    assert.match(first!.report!.failures[0]!.message, /MCPServer team-t\/stuck is being deleted .* finalizers \(example\.com\/cleanup\) still hold it after 1 s; it is created again from the entry once it is gone/);
    const held = await workload('team-t', 'stuck');
    assert.equal(held.metadata.uid, old.metadata.uid);
    assert.ok(held.metadata.deletionTimestamp, 'deleted, held by its finalizer');
    assert.ok(held.metadata.annotations[`${L}/registry-recreating`], 'marked for a later sync');
    assert.ok((await eventsOf('team-t', 'stuck')).some((e) => e.reason === 'RegistryUpdateFailed' && e.type === 'Warning' && /finalizers/.test(e.message ?? '')));
    let reg = await registry('team-t');
    assert.deepEqual(reg.status.workloads, { associated: 1, behind: 1, failed: 1 });
    assert.equal(condition(reg).reason, 'WorkloadsFailed');

    // the next pass finds it still terminating and waits again; the finalizer goes meanwhile
    const lifter = finalizerLifter('team-t', 'stuck', 100);
    try {
      const [second] = await workloads.onWorkloadEvent('team-t');
      assert.deepEqual(second?.report?.failures, []);
      assert.equal(second?.report?.recreated, 1);
    } finally {
      await lifter.stop();
    }
    const w = await workload('team-t', 'stuck');
    assert.notEqual(w.metadata.uid, old.metadata.uid);
    assert.equal(w.spec.image, 'ghcr.io/example/fetch:1.0.0');
    assert.equal(w.metadata.annotations[`${L}/registry-recreating`], undefined);
    reg = await registry('team-t');
    assert.deepEqual(reg.status.workloads, { associated: 1, behind: 0 });
  });

  it('a recreate whose workload goes between syncs is finished by its delete event; other deletions create nothing', async () => {
    const controller = controllerFor(admin);
    await setRegistry(controller, 'team-g', registryJson('ghcr.io/example/fetch:1.0.0', 'ghcr.io/example/time:2.0.0'), 'recreate');
    const old = await server('team-g', 'late', 'fetch', 'ghcr.io/example/fetch:0.1.0', [FINALIZER]);
    await server('team-g', 'dropped', 'time', 'ghcr.io/example/time:2.0.0');
    const workloads = adminWorkloads(300);
    const [first] = await workloads.onWorkloadEvent('team-g');
    assert.equal(first?.report?.failures.length, 1, 'the wait ran out');
    // its finalizer goes now, between syncs: the delete event carries it as it was last seen
    const last = await workload('team-g', 'late');
    assert.ok(last.metadata.annotations[`${L}/registry-recreating`]);
    await custom.patchNamespacedCustomObject({ group: G, version: V, plural: 'mcpservers', namespace: 'team-g', name: 'late', body: { metadata: { finalizers: null } } }, merge);
    assert.equal(await exists('team-g', 'late'), false);
    await controller.handle({ type: 'resource', action: 'delete', kind: 'MCPServer', object: { ...last, metadata: { ...last.metadata, finalizers: undefined } }, id: 'delete-late', source: 'test' } as never);
    const w = await workload('team-g', 'late');
    assert.notEqual(w.metadata.uid, old.metadata.uid);
    assert.equal(w.spec.image, 'ghcr.io/example/fetch:1.0.0');
    assert.equal(w.metadata.annotations[`${L}/registry-recreating`], undefined);
    assert.ok((await eventsOf('team-g', 'late')).some((e) => e.reason === 'RegistryRecreated'));

    // a workload the user deletes stays deleted
    const dropped = await workload('team-g', 'dropped');
    await custom.deleteNamespacedCustomObject({ group: G, version: V, plural: 'mcpservers', namespace: 'team-g', name: 'dropped' });
    await controller.handle({ type: 'resource', action: 'delete', kind: 'MCPServer', object: dropped, id: 'delete-dropped', source: 'test' } as never);
    assert.equal(await exists('team-g', 'dropped'), false);
  });
});
