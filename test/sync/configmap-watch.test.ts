/**
 * ConfigMap sources sync at once without the user labelling them: local mode's runtime
 * (event bridge watching labelled ConfigMaps only, interval ticks off) labels the ConfigMap a
 * registry reads, so that an edit of a ConfigMap created unlabelled produces a new snapshot;
 * the label and readers annotation go when no registry reads it, a user's label stays. With
 * labelling forbidden by RBAC on the embedded control plane, the registry says so in
 * SourceWatched and the ping's resourceVersion check catches the edit (and fetches nothing
 * when the ConfigMap is unchanged); a ConfigMap event for the revision the snapshot was built
 * from syncs nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions, type V1ConfigMap } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { startDev, type DevRuntime } from '../../lib/local/dev.ts';
import { silentLogger } from '../../lib/log.ts';
import { createSource } from '../../lib/sources/index.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import type { Source } from '../../lib/sources/types.ts';
import { createSyncController } from '../../lib/sync/controller.ts';
import { READERS_ANNOTATION } from '../../lib/sync/configmap-readers.ts';
import type { DecodedEvent } from '../../lib/events/decode.ts';
import type { KubeObject } from '../../lib/kube/objects.ts';
import { startKube } from '../harness/kube.ts';
import { tempStore } from '../api/harness.ts';
import { registryJson } from '../harness/registry-data.ts';
import { until as poll } from '../harness/until.ts';

const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const LABEL = `${GROUP}/registry-source`;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Registry {
  metadata: { name: string; generation: number };
  status?: { observedGeneration?: number; serverCount?: number; snapshot?: { hash: string; revision?: string }; conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
}

function registryBody(ns: string, name: string, configMap: string) {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name, namespace: ns }, spec: { source: { type: 'configmap', configMap: { name: configMap, key: 'registry.json' } } } };
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000) => poll(what, probe, { timeoutMs, tolerateErrors: true });

const condition = (r: Registry, type: string) => r.status?.conditions?.find((c) => c.type === type);

describe('ConfigMap sources in local mode, unlabelled by the user', { timeout: 90_000 }, () => {
  let dir: string;
  let dev: DevRuntime;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  const NS = 'default';

  const get = async (name: string) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name })) as Registry;
  const cm = (name: string) => core.readNamespacedConfigMap({ namespace: NS, name });
  const ready = (name: string, servers: number) => until(`${name} serving ${servers} servers`, async () => {
    const r = await get(name);
    return r.status?.serverCount === servers && condition(r, 'Ready')?.status === 'True' ? r : undefined;
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-cm-watch-'));
    dev = await startDev({ dataDir: dir, port: 0, apiPort: 0, resyncIntervalMs: 0, examples: false, log: silentLogger });
    const kc = new KubeConfig();
    kc.loadFromFile(dev.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
  });
  after(async () => {
    await dev?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('an edit of a ConfigMap created without the label produces a new snapshot without waiting for the interval', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'plain' }, data: { 'registry.json': registryJson(['a', 'b']) } } });
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', body: registryBody(NS, 'plain', 'plain') });
    const first = await ready('plain', 2);
    const labelled = await cm('plain');
    assert.equal(labelled.metadata?.labels?.[LABEL], 'true', 'the sync function labelled it');
    assert.deepEqual(JSON.parse(labelled.metadata!.annotations![READERS_ANNOTATION]!), { readers: ['plain'], labelAdded: true });
    assert.equal(condition(first, 'SourceWatched')?.status, 'True');
    assert.equal(condition(first, 'SourceWatched')?.reason, 'Labelled');
    assert.ok(first.status?.snapshot?.revision?.startsWith(`${labelled.metadata?.resourceVersion}/`), 'the snapshot records the labelled resourceVersion');

    const t0 = Date.now();
    await core.patchNamespacedConfigMap({ namespace: NS, name: 'plain', body: { data: { 'registry.json': registryJson(['a', 'b', 'c']) } } }, mergePatch);
    // interval 1h, no resync ticks: only the ConfigMap's event can bring this
    const next = await ready('plain', 3);
    assert.notEqual(next.status?.snapshot?.hash, first.status?.snapshot?.hash);
    assert.ok(Date.now() - t0 < 10_000);
    const served = (await (await fetch(`${dev.queryUrl}/registries/${NS}/plain/v0.1/servers`)).json()) as { metadata: { count: number } };
    assert.equal(served.metadata.count, 3);
  });

  test('a second reader is listed; the label and annotation we added go when no registry reads the ConfigMap', async () => {
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', body: registryBody(NS, 'plain-2', 'plain') });
    await ready('plain-2', 3);
    assert.deepEqual(JSON.parse((await cm('plain')).metadata!.annotations![READERS_ANNOTATION]!), { readers: ['plain', 'plain-2'], labelAdded: true });

    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name: 'plain-2' });
    await until('plain-2 no longer a reader', async () => {
      const a = (await cm('plain')).metadata?.annotations?.[READERS_ANNOTATION];
      return a && JSON.parse(a).readers.length === 1 ? true : undefined;
    });
    assert.equal((await cm('plain')).metadata?.labels?.[LABEL], 'true', 'still read by plain');

    // plain moves to another ConfigMap: the old one loses what we added
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'other' }, data: { 'registry.json': registryJson(['x']) } } });
    await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name: 'plain', body: { spec: { source: { configMap: { name: 'other' } } } } }, mergePatch);
    await ready('plain', 1);
    const old: V1ConfigMap = await until('the old ConfigMap unlabelled', async () => {
      const c = await cm('plain');
      return c.metadata?.labels?.[LABEL] === undefined ? c : undefined;
    });
    assert.equal(old.metadata?.annotations?.[READERS_ANNOTATION], undefined);
    assert.equal((await cm('other')).metadata?.labels?.[LABEL], 'true');
  });

  test("a label the user set survives the last reader's deletion", async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'mine', labels: { [LABEL]: 'true', team: 'a' } }, data: { 'registry.json': registryJson(['m']) } } });
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', body: registryBody(NS, 'mine', 'mine') });
    const r = await ready('mine', 1);
    assert.equal(condition(r, 'SourceWatched')?.reason, 'LabelledByUser');
    assert.deepEqual(JSON.parse((await cm('mine')).metadata!.annotations![READERS_ANNOTATION]!), { readers: ['mine'], labelAdded: false });
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name: 'mine' });
    const c = await until('the annotation removed', async () => {
      const c = await cm('mine');
      return c.metadata?.annotations?.[READERS_ANNOTATION] === undefined ? c : undefined;
    });
    assert.equal(c.metadata?.labels?.[LABEL], 'true', "the user's label stays");
    assert.equal(c.metadata?.labels?.team, 'a');
  });
});

describe('ConfigMap sources when labelling is forbidden (RBAC)', { timeout: 60_000 }, () => {
  let cp: ControlPlane;
  let tmp: Awaited<ReturnType<typeof tempStore>>;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  const NS = 'team-a';
  let fetches = 0;

  before(async () => {
    cp = await startKube({ tokens: [{ token: 'sync-token', user: 'sync' }], namespaces: [NS, 'mcp-registry'] });
    tmp = await tempStore();
    const admin = cp.kubeConfig();
    core = admin.makeApiClient(CoreV1Api);
    custom = admin.makeApiClient(CustomObjectsApi);
    // the sync function's ClusterRole as shipped, less patch on configmaps
    const docs = parse((await readFile(join(import.meta.dirname, '..', '..', 'knative', 'rbac-sync.yaml'), 'utf8')).split(/^---$/m).find((d) => /kind: ClusterRole\n/.test(d) && /name: mcp-registry-sync\n/.test(d))!) as { rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> };
    const rules = docs.rules.map((r) => (r.resources.includes('configmaps') ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') } : r));
    assert.ok(docs.rules.some((r) => r.resources.includes('configmaps') && r.verbs.includes('patch')), 'the shipped role grants patch');
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: 'sync-no-patch' }, rules: [...rules, { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update', 'delete'] }] } });
    await rbac.createClusterRoleBinding({ body: { metadata: { name: 'sync-no-patch' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'sync-no-patch' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'sync' }] } });
  });
  after(async () => {
    await cp?.stop();
    await tmp?.cleanup();
  });

  test('the registry says why edits are not immediate, and the ping catches an edit by resourceVersion', async () => {
    const controller = createSyncController({
      kubeConfig: cp.kubeConfig('sync'),
      store: tmp.store,
      policy: resolvePolicy({}),
      config: { deadlineMs: 30_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'sync-test', keepSnapshots: 3 },
      log: silentLogger,
      createSource: (spec) => {
        const real: Source = createSource(spec);
        return { ...real, fetch: (...args: Parameters<Source['fetch']>) => ((fetches++), real.fetch(...args)) };
      },
    });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'src' }, data: { 'registry.json': registryJson(['a']) } } });
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', body: registryBody(NS, 'reg', 'src') });
    const get = async () => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name: 'reg' })) as Registry;

    const first = await controller.ping();
    assert.deepEqual(first.map((s) => s.outcome), ['published']);
    const r1 = await get();
    assert.equal(condition(r1, 'SourceWatched')?.status, 'False');
    assert.equal(condition(r1, 'SourceWatched')?.reason, 'LabelForbidden');
    assert.match(condition(r1, 'SourceWatched')!.message, /may not patch ConfigMaps in team-a.*per-minute revision check/);
    assert.equal((await core.readNamespacedConfigMap({ namespace: NS, name: 'src' })).metadata?.labels?.[LABEL], undefined);

    // not due (interval 1h), ConfigMap unchanged: nothing fetched
    const before = fetches;
    assert.deepEqual(await controller.ping(), []);
    assert.equal(fetches, before, 'no fetch when the resourceVersion is the snapshot’s');

    await core.patchNamespacedConfigMap({ namespace: NS, name: 'src', body: { data: { 'registry.json': registryJson(['a', 'b']) } } }, mergePatch);
    const second = await controller.ping();
    assert.deepEqual(second.map((s) => [s.outcome, s.reason]), [['published', 'configmap-changed']]);
    const r2 = await get();
    assert.equal(r2.status?.serverCount, 2);
    assert.notEqual(r2.status?.snapshot?.hash, r1.status?.snapshot?.hash);

    // a ConfigMap event for the revision the snapshot was built from (replayed, late, or the
    // update our own label makes) syncs nothing; one for an edit after it does
    const configMapEvent = async (): Promise<DecodedEvent> => {
      const c = await core.readNamespacedConfigMap({ namespace: NS, name: 'src' });
      return { type: 'resource', action: 'update', kind: 'ConfigMap', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: c.metadata, data: c.data } as KubeObject, id: `e-${c.metadata?.resourceVersion}`, source: 'test' };
    };
    const replay = await configMapEvent();
    const fetched = fetches;
    const skipped = await controller.handle(replay);
    assert.deepEqual(skipped.registries.map((s) => [s.outcome, s.reason]), [['skipped', 'the snapshot was built from the ConfigMap as it is now']]);
    assert.equal(fetches, fetched, 'nothing fetched for a revision already served');
    assert.equal((await get()).status?.snapshot?.hash, r2.status?.snapshot?.hash);

    await core.patchNamespacedConfigMap({ namespace: NS, name: 'src', body: { data: { 'registry.json': registryJson(['a', 'b', 'c']) } } }, mergePatch);
    const edited = await controller.handle(await configMapEvent());
    assert.deepEqual(edited.registries.map((s) => [s.outcome, s.reason]), [['published', 'configmap-changed']]);
    // the event of the older revision, delivered late, after the snapshot moved on: the ConfigMap as it is now decides
    assert.deepEqual((await controller.handle(replay)).registries.map((s) => s.outcome), ['skipped']);
    assert.equal((await get()).status?.serverCount, 3);
  });
});
