/**
 * The broken-CRD corpus against the real kube-apiserver (started by `npm run test:cluster`,
 * skipped elsewhere): every broken-*.yaml CRD is rejected, every ok-*.yaml accepted, and the
 * answers (accept or reject, the causes as a set, and for the custom resources after an ok- CRD)
 * are those in broken-crds/expected.json, which test/control-plane/broken-crds.test.ts holds the
 * embedded control plane to. MCPREG_RECORD_BROKEN_CRDS=1 writes expected.json from this server's
 * answers instead (after a corpus change; review the diff).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { EXPECTED_FILE, differences, loadCorpus, runCorpus, type CorpusResults } from './broken-crds.ts';
import { clusterFromEnv } from './real-apiserver.ts';
import { workloadCrds } from '../../lib/deploy/workload-crds.ts';
import { ApiextensionsV1Api } from '@kubernetes/client-node';

const cluster = clusterFromEnv();
const skip = cluster ? false : 'needs the real kube-apiserver: run npm run test:cluster';

test('the broken-CRD corpus: the real kube-apiserver rejects each broken CRD and answers as expected.json records', { skip, timeout: 300_000 }, async () => {
  const cases = await loadCorpus();
  assert.ok(cases.filter((c) => !c.id.startsWith('ok-')).length >= 18, 'at least 18 broken CRDs');
  const results = await runCorpus({ server: cluster!.server, token: cluster!.adminToken, ca: await readFile(cluster!.caFile) }, cases);
  const record = process.env.MCPREG_RECORD_BROKEN_CRDS === '1';
  if (record) await writeFile(EXPECTED_FILE, `${JSON.stringify(results, null, 2)}\n`);
  for (const c of cases) {
    const r = results[c.id]!;
    assert.equal(r.crd.accepted, c.id.startsWith('ok-'), `${c.id}: ${JSON.stringify(r.crd.causes)}`);
  }
  if (record) return;
  const expected = JSON.parse(await readFile(EXPECTED_FILE, 'utf8')) as CorpusResults;
  assert.deepEqual(differences(expected, results), []);
});

test('the ToolHive workload CRDs we generate (lib/deploy/workload-crds.ts, applied by local mode and the deploy tests) are accepted by the real kube-apiserver', { skip, timeout: 60_000 }, async () => {
  const ext = cluster!.kubeConfig(cluster!.adminToken, 'cluster-admin').makeApiClient(ApiextensionsV1Api);
  for (const crd of workloadCrds()) {
    await ext.createCustomResourceDefinition({ body: crd });
    await ext.deleteCustomResourceDefinition({ name: crd.metadata!.name! });
  }
});
