/**
 * Against a real kube-apiserver (v1.34, etcd 3.6; started by `npm run test:cluster`, skipped
 * elsewhere): every generated CRD and example is accepted; the sync function works end to end
 * with the event bridge watching the real server, each under exactly the RBAC that knative/
 * gives its ServiceAccount (bound here to a plain user); the query function's Kubernetes auth
 * (TokenReview + SubjectAccessReview) decides with the real authorizer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, loadAllYaml, type KubernetesObject, type KubeConfig } from '@kubernetes/client-node';
import { silentLogger } from '../../lib/log.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController } from '../../lib/sync/controller.ts';
import { startEventBridge, type EventBridge } from '../../lib/local/event-bridge.ts';
import { startSyncServer, type SyncServer } from '../../functions/sync/server.ts';
import { readCrds } from '../harness/kube.ts';
import { startQuery, tempStore, type Running } from '../api/harness.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { ADMIN_USER, clusterFromEnv, type TestUser } from './real-apiserver.ts';

const cluster = clusterFromEnv();
const skip = cluster ? false : 'needs the real kube-apiserver: run npm run test:cluster';
const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, '..', 'shared', 'fixtures', 'real');
const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'team-a';

function kc(user: TestUser | typeof ADMIN_USER): KubeConfig {
  return cluster!.kubeConfig(user === ADMIN_USER ? cluster!.adminToken : cluster!.tokens[user], user);
}

async function kubeconfigFile(user: TestUser | typeof ADMIN_USER, dir: string): Promise<string> {
  const { writeFile } = await import('node:fs/promises');
  const file = join(dir, `kubeconfig-${user}`);
  await writeFile(file, kc(user).exportConfig());
  return file;
}

function kubectl(kubeconfig: string, args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', input });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** knative/'s RBAC for one ServiceAccount, its bindings' subjects replaced by a user */
async function rbacFor(file: string, user: TestUser): Promise<KubernetesObject[]> {
  const docs = (loadAllYaml(await readFile(join(ROOT, 'knative', file), 'utf8')) as (KubernetesObject & { subjects?: unknown[] } | null)[]).filter((d) => d !== null);
  const out: KubernetesObject[] = [];
  for (const d of docs) {
    if (d.kind === 'ServiceAccount') continue;
    if (d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding') {
      d.metadata = { ...d.metadata, name: `${d.metadata!.name}-${user}` };
      d.subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }];
    }
    out.push(d);
  }
  return out;
}

