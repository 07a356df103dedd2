/**
 * Real kubectl against the embedded control plane: apply a CRD and a custom resource, printer
 * columns with -o wide, label, annotate, merge and status patches, server-side apply with its
 * conflicts, a watch that shows a change, delete, and `auth can-i` answered from RBAC; then the
 * project's own MCPRegistry CRD and examples. Skipped (with the reason) when kubectl is absent.
 *
 * kubectl only attaches kubeconfig credentials over TLS, so against this plain-HTTP server it is
 * system:anonymous; the test grants that user cluster-admin through RBAC and asks `can-i` for
 * other users with impersonation (--as), which kubectl does send over HTTP.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane/index.ts';
import { grantAnonymousAdmin, raw, widget, widgetCrd } from '../servers/control-plane.ts';

const probe = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
const skip = probe.error || probe.status !== 0 ? `kubectl is not available on this machine (${probe.error?.message ?? probe.stderr.trim()})` : false;
const REPO = join(import.meta.dirname, '..', '..');

describe('kubectl against the control plane', { skip }, () => {
  let cp: ControlPlane;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  const kubectl = (args: string[], input?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile('kubectl', [`--cache-dir=${join(dir, 'cache')}`, ...args], { env, timeout: 20_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
      if (input !== undefined) child.stdin!.end(input);
    });
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  const getWidget = async (name: string) => (await raw(cp, 'GET', `/apis/example.com/v1/namespaces/default/widgets/${name}`)).json();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cp-kubectl-'));
    cp = await startControlPlane({ dataDir: dir, authorization: 'RBAC', anonymous: true });
    env = { ...process.env, KUBECONFIG: cp.kubeconfigPath!, HOME: dir };
    await grantAnonymousAdmin(cp);
    await writeFile(join(dir, 'crd.yaml'), stringify(widgetCrd()));
    await writeFile(join(dir, 'w1.yaml'), stringify(widget('w1', { size: 3 })));
  });
  after(async () => {
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('apply a CRD and a custom resource; get -o wide prints the printer columns', async () => {
    assert.match(await ok(['apply', '-f', join(dir, 'crd.yaml')]), /customresourcedefinition.apiextensions.k8s.io\/widgets.example.com created/);
    assert.match(await ok(['apply', '-f', join(dir, 'w1.yaml')]), /widget.example.com\/w1 created/);
    const wide = await ok(['get', 'widgets', '-o', 'wide']);
    const [header, row] = wide.trim().split('\n').map((l) => l.trim().split(/\s+/));
    assert.deepEqual(header, ['NAME', 'SIZE', 'READY', 'COLOR', 'AGE']);
    assert.deepEqual(row!.slice(0, 3), ['w1', '3', 'red'], 'READY is empty, COLOR (priority 1) shows with -o wide');
    const narrow = await ok(['get', 'wd']);
    assert.deepEqual(narrow.trim().split('\n')[0]!.trim().split(/\s+/), ['NAME', 'SIZE', 'READY', 'AGE']);
    const again = await ok(['apply', '-f', join(dir, 'w1.yaml')]);
    assert.match(again, /widget.example.com\/w1 unchanged/);
  });

  test('label, annotate, patch --type=merge and patch --subresource=status', async () => {
    await ok(['label', 'widget', 'w1', 'tier=gold']);
    await ok(['annotate', 'widget', 'w1', 'example.com/note=hello']);
    await ok(['patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"size":7}}']);
    await ok(['patch', 'widget', 'w1', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}']);
    const w = await getWidget('w1');
    assert.equal(w.metadata.labels.tier, 'gold');
    assert.equal(w.metadata.annotations['example.com/note'], 'hello');
    assert.equal(w.spec.size, 7);
    assert.equal(w.metadata.generation, 2, 'only the spec patch changed the generation');
    const row = (await ok(['get', 'wd', 'w1', '--no-headers'])).trim().split(/\s+/);
    assert.deepEqual(row.slice(0, 3), ['w1', '7', 'True']);
    const invalid = await kubectl(['patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"color":"purple"}}']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /spec.color: Unsupported value: "purple"/);
  });

  test('apply --server-side: conflicts with the patch manager, then takes over with --force-conflicts', async () => {
    await writeFile(join(dir, 'w1-ssa.yaml'), stringify(widget('w1', { size: 9, tags: ['a'] })));
    const conflict = await kubectl(['apply', '--server-side', '-f', join(dir, 'w1-ssa.yaml')]);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /conflict with "kubectl-patch" using example\.com\/v1 at \S+: \.spec\.size/, "kube-apiserver names an updater with its API version and time");
    assert.match(await ok(['apply', '--server-side', '--force-conflicts', '-f', join(dir, 'w1-ssa.yaml')]), /serverside-applied/);
    const w = await getWidget('w1');
    assert.equal(w.spec.size, 9);
    assert.deepEqual(w.spec.tags, ['a']);
  });

  test('get -w shows a change made while it watches', async () => {
    const child = spawn('kubectl', [`--cache-dir=${join(dir, 'cache')}`, 'get', 'widgets', '-w', '--no-headers'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const until = async (pattern: RegExp) => {
        const end = Date.now() + 10_000;
        while (!pattern.test(out)) {
          if (Date.now() > end) throw new Error(`kubectl get -w printed ${JSON.stringify(out)}, waiting for ${pattern}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await until(/^w1\s+9\s/m);
      await ok(['patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"size":11}}']);
      await until(/^w1\s+11\s/m);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  test('delete removes the resource', async () => {
    assert.match(await ok(['delete', 'widget', 'w1']), /widget.example.com "w1" deleted/);
    const gone = await kubectl(['get', 'widget', 'w1']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /NotFound|not found/);
  });

  test('auth can-i answers from RBAC', async () => {
    const can = (args: string[]) => kubectl(['auth', 'can-i', ...args]);
    let r = await can(['list', 'widgets.example.com', '--as=bob']);
    assert.equal(r.stdout.trim(), 'no');
    assert.equal(r.code, 1);
    await ok(['create', 'role', 'widget-reader', '--verb=get,list', '--resource=widgets.example.com']);
    await ok(['create', 'rolebinding', 'bob-reads', '--role=widget-reader', '--user=bob']);
    r = await can(['list', 'widgets.example.com', '--as=bob']);
    assert.equal(r.stdout.trim(), 'yes');
    assert.equal(r.code, 0);
    r = await can(['delete', 'widgets.example.com', '--as=bob']);
    assert.equal(r.stdout.trim(), 'no');
    r = await can(['list', 'widgets.example.com', '--as=bob', '-n', 'kube-system']);
    assert.equal(r.stdout.trim(), 'no', 'a RoleBinding grants in its namespace only');
    r = await can(['create', 'configmaps']);
    assert.equal(r.stdout.trim(), 'yes', 'anonymous holds cluster-admin here');
  });

  test('create token issues a service-account token that authenticates as the account', async () => {
    const token = (await ok(['create', 'token', 'default', '--duration=1h'])).trim();
    const res = await raw(cp, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      contentType: 'application/json',
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }),
    });
    const review = res.json();
    assert.equal(review.status.authenticated, true);
    assert.equal(review.status.user.username, 'system:serviceaccount:default:default');
    assert.ok(review.status.user.groups.includes('system:serviceaccounts:default'));
  });

  test("the project's MCPRegistry CRDs and examples apply, validate and print", async (t) => {
    const crd = join(REPO, 'crds', 'mcpregistries.yaml');
    if (!existsSync(crd)) return t.skip('crds/mcpregistries.yaml is not in the repository yet');
    await ok(['apply', '-f', crd]);
    const examples = join(REPO, 'crds', 'examples');
    const registries = (await readdir(examples)).filter((f) => f.startsWith('registry-') && f.endsWith('.yaml'));
    assert.ok(registries.length > 0);
    for (const f of registries) await ok(['apply', '--server-side', '-f', join(examples, f)]);
    const listed = await ok(['get', 'mcpregistries', '-o', 'wide', '--no-headers']);
    assert.equal(listed.trim().split('\n').length, registries.length);
    const bad = await kubectl(['apply', '-f', '-'], stringify({ apiVersion: 'toolhive.stacklok.io/v1alpha1', kind: 'MCPRegistry', metadata: { name: 'bad' }, spec: { source: { type: 'ftp' } } }));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /spec.source.type: Unsupported value: "ftp"/);
  });
});
