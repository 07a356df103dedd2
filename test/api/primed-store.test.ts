/**
 * Cold start: the query function starts its default registry's pointer read and the ranged
 * read of upstream.json before its server modules load (lib/api/primed-store.ts). The first
 * reads asked exactly so are answered by the reads under way (one store read each), others go
 * to the store; a failed primed read fails its taker; what is not taken is let go; and the
 * first page served through it is the page served without it. A real filesystem store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { primeDefaultRegistry } from '../../lib/api/primed-store.ts';
import { RegistryError } from '../../lib/errors.ts';
import { pointerKey } from '../../lib/snapshots/layout.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { startQuery, tempStore } from './harness.ts';
import { recordingStore } from '../harness/recording-store.ts';

const ref = { namespace: 'mcp', name: 'reg' };
let store: SnapshotStore;
let cleanup: () => Promise<void>;
const reads: string[] = [];

/** the real store, recording each read (key and range) */
const recording = (inner: SnapshotStore, fail?: (key: string) => boolean): SnapshotStore =>
  recordingStore(inner, (key, range) => {
    reads.push(`${key}${range ? ` ${range.start}-${range.end}` : ''}`);
    if (fail?.(key)) throw new RegistryError('store_unavailable', 'store down for this test');
  });

before(async () => {
  const t = await tempStore();
  store = t.store;
  cleanup = t.cleanup;
  await publishEntries(store, ref, fixtureEntries());
});
after(() => cleanup?.());

const settle = () => new Promise((r) => setTimeout(r, 50));

test('the pointer and the first bytes of upstream.json are read once, before they are asked for', async () => {
  reads.length = 0;
  const primed = primeDefaultRegistry(recording(store), ref, 1024);
  await settle();
  assert.equal(reads.length, 2, reads.join(', '));
  assert.equal(reads[0], pointerKey(ref));
  assert.match(reads[1]!, /^registries\/mcp\/reg\/snapshots\/[0-9a-f]{64}\/upstream\.json 0-1024$/);
  const pointer = await primed.get(pointerKey(ref));
  assert.ok(pointer && pointer !== 'not-modified');
  const upstreamKey = (JSON.parse(Buffer.from(pointer.body).toString('utf8')) as { objects: { upstream: string } }).objects.upstream;
  const direct = await store.get(upstreamKey, { range: { start: 0, end: 1024 } } as never);
  const prefix = await primed.get(upstreamKey, { range: { start: 0, end: 1024 } } as never);
  assert.ok(prefix && prefix !== 'not-modified' && direct && direct !== 'not-modified');
  assert.deepEqual(Buffer.from(prefix.body), Buffer.from(direct.body));
  assert.equal(reads.length, 2, 'both taken from the reads under way');
  // taken once: a second read, another range or a conditional read goes to the store
  await primed.get(pointerKey(ref));
  await primed.get(upstreamKey, { range: { start: 0, end: 99 } } as never);
  assert.equal(reads.length, 4);
});

test('a failed primed read fails its taker; reads not taken are let go', async () => {
  reads.length = 0;
  const primed = primeDefaultRegistry(recording(store, (k) => k.endsWith('current.json')), ref, 1024);
  await assert.rejects(primed.get(pointerKey(ref)), (e: unknown) => e instanceof RegistryError && e.code === 'store_unavailable');
  assert.equal(reads.length, 1, 'no ranged read without a pointer');

  reads.length = 0;
  const unused = primeDefaultRegistry(recording(store), ref, 1024, 100);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(reads.length, 2);
  await unused.get(pointerKey(ref));
  assert.equal(reads.length, 3, 'after holdMs the read goes to the store');
});

test('the first page through the primed store is the page without it, from one read of each', async () => {
  const plain = await startQuery({ store, env: { MCPREG_DEFAULT_REGISTRY: 'mcp/reg', MCPREG_PREFETCH: 'false' } });
  const expected = (await plain.get('/v0.1/servers?limit=5')).body;
  await plain.close();
  reads.length = 0;
  const primed = primeDefaultRegistry(recording(store), ref, 128 * 1024);
  const api = await startQuery({ store: primed, env: { MCPREG_DEFAULT_REGISTRY: 'mcp/reg' } });
  try {
    const r = await api.get('/v0.1/servers?limit=5');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, expected);
    assert.equal(reads.filter((k) => k.endsWith('current.json')).length, 1, reads.join(', '));
    assert.equal(reads.filter((k) => k.endsWith('upstream.json 0-131072')).length, 1, reads.join(', '));
  } finally {
    await api.close();
  }
});