describe('the real kube-apiserver', { skip }, () => {
  let tmp: { store: SnapshotStore; dir: string; cleanup: () => Promise<void> };
  let admin: string;

  before(async () => {
    tmp = await tempStore();
    admin = await kubeconfigFile(ADMIN_USER, tmp.dir);
    const core = kc(ADMIN_USER).makeApiClient(CoreV1Api);
    // another file of the suite may have made mcp-registry already (the cluster is shared)
    for (const name of [NS, 'mcp-registry']) {
      await core.createNamespace({ body: { metadata: { name } } }).catch((e: { code?: number }) => {
        if (e.code !== 409) throw e;
      });
    }
  });
  after(async () => {
    await tmp?.cleanup();
  });

  test('every generated CRD is accepted and becomes Established', async () => {
    const ext = kc(ADMIN_USER).makeApiClient(ApiextensionsV1Api);
    const crds = await readCrds();
    assert.ok(crds.length >= 4);
    for (const crd of crds) await ext.createCustomResourceDefinition({ body: crd });
    for (const crd of crds) {
      await eventually(`${crd.metadata!.name} Established`, async () => {
        const got = await ext.readCustomResourceDefinition({ name: crd.metadata!.name! });
        return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
      });
    }
  });

  test('every example of crds/examples is accepted (kubectl apply --server-side: the real ToolHive ConfigMap is too large for the last-applied annotation of a client-side apply)', async () => {
    const files = (await readdir(join(ROOT, 'crds', 'examples'))).filter((f) => f.endsWith('.yaml')).sort();
    assert.ok(files.length >= 5);
    for (const f of files) {
      const r = kubectl(admin, ['apply', '--server-side', '-n', 'default', '-f', join(ROOT, 'crds', 'examples', f)]);
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    }
    const listed = await kc(ADMIN_USER).makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'default', plural: 'mcpregistries' });
    assert.ok((listed as { items: unknown[] }).items.length >= 4);
  });

  test('the git source\'s SSH rules (CEL with RE2 matches) hold on the real server: a deploy key and a host key to check, SSH fields only on ssh repositories', async () => {
    const custom = kc(ADMIN_USER).makeApiClient(CustomObjectsApi);
    const create = (name: string, git: Record<string, unknown>) =>
      custom.createNamespacedCustomObject({
        group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries',
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name }, spec: { source: { type: 'git', git } } },
      });
    const refused = async (name: string, git: Record<string, unknown>, message: RegExp) =>
      assert.rejects(create(name, git), (e: unknown) => {
        assert.match(String((e as { body?: unknown }).body ?? e), message);
        return true;
      });
    const key = { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey' };
    await create('ssh-known-hosts', { repository: 'git@github.com:acme/registry.git', authSecret: { ...key, knownHostsKey: 'known_hosts' } });
    await create('ssh-fingerprint', { repository: 'ssh://git@github.com:2222/acme/registry.git', authSecret: key, sshHostKeyFingerprint: 'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU' });
    await refused('ssh-unchecked', { repository: 'ssh://git@github.com/acme/registry.git', authSecret: key }, /knownHostsKey or sshHostKeyFingerprint/);
    await refused('ssh-no-key', { repository: 'git@github.com:acme/registry.git', sshHostKeyFingerprint: 'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU' }, /needs authSecret.sshPrivateKeyKey/);
    await refused('https-with-key', { repository: 'https://github.com/acme/registry.git', authSecret: { ...key, knownHostsKey: 'known_hosts' } }, /are for ssh repositories/);
    // the later tests sync this namespace: leave nothing of this one there
    for (const name of ['ssh-known-hosts', 'ssh-fingerprint']) await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name });
  });

  test('the knative/ RBAC of each function, bound to plain users, is accepted; without it a user may do nothing', async () => {
    const objects = kc(ADMIN_USER).makeApiClient(KubernetesObjectApi);
    const bound: Array<[string, TestUser]> = [['rbac-sync.yaml', 'mcpreg-sync'], ['rbac-source.yaml', 'mcpreg-source'], ['rbac-query.yaml', 'mcpreg-query']];
    for (const [file, user] of bound) {
      for (const o of await rbacFor(file, user)) {
        await objects.create(o).catch((e: { code?: number }) => {
          if (e.code !== 409) throw e; // a ClusterRole shared by two files
        });
      }
    }
    const reader = kc('reader').makeApiClient(CustomObjectsApi);
    await assert.rejects(reader.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries' }), (e: { code?: number }) => e.code === 403);
    // what knative/README.md says each may do, checked by the real authorizer
    const can = (user: TestUser, args: string[]) => kubectl(admin, ['auth', 'can-i', '--as', user, ...args]).stdout.trim();
    assert.equal(can('mcpreg-sync', ['patch', 'mcpregistries.toolhive.stacklok.io/status', '-n', NS]), 'yes');
    assert.equal(can('mcpreg-sync', ['delete', 'mcpregistries.toolhive.stacklok.io', '-n', NS]), 'no');
    assert.equal(can('mcpreg-sync', ['create', 'leases.coordination.k8s.io', '-n', 'mcp-registry']), 'yes');
    assert.equal(can('mcpreg-source', ['watch', 'configmaps', '-n', NS]), 'yes');
    assert.equal(can('mcpreg-source', ['get', 'secrets', '-n', NS]), 'no');
    assert.equal(can('mcpreg-query', ['create', 'tokenreviews.authentication.k8s.io']), 'yes');
    assert.equal(can('mcpreg-query', ['get', 'mcpregistries.toolhive.stacklok.io', '-n', NS]), 'no');
  });

  describe('sync function and event bridge, each as its own RBAC allows', () => {
    let sync: SyncServer;
    let bridge: EventBridge;

    before(async () => {
      const controller = createSyncController({
        kubeConfig: kc('mcpreg-sync'),
        store: tmp.store,
        policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 1, retryBaseMs: 10, retryMaxWaitMs: 100, totalTimeoutMs: 10_000 }),
        config: { deadlineMs: 60_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'cluster-test', keepSnapshots: 3, apiBaseUrl: 'http://query.example' },
        log: silentLogger,
      });
      sync = await startSyncServer({ log: silentLogger, handle: (event) => controller.handle(event) });
      // the resync tick of knative/pingsource.yaml, every 20 s here: an event that finds the
      // registry's lease held (another event's sync) is dropped, and the tick catches it up
      bridge = await startEventBridge({ kubeConfig: kc('mcpreg-source'), sink: sync.url, ping: { intervalMs: 20_000 }, log: silentLogger });
    });
    after(async () => {
      await bridge?.stop(1000);
      await sync?.close();
    });

    test('a ConfigMap registry syncs on the watch events of the real server; an edit of the ConfigMap re-syncs it', async () => {
      // the real registry is over the 1 MiB a real ConfigMap may hold: its first 30 servers and 10 remotes
      const whole = JSON.parse(await readFile(join(FIXTURES, 'toolhive-registry.2026-02-20.json'), 'utf8')) as { servers: Record<string, unknown>; remote_servers: Record<string, unknown> };
      const real = { ...whole, servers: Object.fromEntries(Object.entries(whole.servers).slice(0, 30)), remote_servers: Object.fromEntries(Object.entries(whole.remote_servers).slice(0, 10)) };
      const registryJson = JSON.stringify(real);
      const count = Object.keys(real.servers).length + Object.keys(real.remote_servers).length;
      const core = kc(ADMIN_USER).makeApiClient(CoreV1Api);
      const custom = kc(ADMIN_USER).makeApiClient(CustomObjectsApi);
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'src', labels: { 'toolhive.stacklok.io/registry-source': 'true' } }, data: { 'registry.json': registryJson } } });
      await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: 'mcpregistries',
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name: 'th' }, spec: { source: { type: 'configmap', configMap: { name: 'src', key: 'registry.json' } } } },
      });
      type Reg = { metadata: { generation: number }; status?: { serverCount?: number; observedGeneration?: number; conditions?: Array<{ type: string; status: string; message: string }>; snapshot?: { hash: string } } };
      const read = async () => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name: 'th' })) as Reg;
      const created = Date.now();
      const ready = await eventually('MCPRegistry team-a/th Ready', async () => {
        const r = await read();
        return r.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? r : undefined;
      });
      assert.ok(Date.now() - created < 20_000, 'synced on the watch event, before the first resync tick');
      assert.equal(ready.status?.serverCount, count);
      assert.equal(ready.status?.observedGeneration, ready.metadata.generation);

      // fewer servers in the ConfigMap: the watch delivers the change, the sync publishes it
      const fewer = { ...real, servers: Object.fromEntries(Object.entries(real.servers).slice(0, 3)), remote_servers: {} };
      await core.patchNamespacedConfigMap({ namespace: NS, name: 'src', body: [{ op: 'replace', path: '/data/registry.json', value: JSON.stringify(fewer) }] });
      const after = await eventually('the re-sync after the ConfigMap edit', async () => {
        const r = await read();
        return r.status?.serverCount === 3 ? r : undefined;
      }, 90_000);
      assert.notEqual(after.status?.snapshot?.hash, ready.status?.snapshot?.hash);
      const events = await core.listNamespacedEvent({ namespace: NS });
      assert.ok(events.items.some((e) => e.involvedObject.kind === 'MCPRegistry' && e.involvedObject.name === 'th'), 'the sync function wrote Events under its RBAC');
    });
  });

  describe("the query function's Kubernetes auth against the real authorizer", () => {
    let api: Running;

    before(async () => {
      api = await startQuery({ store: tmp.store, env: { MCPREG_AUTH: 'kubernetes', MCPREG_AUTH_CACHE_TTL: '0s' }, kubeConfig: kc('mcpreg-query') });
    });
    after(async () => {
      await api?.close();
    });

    test('no token 401, a bad token 401, a user without RBAC 403, then 200 once a Role lets them get the registry', async () => {
      const path = `/registries/${NS}/th/v0.1/servers?limit=2`;
      assert.equal((await api.get(path)).status, 401);
      assert.equal((await api.get(path, { Authorization: 'Bearer not-a-token' })).status, 401);
      const bearer = { Authorization: `Bearer ${cluster!.tokens.reader}` };
      assert.equal((await api.get(path, bearer)).status, 403);
      const listed = (await api.get('/api/v1/registries', bearer)).json() as { registries: unknown[] };
      assert.deepEqual(listed.registries, [], 'lists only what the caller may read');
      const r = kubectl(admin, ['-n', NS, 'create', 'role', 'read-th', '--verb=get', '--resource=mcpregistries.toolhive.stacklok.io', '--resource-name=th']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(kubectl(admin, ['-n', NS, 'create', 'rolebinding', 'read-th', '--role=read-th', '--user=reader']).status, 0);
      const ok = await eventually('the reader allowed', async () => {
        const res = await api.get(path, bearer);
        return res.status === 200 ? res : undefined;
      }, 20_000);
      assert.equal((ok.json() as { servers: unknown[] }).servers.length, 2);
      assert.equal((await api.get(`/registries/${NS}/th/registry.json`, bearer)).status, 200);
      assert.equal((await api.get('/registries/default/toolhive/v0.1/servers', bearer)).status, 403, 'another registry stays closed');
    });
  });
});
