/**
 * The sync function as a deployed process: the esbuild bundle `dist/sync.js` (built by
 * `npm test` before the tests run), configured only through its environment as on Knative,
 * with a kubeconfig for the embedded control plane and a filesystem store. A ping reaches it
 * over HTTP and it syncs a registry; SIGTERM stops it with exit 0.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudEvent, HTTP } from 'cloudevents';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { startKube } from '../harness/kube.ts';
import { startHttpServer, type TestHttpServer } from '../servers/http.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BUNDLE = join(ROOT, 'dist', 'sync.js');
const FIXTURES = join(ROOT, '..', 'shared', 'fixtures', 'real');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let cp: ControlPlane;
let http: TestHttpServer;
let dir: string;
let child: ChildProcess;
let url: string;
let stderr = '';

before(async () => {
  assert.ok(existsSync(BUNDLE), 'dist/sync.js exists (npm test builds it; or run npm run build)');
  dir = await mkdtemp(join(tmpdir(), 'mcpreg-sync-process-'));
  cp = await startKube({ dataDir: join(dir, 'kube'), namespaces: ['team', 'mcp-registry'] });
  http = await startHttpServer({ '/registry.json': { body: await readFile(join(FIXTURES, 'toolhive-registry.2026-02-20.json')), etag: '"1"' } });
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [BUNDLE], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      KUBECONFIG: cp.kubeconfigPath!,
      MCPREG_STORE: 'fs',
      MCPREG_STORE_DIR: join(dir, 'snapshots'),
      MCPREG_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
      MCPREG_LEASE_NAMESPACE: 'mcp-registry',
      MCPREG_LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch {
      if (i > 300 || child.exitCode !== null) throw new Error(`dist/sync.js did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
});

after(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await http?.close();
  await cp?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('dist/sync.js syncs a registry on a ping, logs JSON lines, and exits 0 on SIGTERM', async () => {
  const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
  await custom.createNamespacedCustomObject({
    group: 'toolhive.stacklok.io',
    version: 'v1alpha1',
    namespace: 'team',
    plural: 'mcpregistries',
    body: { apiVersion: 'toolhive.stacklok.io/v1alpha1', kind: 'MCPRegistry', metadata: { name: 'reg' }, spec: { source: { type: 'url', url: { url: `${http.url}/registry.json`, allowHttp: true } } } },
  });
  const ping = HTTP.binary(new CloudEvent({ type: 'dev.knative.sources.ping', source: '/apis/v1/namespaces/mcp-registry/pingsources/resync', datacontenttype: 'application/json', data: {} }));
  const res = await fetch(`${url}/`, { method: 'POST', headers: ping.headers as Record<string, string>, body: String(ping.body) });
  assert.equal(res.status, 204, await res.text());
  const reg = (await custom.getNamespacedCustomObject({ group: 'toolhive.stacklok.io', version: 'v1alpha1', namespace: 'team', plural: 'mcpregistries', name: 'reg' })) as {
    status?: { phase?: string; serverCount?: number };
  };
  assert.equal(reg.status?.phase, 'Ready');
  assert.equal(reg.status?.serverCount, 102);
  assert.ok(existsSync(join(dir, 'snapshots', 'registries', 'team', 'reg', 'current.json')));
  const lines = stderr.trim().split('\n');
  assert.ok(lines.every((l) => l.startsWith('{')), 'every log line is JSON');
  assert.ok(lines.some((l) => (JSON.parse(l) as { msg?: string }).msg === 'sync published'));

  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
