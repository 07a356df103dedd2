/**
 * `mcpreg dev --kubeconfig` against the real kube-apiserver (started by `npm run test:cluster`,
 * skipped elsewhere): without this project's CRDs it refuses in one line that names them and
 * says how to install them; after that very command (`kubectl apply -k crds/`) local mode
 * starts on the cluster, applies no example, and a registry created there is synced by the
 * local sync function (on the event bridge's watch of the real server) and served by the local
 * query API; the same as a plain user holding only knative/'s RBAC of the sync function and the
 * ApiServerSource (what README says such a user needs).
 *
 * The suite's files share one cluster, one after another: this file deletes the CRDs it finds
 * (to see the refusal) and leaves the cluster as it found it: the CRDs installed if they were,
 * else none; its registries, ConfigMaps and RoleBindings deleted; the admin run's leases in a
 * namespace of its own (the RBAC run's in mcp-registry, which knative/'s lease Role names).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, loadAllYaml, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { startDev } from '../../lib/local/dev.ts';
import { readManifests } from '../../lib/local/examples.ts';
import { silentLogger } from '../../lib/log.ts';
import { devOnCluster, GROUP, until, VERSION } from '../harness/dev-on-cluster.ts';
import { ADMIN_USER, clusterFromEnv } from './real-apiserver.ts';

const cluster = clusterFromEnv();
const skip = cluster ? false : 'needs the real kube-apiserver: run npm run test:cluster';
const ROOT = join(import.meta.dirname, '..', '..');
const LEASES = 'mcpreg-dev-kubeconfig';
/** the user local mode runs as in the RBAC test: knative/'s sync function and ApiServerSource RBAC, both */
const DEV_USER = 'mcpreg-sync';

