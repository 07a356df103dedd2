/**
 * Ranged reads (GetOptions.range), which the query function uses to answer a cold registry's
 * first pages from the first bytes of upstream.json: both stores, on real storage.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';
import { tempStore } from './harness.ts';

let s3: TestS3;
const stores: Array<[string, SnapshotStore, () => void | Promise<void>]> = [];

before(async () => {
  const fs = await tempStore();
  stores.push(['fs', fs.store, fs.cleanup]);
  s3 = await startS3Server();
  const store = await createS3Store({ ...s3.storeOptions(), prefix: 'range/' });
  stores.push(['s3', store, () => store.close()]);
});
after(async () => {
  for (const [, , close] of stores) await close();
  await s3?.stop();
});

const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));

test('a range returns those bytes, the whole object ETag and the full size', async () => {
  for (const [name, store] of stores) {
    const { etag } = await store.put('registries/ns/r/snapshots/x/upstream.json', body);
    const part = await store.get('registries/ns/r/snapshots/x/upstream.json', { range: { start: 0, end: 1000 } });
    assert.ok(part && part !== 'not-modified', name);
    assert.deepEqual(Buffer.from(part.body), body.subarray(0, 1000), name);
    assert.deepEqual(part.range, { start: 0, end: 1000, size: 5000 }, name);
    assert.equal(part.etag, etag, name);
    const tail = await store.get('registries/ns/r/snapshots/x/upstream.json', { range: { start: 4990 } });
    assert.ok(tail && tail !== 'not-modified');
    assert.deepEqual(Buffer.from(tail.body), body.subarray(4990), name);
    assert.deepEqual(tail.range, { start: 4990, end: 5000, size: 5000 }, name);
  }
});

test('a range covering the whole object (or more) returns it whole, without range', async () => {
  for (const [name, store] of stores) {
    await store.put('registries/ns/r/small.json', Buffer.from('{"servers":[]}'));
    const all = await store.get('registries/ns/r/small.json', { range: { start: 0, end: 262144 } });
    assert.ok(all && all !== 'not-modified', name);
    assert.equal(Buffer.from(all.body).toString(), '{"servers":[]}', name);
    assert.equal(all.range, undefined, name);
    // s3rver never answers a Range request on an empty object (AWS answers 416, which the
    // S3 store turns into a whole read), so the empty case runs on the filesystem store only
    if (name !== 'fs') continue;
    await store.put('registries/ns/r/empty.json', new Uint8Array(0));
    const empty = await store.get('registries/ns/r/empty.json', { range: { start: 0, end: 100 } });
    assert.ok(empty && empty !== 'not-modified', name);
    assert.equal(empty.body.length, 0, name);
  }
});
