/**
 * One broken registry (a corrupt pointer, a missing toolhive.json) does not fail the listings
 * across registries: the others are served, the broken ones are reported in `errors` and in
 * /readyz. Real fs store, real HTTP server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pointerKey } from '../../lib/snapshots/layout.ts';
import { readPointer } from '../../lib/snapshots/read.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { startQuery, tempStore, type Running } from './harness.ts';

describe('query: a broken registry among good ones', () => {
  let store: SnapshotStore;
  let cleanup: () => Promise<void>;
  let q: Running;
  const GOOD = { namespace: 'team-a', name: 'good' };
  const CORRUPT = { namespace: 'team-a', name: 'corrupt' };
  const MISSING = { namespace: 'team-b', name: 'missing' };
  before(async () => {
    ({ store, cleanup } = await tempStore());
    for (const ref of [GOOD, CORRUPT, MISSING]) await publishEntries(store, ref, fixtureEntries());
    await store.put(pointerKey(CORRUPT), Buffer.from('{"not": "a pointer'));
    const missing = (await readPointer(store, MISSING))!.pointer;
    await store.delete([missing.objects.toolhive]);
    q = await startQuery({ store });
  });
  after(async () => {
    await q.close();
    await cleanup();
  });

  it('/api/v1/registries serves the good ones and reports the corrupt pointer', async () => {
    const r = await q.get('/api/v1/registries');
    assert.equal(r.status, 200, r.text);
    const body = r.json();
    assert.deepEqual(body.registries.map((x: { name: string }) => x.name).sort(), ['good', 'missing']);
    assert.deepEqual(body.errors, [{ registry: 'team-a/corrupt', code: 'invalid_document', message: "the registry's published snapshot is unreadable" }]);
    assert.equal(r.headers['cache-control'], 'no-store');
  });

  it('/api/v1/servers (both formats) serves the good registry and reports each broken one', async () => {
    const r = await q.get('/api/v1/servers');
    assert.equal(r.status, 200, r.text);
    const body = r.json();
    assert.ok(body.servers.length > 0);
    assert.ok(body.servers.every((s: { registry: string }) => s.registry === 'team-a/good'));
    assert.equal(body.total, body.servers.length);
    assert.deepEqual(body.errors.map((e: { registry: string; code: string }) => `${e.registry} ${e.code}`), ['team-a/corrupt invalid_document', 'team-b/missing not_found']);
    const u = await q.get('/api/v1/servers?format=upstream');
    assert.equal(u.status, 200, u.text);
    assert.deepEqual(u.json().errors.map((e: { registry: string }) => e.registry), ['team-a/corrupt']);
    assert.ok(!u.text.includes('current.json') && !r.text.includes('toolhive.json'), 'no store keys in answers');
  });

  it('/readyz stays ready and names the broken registries', async () => {
    const r = await q.get('/readyz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json().brokenRegistries.map((e: { registry: string; read: string; code: string }) => `${e.registry} ${e.read} ${e.code}`), [
      'team-a/corrupt pointer invalid_document',
      'team-a/corrupt toolhive invalid_document',
      'team-a/corrupt upstream invalid_document',
      'team-b/missing toolhive not_found',
    ]);
  });
});
