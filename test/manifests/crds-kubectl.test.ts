/**
 * The CRDs on a real API surface: install them with kubectl into the embedded control plane,
 * then check what a platform engineer sees — invalid MCPRegistries refused with the field
 * path and the reason, defaults filled in, printer columns, status written through the
 * status subresource, `kubectl wait --for=condition=Ready`, immutable sync jobs, and the big
 * example ConfigMap accepted through server-side apply.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane/index.ts';

const root = join(import.meta.dirname, '..', '..');
const probe = spawnSync('kubectl', ['version', '--client=true'], { encoding: 'utf8' });
const noKubectl = probe.error || probe.status !== 0 ? 'kubectl is not installed: install it to run the kubectl tests' : false;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('CRDs through kubectl against the embedded control plane', { skip: noKubectl }, () => {
  let cp: ControlPlane;
  let dir: string;

  /** kubectl, asynchronously (the control plane runs in this process and must keep serving) */
  const kubectl = (args: string[], input?: string): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn('kubectl', ['--kubeconfig', cp.kubeconfigPath!, '--request-timeout=20s', ...args], { cwd: root });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
      child.stdin.end(input ?? '');
    });
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const registry = (name: string, spec: string) =>
    `apiVersion: toolhive.stacklok.io/v1alpha1\nkind: MCPRegistry\nmetadata:\n  name: ${name}\n  namespace: default\nspec:\n${spec}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-crds-kubectl-'));
    cp = await startControlPlane({ port: 0, dataDir: dir });
    await ok(['apply', '-k', 'crds/']);
    await ok(['wait', '--for=condition=Established', 'crd/mcpregistries.toolhive.stacklok.io', '--timeout=20s']);
  });
  after(async () => {
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses invalid MCPRegistries with the field path and the reason', async () => {
    const cases: [string, string, RegExp[]][] = [
      ['no-source', '  displayName: x\n', [/spec\.source: Required value/]],
      ['bad-type', '  source:\n    type: s3\n', [/spec\.source\.type: Unsupported value: "s3"/]],
      ['type-without-block', '  source:\n    type: url\n', [/spec\.source\.url: Invalid value: "object": url must be set when type is url, and only then/]],
      [
        'wrong-block',
        '  source:\n    type: configmap\n    configMap: {name: a}\n    git: {repository: "https://g/r.git"}\n',
        [/spec\.source\.git: Invalid value: "object": git must be set when type is git, and only then/],
      ],
      [
        'two-refs',
        '  source:\n    type: git\n    git:\n      repository: https://g/r.git\n      branch: main\n      tag: v1\n',
        [/spec\.source\.git: Invalid value: "object": set at most one of branch, tag and commit/],
      ],
      [
        'half-credentials',
        '  source:\n    type: registry\n    registry:\n      url: https://r.example.com\n      authSecret: {name: s, usernameKey: u}\n',
        [/spec\.source\.registry\.authSecret: Invalid value: "object": usernameKey and passwordKey must be set together/],
      ],
      [
        'two-credentials',
        '  source:\n    type: url\n    url:\n      url: https://r.example.com/r.json\n      authSecret: {name: s, tokenKey: t, headerName: X-Key, headerValueKey: k}\n',
        [/spec\.source\.url\.authSecret: Invalid value: "object": set exactly one credential: tokenKey, usernameKey\+passwordKey, or headerName\+headerValueKey/],
      ],
      [
        'bad-durations-and-ranges',
        '  source:\n    type: configmap\n    configMap: {name: a}\n  syncPolicy:\n    interval: "10"\n    retry: {maxRetries: 200}\n',
        [/spec\.syncPolicy\.interval: Invalid value: "10": spec\.syncPolicy\.interval in body should match/, /spec\.syncPolicy\.retry\.maxRetries: Invalid value: 200: spec\.syncPolicy\.retry\.maxRetries in body should be less than or equal to 100/],
      ],
      ['non-http-url', '  source:\n    type: url\n    url: {url: "file:///etc/passwd"}\n', [/spec\.source\.url\.url: Invalid value: "file:\/\/\/etc\/passwd"/]],
      ['bad-configmap-name', '  source:\n    type: configmap\n    configMap: {name: Not_A_Name}\n', [/spec\.source\.configMap\.name: Invalid value: "Not_A_Name"/]],
    ];
    for (const [name, spec, expected] of cases) {
      const r = await kubectl(['apply', '-f', '-'], registry(name, spec));
      assert.notEqual(r.status, 0, `${name} was accepted`);
      assert.match(r.stderr, /is invalid/, `${name}: ${r.stderr}`);
      for (const e of expected) assert.match(r.stderr, e, `${name}: ${r.stderr}`);
    }
    assert.equal((await kubectl(['get', 'mcpreg', '-o', 'name'])).stdout.trim(), '', 'nothing invalid was stored');
  });

  it('fills in the defaults and shows the printer columns', async () => {
    await ok(['apply', '-f', 'crds/examples/registry-configmap.yaml', '-n', 'default']);
    const spec = JSON.parse(await ok(['get', 'mcpreg', 'toolhive', '-n', 'default', '-o', 'jsonpath={.spec}']));
    assert.deepEqual(spec.syncPolicy, { enabled: true, interval: '1h', onUpdate: 'update', retry: { maxRetries: 3, backoffInterval: '30s' } });
    assert.equal(spec.validation, 'lenient');
    assert.equal(spec.allowEmpty, false);
    const table = await ok(['get', 'mcpreg', '-n', 'default']);
    assert.match(table.split('\n')[0]!, /^NAME\s+READY\s+SERVERS\s+LAST SYNC\s+SOURCE\s+DEPLOYED\s+AGE$/);
    assert.match(table, /toolhive\s+.*configmap/);
    const wide = await ok(['get', 'mcpreg', '-n', 'default', '-o', 'wide']);
    assert.match(wide.split('\n')[0]!, /PHASE\s+INVALID\s+NEXT SYNC\s+SNAPSHOT\s+REASON/);
    assert.match(await ok(['get', 'toolhive', '-n', 'default']), /mcpregistry\.toolhive\.stacklok\.io\/toolhive/, 'category toolhive');
    assert.match(await ok(['get', 'mcpreg', '-n', 'default', '-o', 'name']), /toolhive/, 'short name mcpreg');
  });

  it('accepts a valid status through the status subresource, refuses an invalid one, and kubectl wait sees Ready', async () => {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const hash = 'b'.repeat(64);
    const status = {
      status: {
        observedGeneration: 1,
        phase: 'Ready',
        serverCount: 76,
        conditions: [{ type: 'Ready', status: 'True', reason: 'Synced', message: 'snapshot published', lastTransitionTime: now }],
        snapshot: { hash, key: `registries/default/toolhive/snapshots/${hash}/` },
      },
    };
    await ok(['patch', 'mcpreg', 'toolhive', '-n', 'default', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    await ok(['wait', '--for=condition=Ready', 'mcpregistry/toolhive', '-n', 'default', '--timeout=10s']);
    assert.match(await ok(['get', 'mcpreg', 'toolhive', '-n', 'default']), /toolhive\s+True\s+76\s/);
    const bad = await kubectl(['patch', 'mcpreg', 'toolhive', '-n', 'default', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Done' } })]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /status\.phase: Unsupported value: "Done"/);
  });

  it('kubectl explain shows the descriptions from the zod schemas, the import job\'s included', async () => {
    assert.match(await ok(['explain', 'mcpregistry.spec.syncPolicy.retry.backoffInterval']), /First retry delay; it doubles/);
    assert.match(await ok(['explain', 'mcpregistryimportjob.spec.mode']), /merge: add new servers, update changed ones, keep the rest/);
  });

  it('keeps sync jobs immutable', async () => {
    await ok(['apply', '-f', 'crds/examples/syncjob.yaml', '-n', 'default']);
    const r = await kubectl(['patch', 'mcpregistrysyncjob', 'toolhive-sync-now', '-n', 'default', '--type=merge', '-p', '{"spec":{"registryRef":{"name":"other"}}}']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /spec is immutable: create a new job instead/);
  });

  it('takes the 957 KB example ConfigMap through server-side apply', async () => {
    await ok(['apply', '--server-side', '-f', 'crds/examples/toolhive-registry-configmap.yaml', '-n', 'default']);
    const data = await ok(['get', 'configmap', 'toolhive-registry', '-n', 'default', '-o', 'jsonpath={.data.registry\\.json}']);
    assert.equal(Object.keys((JSON.parse(data) as { servers: object }).servers).length, 79);
  });
});
