/**
 * `mcpreg dev --kubeconfig` against the real kube-apiserver (started by `npm run test:cluster`,
 * skipped elsewhere): without this project's CRDs it refuses in one line that names them and
 * says how to install them; after that very command (`kubectl apply -k crds/`) local mode
 * starts on the cluster, applies no example, and a registry created there is synced by the
 * local sync function (on the event bridge's watch of the real server) and served by the local
 * query API.
 *
 * The suite's files share one cluster, one after another: this file deletes the CRDs it finds
 * (to see the refusal) and leaves the cluster as it found it: the CRDs installed if they were,
 * else none; its registry and ConfigMap deleted; its leases in a namespace of its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { startDev } from '../../lib/local/dev.ts';
import { readManifests } from '../../lib/local/examples.ts';
import { silentLogger } from '../../lib/log.ts';
import { devOnCluster, GROUP, until, VERSION } from '../harness/dev-on-cluster.ts';
import { ADMIN_USER, clusterFromEnv } from './real-apiserver.ts';

const cluster = clusterFromEnv();
const skip = cluster ? false : 'needs the real kube-apiserver: run npm run test:cluster';
const ROOT = join(import.meta.dirname, '..', '..');
const LEASES = 'mcpreg-dev-kubeconfig';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('mcpreg dev --kubeconfig on the real kube-apiserver', { skip, timeout: 240_000 }, () => {
  let dir: string;
  let admin: KubeConfig;
  let kubeconfig: string;
  let crdNames: string[];
  let hadCrds: boolean;

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
      await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'default', plural: 'mcpregistries', name: 'dev-mine' }).catch(() => {});
      await admin.makeApiClient(CoreV1Api).deleteNamespacedConfigMap({ namespace: 'default', name: 'dev-mine-src' }).catch(() => {});
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
    const outcome = await devOnCluster({ kubeconfig, admin, ns: 'default', name: 'dev-mine', names: ['alpha', 'beta', 'gamma'], env: { MCPREG_LEASE_NAMESPACE: LEASES } });
    assert.equal(outcome.dev.apiServerUrl, cluster!.server);
    assert.deepEqual(outcome.registriesAtStart, [], 'no example registry applied');
    assert.deepEqual(outcome.served.sort(), ['io.github.stacklok/alpha', 'io.github.stacklok/beta', 'io.github.stacklok/gamma']);
    // nothing installed: the real server has no ToolHive workload CRDs, and none were added
    const all = (await ext().listCustomResourceDefinition()).items.map((c) => c.metadata!.name!);
    assert.ok(!all.some((n) => n.endsWith('.toolhive.stacklok.dev')), all.join(', '));
    // the sync leases went to the namespace named for them, created because it was missing
    await admin.makeApiClient(CoreV1Api).readNamespace({ name: LEASES });
  });
});
