/**
 * Cold start: the default registry's prefetch (SnapshotCache.upstream with `prefetch`) frames
 * only the first entries of the first bytes, so that the first request is answered at once,
 * and loads the rest of upstream.json only once a request took the view (or after
 * `prefetchGraceMs` without one). The view then holds every version, as without a prefetch.
 * A real filesystem store, the real fixtures.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../lib/log.ts';
import { SnapshotCache } from '../../lib/api/snapshot-cache.ts';
import type { UpstreamView } from '../../lib/api/upstream-view.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { tempStore } from './harness.ts';
import { recordingStore } from '../harness/recording-store.ts';

const ref = { namespace: 'mcp', name: 'reg' };
let store: SnapshotStore;
let cleanup: () => Promise<void>;
let versions = 0;
const reads: string[] = [];

/** the real store, recording each read of upstream.json by its range */
const recording = (inner: SnapshotStore): SnapshotStore =>
  recordingStore(inner, (key, range) => {
    if (key.endsWith('upstream.json')) reads.push(range ? `${range.start}-${range.end}` : 'whole');
  });

before(async () => {
  const t = await tempStore();
  store = t.store;
  cleanup = t.cleanup;
  const entries = fixtureEntries();
  versions = entries.length;
  const snap = await publishEntries(store, ref, entries);
  assert.ok(snap.upstream.length > 4 * 8192, `the fixture (${snap.upstream.length} bytes) spans several pieces`);
});
after(() => cleanup?.());

const options = { logger: silentLogger, prefixBytes: 8192, pieceBytes: 8192, firstBatchEntries: 2 };
const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));

async function untilComplete(view: UpstreamView): Promise<void> {
  for (let i = 0; i < 200 && !view.complete; i++) await settle(10);
  assert.ok(view.complete, 'the view completed');
}

test('a prefetch frames the first entries and reads no further until a request takes the view', async () => {
  reads.length = 0;
  const cache = new SnapshotCache({ store: recording(store), ...options, prefetchGraceMs: 60_000 });
  const prefetched = await cache.upstream(ref, { prefetch: true });
  assert.ok(prefetched);
  assert.equal(prefetched.view.length, 2, 'only the first batch before the first answer');
  await settle();
  assert.deepEqual(reads, ['0-8192'], 'nothing past the first bytes while no request came');
  assert.equal(prefetched.view.length, 2);

  const taken = await cache.upstream(ref);
  assert.equal(taken?.view, prefetched.view, 'the request gets the prefetched view');
  await untilComplete(prefetched.view);
  assert.equal(prefetched.view.length, versions, 'every version, as without a prefetch');
  assert.ok(reads.length > 2, `the rest was read in pieces: ${reads.join(', ')}`);
});

test('without a request, a prefetch loads the rest after prefetchGraceMs', async () => {
  reads.length = 0;
  const cache = new SnapshotCache({ store: recording(store), ...options, prefetchGraceMs: 50 });
  const prefetched = await cache.upstream(ref, { prefetch: true });
  assert.ok(prefetched);
  await untilComplete(prefetched.view);
  assert.equal(prefetched.view.length, versions);
});

test('a load a request started goes on past the first bytes at once', async () => {
  reads.length = 0;
  const cache = new SnapshotCache({ store: recording(store), ...options, prefetchGraceMs: 60_000 });
  const loaded = await cache.upstream(ref);
  assert.ok(loaded);
  await untilComplete(loaded.view);
  assert.equal(loaded.view.length, versions);
});
