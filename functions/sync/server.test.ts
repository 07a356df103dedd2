import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudEvent, HTTP } from 'cloudevents';
import { startControlPlane } from '../../lib/local/control-plane/index.ts';
import { createLogger } from '../../lib/log.ts';
import { createFsStore } from '../../lib/snapshots/fs-store.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController } from '../../lib/sync/controller.ts';
import { startSyncServer, type SyncServer } from './server.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let server: SyncServer;
let dir: string;
const logged: string[] = [];

before(async () => {
  // a Kubernetes API that has gone away: its port is closed
  const cp = await startControlPlane({ port: 0 });
  const kubeConfig = cp.kubeConfig();
  await cp.stop();
  dir = await mkdtemp(join(tmpdir(), 'mcpreg-sync-server-'));
  const log = createLogger({ format: 'text', write: (line) => logged.push(line) });
  const controller = createSyncController({
    kubeConfig,
    store: createFsStore({ dir, durable: false }),
    policy: resolvePolicy({}),
    config: { deadlineMs: 5_000, concurrency: 1, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 60, identity: 't', keepSnapshots: 3 },
    log,
  });
  server = await startSyncServer({ handle: controller.handle, log, maxBodyBytes: 64 * 1024 });
});

after(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function post(headers: Record<string, string>, body: string, path = '/') {
  const res = await fetch(server.url + path, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

test('the API server being unreachable is transient: 503 so the Broker retries, one line, no stack', async () => {
  const event = new CloudEvent({
    type: 'dev.knative.apiserver.resource.add',
    source: 'https://10.96.0.1:443',
    datacontenttype: 'application/json',
    data: { apiVersion: 'toolhive.stacklok.io/v1alpha1', kind: 'MCPRegistry', metadata: { name: 'r', namespace: 'ns', generation: 1 }, spec: {} },
  });
  const m = HTTP.binary(event);
  const res = await post(m.headers as Record<string, string>, String(m.body));
  assert.equal(res.status, 503);
  assert.match(res.text, /unreachable/);
  assert.doesNotMatch(res.text, /\n\s+at /, 'no stack trace');
  assert.ok(logged.some((l) => l.includes('will be retried')));
});

test('oversized bodies get 413; other paths and methods are refused; health answers', async () => {
  assert.equal((await post({ 'content-type': 'application/json' }, 'x'.repeat(70 * 1024))).status, 413);
  assert.equal((await fetch(server.url + '/elsewhere', { method: 'POST', body: '{}' })).status, 404);
  assert.equal((await fetch(server.url + '/')).status, 405);
  assert.equal((await fetch(server.url + '/healthz')).status, 200);
});

test('dead-lettered events are accepted and logged', async () => {
  const event = new CloudEvent({ type: 'dev.knative.sources.ping', source: '/x', data: {}, knativeerrorcode: '500', knativeerrordest: 'http://sync' });
  const m = HTTP.binary(event);
  const before = logged.length;
  assert.equal((await post(m.headers as Record<string, string>, String(m.body), '/dead-letter')).status, 204);
  assert.ok(logged.slice(before).some((l) => l.includes('event dead-lettered') && l.includes('500')));
});
