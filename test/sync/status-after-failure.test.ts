/**
 * What status says after failures, through the sync controller on the embedded control plane
 * (sources over loopback HTTP, snapshots in S3 behind the fault-injecting front):
 * - a spec change starts the retry count again: the first failure after an edit is retry 1 of
 *   the new spec, not "gave up after N retries" with the next try an interval away;
 * - a sync that fails in the store leaves no condition counting the entries of a previous or of
 *   the uncommitted snapshot.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController, type SyncController } from '../../lib/sync/controller.ts';
import { SYNC_TRIGGER_ANNOTATION } from '../../lib/sync/decide.ts';
import { startKube } from '../harness/kube.ts';
import { mutableDocument, startHttpServer, type TestHttpServer } from '../servers/http.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/real');
const real = JSON.parse(await readFile(join(FIXTURES, 'toolhive-registry.2026-02-20.json'), 'utf8')) as { servers: Record<string, unknown>; remote_servers?: Record<string, unknown> };
const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'team-r';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Registry {
  metadata: { name: string; namespace: string; generation: number };
  status?: { phase?: string; syncAttempts?: number; nextSyncTime?: string; serverCount?: number; conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
}

describe('status after failures', () => {
  let cp: ControlPlane;
  let s3: TestS3;
  let store: SnapshotStore;
  let http: TestHttpServer;
  let custom: CustomObjectsApi;
  let controller: SyncController;
  let clock = new Date('2026-03-01T00:00:00Z');
  const full = JSON.stringify(real);
  const fullCount = Object.keys(real.servers).length + Object.keys(real.remote_servers ?? {}).length;
  const halfNames = Object.keys(real.servers).slice(0, Math.floor(Object.keys(real.servers).length / 2));
  const half = JSON.stringify({ ...real, servers: Object.fromEntries(halfNames.map((n) => [n, real.servers[n]])), remote_servers: {} });
  const doc = mutableDocument(full, '"v1"');

  before(async () => {
    cp = await startKube({ namespaces: [NS] });
    custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    s3 = await startS3Server();
    store = await createS3Store({ ...s3.storeOptions(), maxAttempts: 1 });
    http = await startHttpServer({
      '/down-1.json': { status: 500, body: 'down' },
      '/down-2.json': { status: 500, body: 'still down' },
      '/registry.json': doc.route,
    });
    controller = createSyncController({
      kubeConfig: cp.kubeConfig(),
      store,
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 0, totalTimeoutMs: 10_000 }),
      config: { deadlineMs: 30_000, concurrency: 1, leaseNamespace: NS, leaseDurationSeconds: 60, identity: 'test-status', keepSnapshots: 2, apiBaseUrl: 'http://query.example' },
      now: () => clock,
      random: () => 0.5,
      log: silentLogger,
    });
  });

  after(async () => {
    await http?.close();
    await s3?.stop();
    await cp?.stop();
  });

  const get = async (name: string) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name })) as Registry;
  const condition = (r: Registry, type: string) => r.status?.conditions?.find((c) => c.type === type);
  const handle = async (action: 'add' | 'update', object: Registry) => {
    const result = await controller.handle({ type: 'resource', action, kind: 'MCPRegistry', object: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', ...object } as never, id: `${object.metadata.name}-${Date.now()}`, source: 'test' });
    return result.registries[0];
  };
  const patch = async (name: string, body: object) => (await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name, body }, mergePatch)) as Registry;
  const tick = () => (clock = new Date(clock.getTime() + 1_000));

  test('a spec change resets the retry count', async () => {
    const created = (await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'mcpregistries',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name: 'retry' }, spec: { source: { type: 'url', url: { url: `${http.url}/down-1.json`, allowHttp: true } }, syncPolicy: { interval: '1h', retry: { maxRetries: 2, backoffInterval: '30s' } } } },
    })) as Registry;
    tick();
    assert.equal((await handle('add', created))?.outcome, 'failed');
    // two manual retries exhaust maxRetries
    for (const t of ['t1', 't2']) {
      tick();
      const r = await patch('retry', { metadata: { annotations: { [SYNC_TRIGGER_ANNOTATION]: t } } });
      assert.equal((await handle('update', r))?.outcome, 'failed');
    }
    const exhausted = await get('retry');
    assert.equal(exhausted.status?.syncAttempts, 3);
    assert.match(condition(exhausted, 'Synced')!.message, /gave up after 2 retries/);

    // the operator edits the spec (here: another URL, still failing)
    tick();
    const edited = await patch('retry', { spec: { source: { type: 'url', url: { url: `${http.url}/down-2.json`, allowHttp: true } } } });
    assert.equal(edited.metadata.generation, 2);
    const attemptAt = clock;
    assert.equal((await handle('update', edited))?.outcome, 'failed');
    const after = await get('retry');
    assert.equal(after.status?.syncAttempts, 1, 'the first failure of the new spec');
    assert.doesNotMatch(condition(after, 'Synced')!.message, /gave up/);
    assert.equal(after.status?.nextSyncTime, new Date(attemptAt.getTime() + 30_000).toISOString().replace(/\.\d{3}Z$/, 'Z'), 'retried after the first backoff, not at the interval');
  });

  test('a store failure leaves no condition counting a previous or uncommitted snapshot', async () => {
    const created = (await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'mcpregistries',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name: 'store' }, spec: { source: { type: 'url', url: { url: `${http.url}/registry.json`, allowHttp: true } }, syncPolicy: { interval: '1h' } } },
    })) as Registry;
    tick();
    assert.equal((await handle('add', created))?.outcome, 'published');
    const good = await get('store');
    assert.match(condition(good, 'Valid')!.message, new RegExp(`^${fullCount} valid entries`));

    // the source shrinks to half, and every write to the store fails
    doc.body = half;
    doc.etag = '"v2"';
    await s3.fault({ kind: 'status', status: 503, method: 'PUT', count: 1000 });
    try {
      tick();
      const r = await patch('store', { metadata: { annotations: { [SYNC_TRIGGER_ANNOTATION]: 'store-1' } } });
      const summary = await handle('update', r);
      assert.equal(summary?.outcome, 'failed');
    } finally {
      await s3.clearFaults();
    }
    const failed = await get('store');
    assert.equal(condition(failed, 'Synced')?.status, 'False');
    assert.equal(condition(failed, 'Synced')?.reason, 'StoreUnavailable');
    const counted = new RegExp(`\\b(${fullCount}|${halfNames.length}) valid entr`);
    for (const c of failed.status?.conditions ?? []) assert.doesNotMatch(c.message, counted, `${c.type}: ${c.message}`);
    assert.equal(condition(failed, 'Valid')?.status, 'Unknown', 'validity of what is not published is not claimed');
    assert.equal(condition(failed, 'Ready')?.reason, 'StaleSnapshot');
    assert.equal(failed.status?.serverCount, fullCount, 'serverCount stays that of the snapshot still served');

    // and the next sync publishes the half
    tick();
    const r = await patch('store', { metadata: { annotations: { [SYNC_TRIGGER_ANNOTATION]: 'store-2' } } });
    assert.equal((await handle('update', r))?.outcome, 'published');
    const ok = await get('store');
    assert.match(condition(ok, 'Valid')!.message, new RegExp(`^${halfNames.length} valid entries`));
  });
});