/** knative/'s RBAC of one file, its bindings renamed (-dev-USER) and bound to USER; the ServiceAccount left out */
async function rbacFor(file: string, user: string): Promise<KubernetesObject[]> {
  const docs = (loadAllYaml(await readFile(join(ROOT, 'knative', file), 'utf8')) as Array<(KubernetesObject & { subjects?: unknown[] }) | null>).filter((d) => d !== null);
  return docs
    .filter((d) => d.kind !== 'ServiceAccount')
    .map((d) => (d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding' ? { ...d, metadata: { ...d.metadata, name: `${d.metadata!.name}-dev-${user}` }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }] } : d));
}
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('mcpreg dev --kubeconfig on the real kube-apiserver', { skip, timeout: 240_000 }, () => {
  let dir: string;
  let admin: KubeConfig;
  let kubeconfig: string;
  let crdNames: string[];
  let hadCrds: boolean;
  const bindings: KubernetesObject[] = [];

  const ext = () => admin.makeApiClient(ApiextensionsV1Api);
  const present = async () => (await ext().listCustomResourceDefinition()).items.map((c) => c.metadata!.name!).filter((n) => crdNames.includes(n));
  const deleteCrds = async () => {
    const custom = admin.makeApiClient(CustomObjectsApi);
    for (const name of await present()) {
      // no sync function runs now to release its finalizer: without this the CRD never goes
      const crd = await ext().readCustomResourceDefinition({ name });
      const { group, names } = crd.spec;
      const version = crd.spec.versions.find((v) => v.storage)!.name;
      const { items } = (await custom.listClusterCustomObject({ group, version, plural: names.plural })) as { items: Array<{ metadata: { namespace?: string; name: string; finalizers?: string[] } }> };
      for (const o of items.filter((i) => (i.metadata.finalizers ?? []).length > 0)) {
        await custom.patchNamespacedCustomObject({ group, version, plural: names.plural, namespace: o.metadata.namespace!, name: o.metadata.name, body: { metadata: { finalizers: null } } }, mergePatch);
      }
      await ext().deleteCustomResourceDefinition({ name });
    }
    await until('the CRDs gone', async () => ((await present()).length === 0 ? true : undefined), 60_000);
  };
  const kubectl = (args: string[]) => spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-dev-cluster-test-'));
    admin = cluster!.kubeConfig(cluster!.adminToken, ADMIN_USER);
    kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, admin.exportConfig());
    crdNames = (await readManifests(join(ROOT, 'crds'))).crds.map((c) => c.metadata!.name!);
    hadCrds = (await present()).length > 0;
  });
  after(async () => {
    if (admin) {
      const custom = admin.makeApiClient(CustomObjectsApi);
      for (const name of ['dev-mine', 'dev-rbac']) {
        // no sync function runs now to release its finalizer
        await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'default', plural: 'mcpregistries', name, body: { metadata: { finalizers: null } } }, mergePatch).catch(() => {});
        await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'default', plural: 'mcpregistries', name }).catch(() => {});
        await admin.makeApiClient(CoreV1Api).deleteNamespacedConfigMap({ namespace: 'default', name: `${name}-src` }).catch(() => {});
      }
      const objects = admin.makeApiClient(KubernetesObjectApi);
      for (const b of bindings) await objects.delete(b).catch(() => {});
      if (!hadCrds) await deleteCrds();
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('without the CRDs: one line naming each and the command that installs them', async () => {
    await deleteCrds();
    await assert.rejects(
      startDev({ dataDir: join(dir, 'refused'), port: 0, apiPort: 0, resyncIntervalMs: 0, examples: false, log: silentLogger, cluster: { kubeconfig } }),
      (e: Error) => {
        assert.equal(e.message, `the Kubernetes API at ${cluster!.server} (context ${ADMIN_USER}) lacks the CustomResourceDefinitions ${[...crdNames].sort().join(', ')} (install them: kubectl apply -k crds/)`);
        return true;
      },
    );
  });

  test('after kubectl apply -k crds/: no example applied, a registry created there synced and served by local mode', async () => {
    const applied = kubectl(['apply', '-k', join(ROOT, 'crds')]);
    assert.equal(applied.status, 0, applied.stderr);
    assert.equal(kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crdNames.map((n) => `crd/${n}`)]).status, 0);
    const workloadCrds = async () => (await ext().listCustomResourceDefinition()).items.map((c) => c.metadata!.name!).filter((n) => n.endsWith('.toolhive.stacklok.dev'));
    // another file of the suite may be deleting the ones it tried: compare with what was there
    const workloadsBefore = await workloadCrds();
    const outcome = await devOnCluster({ kubeconfig, admin, ns: 'default', name: 'dev-mine', names: ['alpha', 'beta', 'gamma'], env: { MCPREG_LEASE_NAMESPACE: LEASES } });
    assert.equal(outcome.dev.apiServerUrl, cluster!.server);
    assert.deepEqual(outcome.registriesAtStart, [], 'no example registry applied');
    assert.deepEqual(outcome.served.sort(), ['io.github.stacklok/alpha', 'io.github.stacklok/beta', 'io.github.stacklok/gamma']);
    // nothing installed: none of the ToolHive workload CRDs local mode brings for its own control plane
    const workloadsAfter = await workloadCrds();
    assert.ok(workloadsAfter.every((n) => workloadsBefore.includes(n)), `added: ${workloadsAfter.filter((n) => !workloadsBefore.includes(n)).join(', ')}`);
    // the sync leases went to the namespace named for them, created because it was missing
    await admin.makeApiClient(CoreV1Api).readNamespace({ name: LEASES });
  });

  test("as a user with only knative/'s RBAC of the sync function and the ApiServerSource: synced and served the same", async () => {
    const core = admin.makeApiClient(CoreV1Api);
    // the namespace of knative/'s lease Role; that user may not create it (nor read namespaces)
    await core.createNamespace({ body: { metadata: { name: 'mcp-registry' } } }).catch((e: { code?: number }) => {
      if (e.code !== 409) throw e;
    });
    const objects = admin.makeApiClient(KubernetesObjectApi);
    for (const file of ['rbac-sync.yaml', 'rbac-source.yaml']) {
      for (const o of await rbacFor(file, DEV_USER)) {
        await objects.create(o).then(
          () => {
            if (o.kind?.endsWith('Binding')) bindings.push(o);
          },
          (e: { code?: number }) => {
            if (e.code !== 409) throw e; // a ClusterRole another file of the suite made
          },
        );
      }
    }
    const userKubeconfig = join(dir, 'kubeconfig-dev-user');
    await writeFile(userKubeconfig, cluster!.kubeConfig(cluster!.tokens[DEV_USER], DEV_USER).exportConfig());
    const can = (args: string[]) => kubectl(['auth', 'can-i', '--as', DEV_USER, ...args]).stdout.trim();
    assert.equal(can(['create', 'namespaces']), 'no', 'a plain user, not an admin');
    const outcome = await devOnCluster({ kubeconfig: userKubeconfig, admin, ns: 'default', name: 'dev-rbac', names: ['delta'] });
    assert.deepEqual(outcome.served, ['io.github.stacklok/delta']);
    const events = await core.listNamespacedEvent({ namespace: 'default' });
    assert.ok(events.items.some((e) => e.involvedObject.kind === 'MCPRegistry' && e.involvedObject.name === 'dev-rbac'), 'the sync function wrote Events under that RBAC');
  });
});
