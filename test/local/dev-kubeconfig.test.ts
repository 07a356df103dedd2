/**
 * `mcpreg dev --kubeconfig FILE [--context C]`: local mode on a cluster that exists. Here the
 * embedded control plane is started on its own and stands in for that cluster (the real
 * kube-apiserver runs the same scenario in test/cluster/dev-kubeconfig.cluster.ts): nothing is
 * installed in it, no example is applied unless asked, a registry created there is synced and
 * served by the local query API; an unreachable cluster, a missing file or context and missing
 * CRDs are each one line (through the CLI: exit 1) that says what to do.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane/index.ts';
import { startDev } from '../../lib/local/dev.ts';
import { installCrds, readManifests, MARKER } from '../../lib/local/examples.ts';
import { findCrdsDir } from '../../lib/local/project-files.ts';
import { silentLogger } from '../../lib/log.ts';
import { devOnCluster, unreachableKubeconfig } from '../harness/dev-on-cluster.ts';
import { freePort } from '../harness/ports.ts';

const CLI = join(import.meta.dirname, '..', '..', 'lib', 'cli', 'main.ts');

function mcpreg(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'dev', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCPREG_TEST: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('mcpreg dev --kubeconfig', { timeout: 180_000 }, () => {
  let dir: string;
  let cp: ControlPlane;
  let kubeconfig: string;
  let admin: KubeConfig;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-dev-kubeconfig-'));
    // a "cluster" with a kubeconfig of two contexts, the current one pointing nowhere
    cp = await startControlPlane({ port: 0, dataDir: join(dir, 'cluster'), log: silentLogger });
    admin = cp.kubeConfig();
    const kc = new KubeConfig();
    const cluster = admin.getCurrentCluster()!;
    const user = admin.getCurrentUser()!;
    kc.loadFromOptions({
      clusters: [{ ...cluster, name: 'here' }, { name: 'gone', server: `https://127.0.0.1:${await freePort()}`, skipTLSVerify: true }],
      users: [user],
      contexts: [{ name: 'gone', cluster: 'gone', user: user.name }, { name: 'here', cluster: 'here', user: user.name }],
      currentContext: 'gone',
    });
    kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kc.exportConfig());
  });
  after(async () => {
    await cp?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (cluster: { kubeconfig: string; context?: string }) =>
    startDev({ dataDir: join(dir, 'data'), port: 0, apiPort: 0, resyncIntervalMs: 0, examples: false, log: silentLogger, cluster: { ...cluster, timeoutMs: 5000 } });

  test('a cluster without the CRDs: one line naming each missing one and how to install them', async () => {
    await assert.rejects(start({ kubeconfig, context: 'here' }), (e: Error) => {
      assert.equal(
        e.message,
        `the Kubernetes API at ${cp.url} (context here) lacks the CustomResourceDefinitions mcpregistries.toolhive.stacklok.io, mcpregistryexportjobs.toolhive.stacklok.io, mcpregistryimportjobs.toolhive.stacklok.io, mcpregistrysyncjobs.toolhive.stacklok.io (install them: kubectl apply -k crds/)`,
      );
      return true;
    });
    // one installed: the others are still named
    const { crds } = await readManifests(findCrdsDir());
    await installCrds(admin, crds.filter((c) => c.metadata!.name === 'mcpregistries.toolhive.stacklok.io'));
    await assert.rejects(start({ kubeconfig, context: 'here' }), /lacks the CustomResourceDefinitions mcpregistryexportjobs\.toolhive\.stacklok\.io, mcpregistryimportjobs\.toolhive\.stacklok\.io, mcpregistrysyncjobs\.toolhive\.stacklok\.io \(install them/);
  });

  test('an unreachable cluster, a missing file, an unknown context: one line each', async () => {
    await assert.rejects(start({ kubeconfig }), /^RegistryError: cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ \(context gone\): ECONNREFUSED$/);
    await assert.rejects(start({ kubeconfig: join(dir, 'nope') }), (e: Error) => e.message === `kubeconfig ${join(dir, 'nope')}: no such file`);
    await assert.rejects(start({ kubeconfig, context: 'prod' }), (e: Error) => e.message === `kubeconfig ${kubeconfig} has no context "prod" (it has: gone, here)`);
  });

  test('through the CLI: exit 1 and that one line; usage errors exit 2', async () => {
    const gone = join(dir, 'gone.kubeconfig');
    await writeFile(gone, unreachableKubeconfig(await freePort()));
    const r = await mcpreg(['--kubeconfig', gone, '--port', '0', '--data', join(dir, 'cli')], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^mcpreg: cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ \(context gone\): ECONNREFUSED\n$/);
    for (const [args, message] of [
      [['--context', 'x'], /^mcpreg: dev: --context needs --kubeconfig\n$/],
      [['--kubeconfig', gone, '--api-port', '7000'], /^mcpreg: dev: --api-port is the embedded Kubernetes API's; with --kubeconfig there is none\n$/],
    ] as const) {
      const u = await mcpreg([...args], dir);
      assert.equal(u.code, 2, u.stderr);
      assert.match(u.stderr, message);
    }
  });

  test('with the CRDs: nothing installed, no example applied, a registry created there is synced and served here', async () => {
    const { crds } = await readManifests(findCrdsDir());
    await installCrds(admin, crds);
    const ext = admin.makeApiClient(ApiextensionsV1Api);
    const before = (await ext.listCustomResourceDefinition()).items.map((c) => c.metadata!.name).sort();
    const outcome = await devOnCluster({ kubeconfig, context: 'here', admin, ns: 'default', name: 'mine', names: ['alpha', 'beta'] });
    assert.deepEqual(outcome.registriesAtStart, [], 'no example registry was applied');
    assert.deepEqual(outcome.served.sort(), ['io.github.stacklok/alpha', 'io.github.stacklok/beta']);
    assert.equal(outcome.dev.apiServerUrl, cp.url);
    assert.equal(outcome.dev.context, 'here');
    assert.equal(outcome.dev.examples, undefined);
    // the workload CRDs local mode brings for its own control plane were not installed here
    assert.deepEqual((await ext.listCustomResourceDefinition()).items.map((c) => c.metadata!.name).sort(), before);
    await assert.rejects(admin.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: MARKER.namespace, name: MARKER.name }), (e: { code?: number }) => e.code === 404);
    // the lease namespace was created for the sync function's leases
    await admin.makeApiClient(CoreV1Api).readNamespace({ name: 'mcp-registry' });
  });
});
