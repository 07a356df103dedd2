/**
 * Server-side apply of list-maps against the embedded control plane, with the workload CRDs
 * (MCPServer `spec.env` is `x-kubernetes-list-type: map` keyed by `name`): our field manager
 * applies env, a user adds a variable, our re-applies keep it, drop only what we alone owned,
 * and a value the user owns conflicts with kube-apiserver's field path. Once through
 * @kubernetes/client-node, once through real kubectl (skipped when kubectl is absent).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane/index.ts';
import { workloadCrdObjects } from '../../lib/deploy/workload-crds.ts';
import { grantAnonymousAdmin, raw, statusOf } from '../servers/control-plane.ts';

const NS = 'default';
const MCP = { group: 'toolhive.stacklok.dev', version: 'v1beta1', plural: 'mcpservers' };
const env = (...pairs: [string, string][]) => pairs.map(([name, value]) => ({ name, value }));
const server = (name: string, e: { name: string; value: string }[]) => ({
  apiVersion: 'toolhive.stacklok.dev/v1beta1',
  kind: 'MCPServer',
  metadata: { name, namespace: NS },
  spec: { image: 'ghcr.io/example/fetch:1', transport: 'stdio', env: e },
});

async function installWorkloadCrds(cp: ControlPlane): Promise<void> {
  for (const crd of workloadCrdObjects()) {
    const res = await raw(cp, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { contentType: 'application/json', body: JSON.stringify(crd) });
    assert.equal(res.status, 201, res.text);
  }
}

describe('server-side apply of list-maps through @kubernetes/client-node', () => {
  let cp: ControlPlane;
  let custom: CustomObjectsApi;
  before(async () => {
    cp = await startControlPlane();
    custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    await installWorkloadCrds(cp);
  });
  after(() => cp.stop());

  const apply = (e: { name: string; value: string }[], force = false) =>
    custom.patchNamespacedCustomObject({ ...MCP, namespace: NS, name: 'fetch', body: server('fetch', e), fieldManager: 'mcp-registry', force }, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply));
  const jsonPatch = (ops: object[]) =>
    custom.patchNamespacedCustomObject({ ...MCP, namespace: NS, name: 'fetch', body: ops, fieldManager: 'kubectl-patch' }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));

  test('a user-added env var survives our re-applies; what only we owned goes; a user-owned value conflicts', async () => {
    await apply(env(['X', '1'], ['Y', '2']));
    await jsonPatch([{ op: 'add', path: '/spec/env/-', value: { name: 'Z', value: 'user' } }]);
    let w = await apply(env(['X', "1'"], ['Y', '2']));
    assert.deepEqual(w.spec.env, env(['X', "1'"], ['Y', '2'], ['Z', 'user']));
    const ours = w.metadata.managedFields.find((m: { manager: string }) => m.manager === 'mcp-registry');
    assert.deepEqual(Object.keys(ours.fieldsV1['f:spec']['f:env']).sort(), ['k:{"name":"X"}', 'k:{"name":"Y"}']);
    assert.deepEqual(ours.fieldsV1['f:spec']['f:env']['k:{"name":"X"}'], { '.': {}, 'f:name': {}, 'f:value': {} });
    const theirs = w.metadata.managedFields.find((m: { manager: string }) => m.manager === 'kubectl-patch');
    assert.deepEqual(Object.keys(theirs.fieldsV1['f:spec']['f:env']), ['k:{"name":"Z"}']);

    w = await apply(env(['X', "1'"]));
    assert.deepEqual(w.spec.env, env(['X', "1'"], ['Z', 'user']), 'Y removed (only we owned it), Z kept');

    await jsonPatch([{ op: 'replace', path: '/spec/env/0/value', value: 'pinned' }]);
    let status: ReturnType<typeof statusOf> | undefined;
    try {
      await apply(env(['X', 'registry']));
    } catch (e) {
      assert.equal((e as { code?: number }).code, 409);
      status = statusOf(e);
    }
    assert.ok(status, 'the apply conflicts');
    assert.match(status.message!, /^Apply failed with 1 conflict: conflict with "kubectl-patch" using toolhive\.stacklok\.dev\/v1beta1 at \S+: \.spec\.env\[name="X"\]\.value$/);
    assert.deepEqual(status.details.causes, [
      { reason: 'FieldManagerConflict', message: status.details.causes[0].message, field: '.spec.env[name="X"].value' },
    ]);
    w = await apply(env(['X', 'registry']), true);
    assert.deepEqual(w.spec.env, env(['X', 'registry'], ['Z', 'user']), 'forced: our value, their Z untouched');
  });
});

const probe = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
const skip = probe.error || probe.status !== 0 ? `kubectl is not available on this machine (${probe.error?.message ?? probe.stderr.trim()})` : false;

describe('server-side apply of list-maps through kubectl', { skip }, () => {
  let cp: ControlPlane;
  let dir: string;
  let procEnv: NodeJS.ProcessEnv;
  const kubectl = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('kubectl', [`--cache-dir=${join(dir, 'cache')}`, ...args], { env: procEnv, timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const ok = async (args: string[]) => {
    const r = await kubectl(args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  const applyFile = async (e: { name: string; value: string }[], extra: string[] = []) => {
    // JSON: in kubectl's YAML 1.1 an env var named Y would be the boolean true
    const file = join(dir, 'fetch.json');
    await writeFile(file, JSON.stringify(server('fetch', e)));
    return kubectl(['apply', '--server-side', '--field-manager=mcp-registry', ...extra, '-f', file]);
  };
  const envOf = async () => JSON.parse(await ok(['get', 'mcpserver', 'fetch', '-o', 'json'])).spec.env;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cp-ssa-lists-'));
    // kubectl sends no credentials over plain HTTP: anonymous gets cluster-admin (as in kubectl.test.ts)
    cp = await startControlPlane({ dataDir: dir, authorization: 'RBAC', anonymous: true });
    procEnv = { ...process.env, KUBECONFIG: cp.kubeconfigPath!, HOME: dir };
    await grantAnonymousAdmin(cp);
    await installWorkloadCrds(cp);
  });
  after(async () => {
    await cp.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('kubectl apply --server-side keeps the env var kubectl patch added, prunes its own, reports the item field conflict', async () => {
    const first = await applyFile(env(['X', '1'], ['Y', '2']));
    assert.equal(first.code, 0, first.stderr);
    await ok(['patch', 'mcpserver', 'fetch', '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/spec/env/-', value: { name: 'Z', value: 'user' } }])]);
    assert.equal((await applyFile(env(['X', "1'"], ['Y', '2']))).code, 0);
    assert.deepEqual(await envOf(), env(['X', "1'"], ['Y', '2'], ['Z', 'user']));
    assert.equal((await applyFile(env(['X', "1'"]))).code, 0);
    assert.deepEqual(await envOf(), env(['X', "1'"], ['Z', 'user']));
    await ok(['patch', 'mcpserver', 'fetch', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/env/0/value', value: 'pinned' }])]);
    const conflict = await applyFile(env(['X', 'registry']));
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /conflict with "kubectl-patch" using toolhive\.stacklok\.dev\/v1beta1 at \S+: \.spec\.env\[name="X"\]\.value/);
    assert.equal((await applyFile(env(['X', 'registry']), ['--force-conflicts'])).code, 0);
    assert.deepEqual(await envOf(), env(['X', 'registry'], ['Z', 'user']));
  });
});
