/**
 * Requests for registries that do not exist cost bounded memory: each unknown name becomes a
 * negative entry with a TTL in a bounded LRU (MCPREG_NEGATIVE_CACHE_SIZE / _TTL), not a
 * permanent state. Real fs store, real HTTP server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { startQuery, tempStore, type Running } from './harness.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';

describe('query: unknown registry names', () => {
  let store: SnapshotStore;
  let cleanup: () => Promise<void>;
  let q: Running;
  before(async () => {
    ({ store, cleanup } = await tempStore());
    await publishEntries(store, { namespace: 'team-a', name: 'main' }, fixtureEntries());
    q = await startQuery({ store, env: { MCPREG_NEGATIVE_CACHE_SIZE: '100', MCPREG_NEGATIVE_CACHE_TTL: '1s', MCPREG_POINTER_TTL: '1s' } });
  });
  after(async () => {
    await q.close();
    await cleanup();
  });

  it('2000 distinct unknown names leave the cache bounded to the real registry and 100 negative entries', async () => {
    assert.equal((await q.get('/registries/team-a/main/v0.1/servers?limit=1')).status, 200);
    for (let i = 0; i < 2000; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => q.get(`/registries/anon/n${i + j}/v0.1/servers`)));
      assert.ok(batch.every((r) => r.status === 404));
      const sizes = q.server.handler.ctx.cache.sizes();
      assert.equal(sizes.registries, 1, 'only the published registry keeps a state');
      assert.ok(sizes.negative <= 100, `negative entries ${sizes.negative} within the bound of 100`);
    }
    assert.equal(q.server.handler.ctx.cache.sizes().negative, 100);
    assert.equal((await q.get('/api/v1/registries/anon/n5')).status, 404);
    // the real registry still serves
    assert.equal((await q.get('/registries/team-a/main/v0.1/servers?limit=1')).status, 200);
  });

  it('a registry published after its negative entry becomes visible after the TTL', async () => {
    const ref = { namespace: 'team-b', name: 'late' };
    assert.equal((await q.get('/registries/team-b/late/v0.1/servers')).status, 404);
    await publishEntries(store, ref, fixtureEntries());
    const t0 = Date.now();
    let status = 404;
    while (status === 404 && Date.now() - t0 < 5000) {
      status = (await q.get('/registries/team-b/late/v0.1/servers?limit=1')).status;
      if (status === 404) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200);
    assert.ok(Date.now() - t0 >= 800, 'answered from the negative entry within its TTL');
  });
});
