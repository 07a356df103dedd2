/**
 * The resync ping's scheduling pass costs the same few list calls whatever the number of
 * registries: with nothing due, no read per registry or per ConfigMap (the labelled
 * ConfigMaps come in one metadata-only list), and a ConfigMap edited while its event was lost
 * is still found by its resourceVersion from that list. Counted by an HTTP proxy in front of
 * the embedded control plane, as the API server would see the requests.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController } from '../../lib/sync/controller.ts';
import { startKube } from '../harness/kube.ts';
import { tempStore } from '../api/harness.ts';

const GROUP = 'toolhive.stacklok.io';
const NAMESPACES = ['team-a', 'team-b', 'team-c'];
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function registryJson(names: string[]): string {
  const servers = Object.fromEntries(names.map((n) => [n, { description: `${n} server`, image: `ghcr.io/example/${n}:1.0.0`, transport: 'stdio', tier: 'Community', status: 'Active', tools: ['t'] }]));
  return JSON.stringify({ version: '1.0.0', last_updated: '2026-03-01T00:00:00Z', servers, remote_servers: {} });
}

let cp: ControlPlane;
let proxy: Server;
let seen: string[] = [];
let tmp: Awaited<ReturnType<typeof tempStore>>;

before(async () => {
  cp = await startKube({ namespaces: [...NAMESPACES, 'mcp-registry'] });
  const target = new URL(cp.kubeConfig().getCurrentCluster()!.server);
  proxy = createServer((req, res) => {
    if (!/\/events(\?|$)/.test(req.url ?? '')) seen.push(`${req.method} ${(req.url ?? '').split('?')[0]}`);
    const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  tmp = await tempStore();
});
after(async () => {
  proxy?.close();
  await cp?.stop();
  await tmp?.cleanup();
});

function counted(): KubeConfig {
  const kc = cp.kubeConfig();
  const out = new KubeConfig();
  out.loadFromOptions({ clusters: kc.clusters.map((c) => ({ ...c, server: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` })), users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
  return out;
}

test('a ping with nothing due lists, and reads nothing per registry; a lost ConfigMap edit is still synced', async () => {
  const kc = cp.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const controller = createSyncController({
    kubeConfig: counted(),
    store: tmp.store,
    policy: resolvePolicy({}),
    config: { deadlineMs: 30_000, concurrency: 4, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'ping-cost', keepSnapshots: 3 },
    log: silentLogger,
  });
  const create = async (ns: string, i: number) => {
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `src-${i}` }, data: { 'registry.json': registryJson([`s${i}`]) } } });
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1alpha1',
      namespace: ns,
      plural: 'mcpregistries',
      body: { apiVersion: `${GROUP}/v1alpha1`, kind: 'MCPRegistry', metadata: { name: `reg-${i}` }, spec: { source: { type: 'configmap', configMap: { name: `src-${i}`, key: 'registry.json' } }, syncPolicy: { interval: '1h' } } },
    });
  };
  const idlePing = async () => {
    seen = [];
    assert.deepEqual(await controller.ping(), []);
    return [...seen].sort();
  };

  for (let i = 0; i < 3; i++) await create(NAMESPACES[i % 3]!, i);
  assert.equal((await controller.ping()).filter((s) => s.outcome === 'published').length, 3);
  const few = await idlePing();
  assert.deepEqual(
    few,
    [
      'GET /api/v1/configmaps',
      `GET /apis/${GROUP}/v1alpha1/mcpregistries`,
      `GET /apis/${GROUP}/v1alpha1/mcpregistryexportjobs`,
      `GET /apis/${GROUP}/v1alpha1/mcpregistryimportjobs`,
      `GET /apis/${GROUP}/v1alpha1/mcpregistrysyncjobs`,
    ],
    'cluster-wide lists only',
  );

  for (let i = 3; i < 24; i++) await create(NAMESPACES[i % 3]!, i);
  assert.equal((await controller.ping()).filter((s) => s.outcome === 'published').length, 21);
  assert.deepEqual(await idlePing(), few, 'the same requests for 24 registries as for 3');

  // an edit whose event was lost: the ping finds it from the list's resourceVersion
  await core.patchNamespacedConfigMap({ namespace: 'team-b', name: 'src-4', body: { data: { 'registry.json': registryJson(['s4', 'extra']) } } }, mergePatch);
  seen = [];
  const synced = await controller.ping();
  assert.deepEqual(synced.map((s) => [s.registry, s.outcome, s.reason]), [['team-b/reg-4', 'published', 'configmap-changed']]);
  assert.ok(!seen.some((r) => /\/configmaps\/src-(?!4$)/.test(r)), `no read of the other ConfigMaps: ${seen.filter((r) => r.includes('/configmaps/')).join(', ')}`);
  assert.deepEqual(await idlePing(), few);
});

test('without a cluster-wide list of ConfigMaps (namespaced RBAC), the ping reads them per namespace and per ConfigMap, and still finds an edit', async () => {
  const cp2 = await startKube({ tokens: [{ token: 'ns-sync-token', user: 'ns-sync' }], namespaces: ['team-x', 'mcp-registry'] });
  const t = await tempStore();
  try {
    const admin = cp2.kubeConfig();
    const core = admin.makeApiClient(CoreV1Api);
    const custom = admin.makeApiClient(CustomObjectsApi);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    // everything the sync function needs cluster-wide, except ConfigMaps: those only in team-x
    await rbac.createClusterRole({
      body: {
        metadata: { name: 'ns-sync' },
        rules: [
          { apiGroups: [GROUP], resources: ['mcpregistries', 'mcpregistrysyncjobs', 'mcpregistryimportjobs', 'mcpregistryexportjobs'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
          { apiGroups: [GROUP], resources: ['mcpregistries/status', 'mcpregistrysyncjobs/status'], verbs: ['get', 'update', 'patch'] },
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update', 'delete'] },
          { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        ],
      },
    });
    await rbac.createClusterRoleBinding({ body: { metadata: { name: 'ns-sync' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ns-sync' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'ns-sync' }] } });
    await rbac.createNamespacedRole({ namespace: 'team-x', body: { metadata: { name: 'cm' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'patch'] }] } });
    await rbac.createNamespacedRoleBinding({ namespace: 'team-x', body: { metadata: { name: 'cm' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'ns-sync' }] } });
    await core.createNamespacedConfigMap({ namespace: 'team-x', body: { metadata: { name: 'src' }, data: { 'registry.json': registryJson(['a']) } } });
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1alpha1',
      namespace: 'team-x',
      plural: 'mcpregistries',
      body: { apiVersion: `${GROUP}/v1alpha1`, kind: 'MCPRegistry', metadata: { name: 'reg' }, spec: { source: { type: 'configmap', configMap: { name: 'src', key: 'registry.json' } }, syncPolicy: { interval: '1h' } } },
    });
    const controller = createSyncController({
      kubeConfig: cp2.kubeConfig('ns-sync'),
      store: t.store,
      policy: resolvePolicy({}),
      config: { deadlineMs: 30_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'ns-sync', keepSnapshots: 3 },
      log: silentLogger,
    });
    assert.deepEqual((await controller.ping()).map((s) => s.outcome), ['published']);
    assert.deepEqual(await controller.ping(), [], 'nothing due, the ConfigMap unchanged');
    // the label the sync added is there; an edit whose event was lost is found all the same
    await core.patchNamespacedConfigMap({ namespace: 'team-x', name: 'src', body: { data: { 'registry.json': registryJson(['a', 'b']) } } }, mergePatch);
    assert.deepEqual((await controller.ping()).map((s) => [s.registry, s.outcome, s.reason]), [['team-x/reg', 'published', 'configmap-changed']]);
  } finally {
    await cp2.stop();
    await t.cleanup();
  }
});
