/**
 * One broken registry (a corrupt pointer, a missing toolhive.json) does not fail the answers
 * across registries: the others are served, the broken ones are reported in `errors` (lists,
 * search), `brokenRegistries` and the mcpreg-broken-registries header (one server), and in
 * /readyz. Real HTTP server; the store is given by the caller (broken-registry.test.ts:
 * fs, broken-registry-s3.test.ts: S3).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pointerKey } from '../../lib/snapshots/layout.ts';
import { readPointer } from '../../lib/snapshots/read.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { startQuery, type Running } from './harness.ts';

export interface BrokenRegistryStores {
  /** where the fixture is published and broken */
  store: SnapshotStore;
  /** what the query function reads (the same store, or another client of it) */
  query: () => Promise<SnapshotStore>;
  cleanup: () => Promise<void>;
}

export function brokenRegistrySuite(label: string, setup: () => Promise<BrokenRegistryStores>): void {
describe(`query: a broken registry among good ones (${label})`, () => {
  let store: SnapshotStore;
  let cleanup: () => Promise<void>;
  let q: Running;
  const GOOD = { namespace: 'team-a', name: 'good' };
  const CORRUPT = { namespace: 'team-a', name: 'corrupt' };
  const MISSING = { namespace: 'team-b', name: 'missing' };
  before(async () => {
    const stores = await setup();
    ({ store, cleanup } = stores);
    for (const ref of [GOOD, CORRUPT, MISSING]) await publishEntries(store, ref, fixtureEntries());
    await store.put(pointerKey(CORRUPT), Buffer.from('{"not": "a pointer'));
    const missing = (await readPointer(store, MISSING))!.pointer;
    await store.delete([missing.objects.toolhive]);
    q = await startQuery({ store: await stores.query() });
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

  it('/api/v1/servers/{name} answers from the good registry and names the broken ones', async () => {
    for (const format of ['toolhive', 'upstream'] as const) {
      const list = (await q.get(`/api/v1/servers?format=${format}`)).json();
      const name: string = format === 'toolhive' ? list.servers[0].name : list.servers[0].server.name;
      // upstream: team-b/missing lacks only its toolhive.json, so it holds the name too
      const among = format === 'toolhive' ? '' : '&registry=team-a/good&registry=team-a/corrupt';
      const r = await q.get(`/api/v1/servers/${encodeURIComponent(name)}?format=${format}${among}`);
      assert.equal(r.status, 200, `${format}: ${r.text}`);
      const body = r.json();
      if (format === 'toolhive') assert.equal(body.registry, 'team-a/good');
      else assert.deepEqual(body._meta['io.toolhive.registry/source'], GOOD);
      assert.equal(r.headers['mcpreg-broken-registries'], format === 'toolhive' ? 'team-a/corrupt invalid_document, team-b/missing not_found' : 'team-a/corrupt invalid_document');
      if (format === 'upstream') {
        const both = await q.get(`/api/v1/servers/${encodeURIComponent(name)}?format=upstream`);
        assert.equal(both.status, 409, 'a good registry holding it too is still ambiguous');
        assert.deepEqual(both.json().candidates, ['team-a/good', 'team-b/missing']);
        assert.deepEqual(both.json().brokenRegistries.map((e: { registry: string }) => e.registry), ['team-a/corrupt']);
      }
      assert.equal(r.headers['cache-control'], 'no-store');
    }
    const none = await q.get('/api/v1/servers/no-such-server');
    assert.equal(none.status, 404);
    assert.deepEqual(none.json().brokenRegistries.map((e: { registry: string }) => e.registry), ['team-a/corrupt', 'team-b/missing']);
    // naming only a broken registry: that one answer fails, saying why, without store keys
    const named = await q.get('/api/v1/servers/anything?registry=team-a/corrupt');
    assert.equal(named.status, 500);
    assert.match(named.json().detail, /team-a\/corrupt: the registry's published snapshot is unreadable/);
    assert.ok(!named.text.includes('current.json'));
  });

  it('/api/v1/search searches the good registry and reports each broken one', async () => {
    const list = (await q.get('/api/v1/servers')).json();
    const word = String(list.servers[0].name).split(/[^a-z0-9]+/i).find((w: string) => w.length >= 3)!;
    const r = await q.get(`/api/v1/search?q=${encodeURIComponent(word)}`);
    assert.equal(r.status, 200, r.text);
    const body = r.json();
    assert.ok(body.results.length > 0, `hits for ${word}`);
    assert.ok(body.results.every((h: { registry: string }) => h.registry === 'team-a/good'));
    assert.deepEqual(body.errors.map((e: { registry: string; code: string }) => `${e.registry} ${e.code}`), ['team-a/corrupt invalid_document', 'team-b/missing not_found']);
    assert.equal(r.headers['cache-control'], 'no-store');
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
}
