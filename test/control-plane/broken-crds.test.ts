/**
 * The broken-CRD corpus (test/cluster/broken-crds/) against the embedded control plane: it must
 * accept or reject each CRD, and each custom resource after an ok- CRD, as the real
 * kube-apiserver did (test/cluster/broken-crds/expected.json, recorded and re-checked by
 * test/cluster/broken-crds.cluster.ts), with the same causes as a set (the CEL compiler's own
 * error text after "compilation failed" aside). Our own CRDs and examples are accepted.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadAllYaml, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane/index.ts';
import { EXPECTED_FILE, comparable, differences, loadCorpus, runCorpus, type CorpusResults } from '../cluster/broken-crds.ts';
import { CRDS_DIR, readCrds } from '../harness/kube.ts';
import { workloadCrds } from '../../lib/deploy/workload-crds.ts';

let cp: ControlPlane;
before(async () => {
  cp = await startControlPlane();
});
after(() => cp?.stop());

test('the embedded control plane answers the broken-CRD corpus as the real kube-apiserver did', { timeout: 60_000 }, async () => {
  const expected = JSON.parse(await readFile(EXPECTED_FILE, 'utf8')) as CorpusResults;
  const cases = await loadCorpus();
  assert.deepEqual(cases.map((c) => c.id).sort(), Object.keys(expected).sort(), 'expected.json covers the corpus (re-record it after a change)');
  const results = await runCorpus({ server: cp.url, token: cp.tokenFor() }, cases);
  assert.deepEqual(differences(expected, results, comparable), []);
});

test('our own CRDs (crds/ and the ToolHive workload CRDs of lib/deploy) and every example are still accepted', async () => {
  const objects = cp.kubeConfig().makeApiClient(KubernetesObjectApi);
  for (const crd of await readCrds()) await objects.create(crd as KubernetesObject);
  for (const crd of workloadCrds()) await objects.create(crd as KubernetesObject);
  const dir = join(CRDS_DIR, 'examples');
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('.yaml')).sort()) {
    for (const doc of loadAllYaml(await readFile(join(dir, f), 'utf8')) as (KubernetesObject | null)[]) {
      if (!doc) continue;
      await assert.doesNotReject(objects.create({ ...doc, metadata: { ...doc.metadata, namespace: doc.metadata?.namespace ?? 'default' } }), f);
    }
  }
});
