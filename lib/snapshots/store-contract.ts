/**
 * The behaviour every SnapshotStore must have, as one suite of node:test cases that runs
 * against any implementation (fs-store.test.ts and s3-store.test.ts call it). It covers the
 * store primitives and the orchestration over them (publish, prune, delete, read).
 * Test-only module: nothing in the functions imports it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RegistryError } from '../errors.ts';
import { pointerKey, registryPrefix, snapshotKey, type RegistryRef } from './layout.ts';
import type { SnapshotPointer } from './pointer.ts';
import { publishSnapshot, type PointerFields } from './publish.ts';
import { CorruptPointerError, readPointer, readSnapshotFile, revalidatePointer } from './read.ts';
import { deleteRegistry, listSnapshots, pruneSnapshots } from './retention.ts';
import type { SnapshotStore } from './store.ts';

export interface ContractSubject {
  store: SnapshotStore;
  /** a second, independent store instance on the same storage (another process, in effect) */
  twin?: SnapshotStore;
  cleanup(): Promise<void>;
}

const enc = new TextEncoder();
const text = (s: string) => enc.encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

export function hashOf(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

export function pointerFields(overrides: Partial<PointerFields> = {}): PointerFields {
  return {
    revision: 'rev-1',
    format: 'upstream',
    filterHash: 'none',
    syncedAt: new Date().toISOString(),
    counts: { servers: 1, versions: 1, invalid: 0, filteredOut: 0 },
    ...overrides,
  };
}

function isError(code: string) {
  return (e: unknown) => {
    assert.ok(e instanceof RegistryError, `expected RegistryError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

async function getBody(store: SnapshotStore, key: string): Promise<string | null> {
  const got = await store.get(key);
  if (got === 'not-modified') assert.fail('unexpected not-modified');
  return got === null ? null : decode(got.body);
}

export function storeContract(label: string, open: () => Promise<ContractSubject>): void {
  describe(`SnapshotStore contract: ${label}`, () => {
    let subject: ContractSubject;
    let store: SnapshotStore;
    let n = 0;
    /** a fresh registry per test, so tests never see each other's objects */
    const ref = (): RegistryRef => ({ namespace: 'team-a', name: `reg-${++n}` });

    before(async () => {
      subject = await open();
      store = subject.store;
    });
    after(async () => {
      await subject.cleanup();
    });

    describe('objects', () => {
      it('puts and gets bytes with a quoted strong ETag; a missing key reads as null', async () => {
        const key = 'objects/put-get/a.json';
        const { etag } = await store.put(key, text('{"a":1}'), { contentType: 'application/json' });
        assert.match(etag, /^"[^"]+"$/);
        const got = await store.get(key);
        assert.ok(got && got !== 'not-modified');
        assert.equal(decode(got.body), '{"a":1}');
        assert.equal(got.etag, etag);
        assert.equal(await store.get('objects/put-get/missing.json'), null);
        // same bytes, same ETag; other bytes, another ETag
        assert.equal((await store.put('objects/put-get/b.json', text('{"a":1}'))).etag, etag);
        assert.notEqual((await store.put(key, text('{"a":2}'))).etag, etag);
        assert.equal(await getBody(store, key), '{"a":2}');
      });

      it('answers not-modified while the ETag matches, and the new body once it changed', async () => {
        const key = 'objects/revalidate/p.json';
        const first = await store.put(key, text('one'));
        assert.equal(await store.get(key, { ifNoneMatch: first.etag }), 'not-modified');
        const second = await store.put(key, text('two'));
        const got = await store.get(key, { ifNoneMatch: first.etag });
        assert.ok(got && got !== 'not-modified');
        assert.equal(decode(got.body), 'two');
        assert.equal(got.etag, second.etag);
        assert.equal(await store.get('objects/revalidate/none.json', { ifNoneMatch: first.etag }), null);
      });

      it('round-trips a large binary body byte for byte', async () => {
        const big = new Uint8Array(6 * 1024 * 1024 + 7);
        for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 11)) & 0xff;
        const { etag } = await store.put('objects/large/blob.bin', big);
        const got = await store.get('objects/large/blob.bin');
        assert.ok(got && got !== 'not-modified');
        assert.equal(got.etag, etag);
        assert.equal(got.body.length, big.length);
        assert.ok(Buffer.from(got.body).equals(Buffer.from(big)));
      });

      it('reports existence', async () => {
        await store.put('objects/exists/x', text('x'));
        assert.equal(await store.exists('objects/exists/x'), true);
        assert.equal(await store.exists('objects/exists/y'), false);
        assert.equal(await store.exists('objects/exists'), false, 'a "directory" is not an object');
      });

      it('lists keys under a prefix in lexical order, partial segments included', async () => {
        const keys = ['list/b/2', 'list/a/1', 'list/b/10', 'list/ab/x', 'list/a-z', 'lister/no'];
        for (const key of keys) await store.put(key, text(key));
        assert.deepEqual(await store.list('list/'), ['list/a-z', 'list/a/1', 'list/ab/x', 'list/b/10', 'list/b/2']);
        assert.deepEqual(await store.list('list/a'), ['list/a-z', 'list/a/1', 'list/ab/x']);
        assert.deepEqual(await store.list('list/a/'), ['list/a/1']);
        assert.deepEqual(await store.list('list/b/1'), ['list/b/10']);
        assert.deepEqual(await store.list('list/none/'), []);
        const everything = await store.list('');
        for (const key of keys) assert.ok(everything.includes(key), key);
        assert.deepEqual(everything, [...everything].sort());
        if (store.listObjects) {
          const detailed = await store.listObjects('list/a/');
          assert.equal(detailed.length, 1);
          assert.equal(detailed[0]!.key, 'list/a/1');
          assert.equal(detailed[0]!.size, 'list/a/1'.length);
          assert.ok(Math.abs(detailed[0]!.lastModified.getTime() - Date.now()) < 5 * 60_000);
        }
      });

      it('deletes keys; missing keys are not an error', async () => {
        await store.put('del/a', text('a'));
        await store.put('del/b/c', text('c'));
        await store.put('del/keep', text('k'));
        await store.delete(['del/a', 'del/b/c', 'del/never-existed']);
        assert.deepEqual(await store.list('del/'), ['del/keep']);
        assert.equal(await store.get('del/a'), null);
        await store.delete([]);
        await store.delete(['del/a']);
      });
    });

    describe('conditional writes', () => {
      it('ifNoneMatch "*" creates once and then conflicts', async () => {
        const key = 'cond/create.json';
        await store.put(key, text('first'), { ifNoneMatch: '*' });
        await assert.rejects(store.put(key, text('second'), { ifNoneMatch: '*' }), isError('conflict'));
        assert.equal(await getBody(store, key), 'first');
      });

      it('ifMatch succeeds on the current ETag and conflicts on a stale or missing one', async () => {
        const key = 'cond/update.json';
        const v1 = await store.put(key, text('v1'));
        const v2 = await store.put(key, text('v2'), { ifMatch: v1.etag });
        await assert.rejects(store.put(key, text('v3'), { ifMatch: v1.etag }), isError('conflict'));
        assert.equal(await getBody(store, key), 'v2');
        await store.put(key, text('v3'), { ifMatch: v2.etag });
        assert.equal(await getBody(store, key), 'v3');
        await assert.rejects(store.put('cond/absent.json', text('x'), { ifMatch: v2.etag }), isError('conflict'));
        assert.equal(await store.exists('cond/absent.json'), false);
      });

      it('refuses ifMatch together with ifNoneMatch', async () => {
        await assert.rejects(store.put('cond/both', text('x'), { ifMatch: '"x"', ifNoneMatch: '*' }), isError('invalid_argument'));
      });

      it('lets exactly one of many racing conditional writers win', async () => {
        const key = 'cond/race.json';
        const base = await store.put(key, text('base'));
        const writers = Array.from({ length: 8 }, (_, i) => store.put(key, text(`writer-${i}`), { ifMatch: base.etag }));
        const results = await Promise.allSettled(writers);
        const won = results.filter((r) => r.status === 'fulfilled');
        assert.equal(won.length, 1);
        for (const r of results) if (r.status === 'rejected') isError('conflict')(r.reason);
        const winner = results.findIndex((r) => r.status === 'fulfilled');
        assert.equal(await getBody(store, key), `writer-${winner}`);

        const creators = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => store.put('cond/race-create.json', text(`c${i}`), { ifNoneMatch: '*' })));
        assert.equal(creators.filter((r) => r.status === 'fulfilled').length, 1);
      });

      it('sees writes made through another store instance (another process) in its conditions', async (t) => {
        if (!subject.twin) return t.skip('no second instance for this store');
        const key = 'cond/twin.json';
        const mine = await store.put(key, text('mine'));
        const theirs = await subject.twin.put(key, text('theirs'), { ifMatch: mine.etag });
        await assert.rejects(store.put(key, text('late'), { ifMatch: mine.etag }), isError('conflict'));
        const got = await store.get(key, { ifNoneMatch: mine.etag });
        assert.ok(got && got !== 'not-modified');
        assert.equal(got.etag, theirs.etag);
      });
    });

    describe('keys', () => {
      const hostile = ['../escape', 'a/../../escape', '/absolute', 'a\\b', 'a\u0000b', 'a//b', 'a/./b', '', 'trailing/', '.hidden', 'a/.lock'];
      for (const key of hostile) {
        it(`rejects ${JSON.stringify(key)} with invalid_argument before any I/O`, async () => {
          await assert.rejects(store.put(key, text('x')), isError('invalid_argument'));
          await assert.rejects(store.get(key), isError('invalid_argument'));
          await assert.rejects(store.exists(key), isError('invalid_argument'));
          await assert.rejects(store.delete([key]), isError('invalid_argument'));
        });
      }
      it('rejects hostile listing prefixes', async () => {
        for (const prefix of ['../', '/', 'a/../', 'a\\']) await assert.rejects(store.list(prefix), isError('invalid_argument'));
      });
      it('rejects registry references that are not Kubernetes names', async () => {
        await assert.rejects(readPointer(store, { namespace: 'ns', name: '../x' }), isError('invalid_argument'));
        await assert.rejects(deleteRegistry(store, { namespace: 'a/b', name: 'x' }), isError('invalid_argument'));
      });
    });

    describe('publishing', () => {
      const files = (label: string) => ({ toolhive: text(`{"th":"${label}"}`), upstream: text(`{"up":"${label}"}`) });

      it('publishes objects then a pointer that readPointer and readSnapshotFile follow', async () => {
        const r = ref();
        assert.equal(await readPointer(store, r), null);
        const h = hashOf('one');
        const published = await publishSnapshot(store, r, { hash: h, files: files('one'), pointer: pointerFields(), expectedPointerEtag: null });
        assert.equal(published.objectsWritten, 2);
        assert.equal(published.objectsReused, 0);
        assert.deepEqual(published.pointer.objects, {
          toolhive: snapshotKey(r, h, 'toolhive.json'),
          upstream: snapshotKey(r, h, 'upstream.json'),
        });
        const read = await readPointer(store, r);
        assert.ok(read);
        assert.equal(read.etag, published.etag);
        assert.equal(read.pointer.hash, h);
        assert.equal(read.pointer.apiVersion, 'mcpreg/v1');
        assert.deepEqual(read.pointer.history, []);
        assert.equal(decode((await readSnapshotFile(store, read.pointer, 'upstream')).body), '{"up":"one"}');
        assert.equal(decode((await readSnapshotFile(store, read.pointer, 'toolhive')).body), '{"th":"one"}');
        assert.equal(await revalidatePointer(store, r, read.etag), 'not-modified');
      });

      it('replaces the pointer only over the expected ETag, and records history newest first', async () => {
        const r = ref();
        const first = await publishSnapshot(store, r, { hash: hashOf('a'), files: files('a'), pointer: pointerFields({ syncedAt: '2026-01-01T00:00:00Z' }), expectedPointerEtag: null });
        const second = await publishSnapshot(store, r, { hash: hashOf('b'), files: files('b'), pointer: pointerFields({ syncedAt: '2026-01-02T00:00:00Z' }), expectedPointerEtag: first.etag });
        assert.deepEqual(second.pointer.history, [{ hash: hashOf('a'), syncedAt: '2026-01-01T00:00:00Z' }]);
        // stale ETag, and "first publish" over an existing pointer: both lose, nothing changes
        await assert.rejects(publishSnapshot(store, r, { hash: hashOf('c'), files: files('c'), pointer: pointerFields(), expectedPointerEtag: first.etag }), isError('conflict'));
        await assert.rejects(publishSnapshot(store, r, { hash: hashOf('c'), files: files('c'), pointer: pointerFields(), expectedPointerEtag: null }), isError('conflict'));
        assert.equal(await store.exists(snapshotKey(r, hashOf('c'), 'upstream.json')), false, 'a known loser uploads nothing');
        const read = await readPointer(store, r);
        assert.equal(read?.pointer.hash, hashOf('b'));
        // A → B → A: the hash moves to the front, its objects are reused, history has no duplicates
        const third = await publishSnapshot(store, r, { hash: hashOf('a'), files: files('a'), pointer: pointerFields({ syncedAt: '2026-01-03T00:00:00Z' }), expectedPointerEtag: second.etag });
        assert.equal(third.objectsReused, 2);
        assert.equal(third.objectsWritten, 0);
        assert.deepEqual(third.pointer.history?.map((x) => x.hash), [hashOf('b')]);
      });

      it('lets exactly one of two racing publishes win; the loser gets conflict', async () => {
        const r = ref();
        const base = await publishSnapshot(store, r, { hash: hashOf('base'), files: files('base'), pointer: pointerFields(), expectedPointerEtag: null });
        const [x, y] = await Promise.allSettled([
          publishSnapshot(store, r, { hash: hashOf('x'), files: files('x'), pointer: pointerFields({ revision: 'x' }), expectedPointerEtag: base.etag }),
          publishSnapshot(subject.twin ?? store, r, { hash: hashOf('y'), files: files('y'), pointer: pointerFields({ revision: 'y' }), expectedPointerEtag: base.etag }),
        ]);
        const outcomes = [x, y];
        assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, 'exactly one winner');
        const loser = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        isError('conflict')(loser.reason);
        const winner = (outcomes.find((o) => o.status === 'fulfilled') as PromiseFulfilledResult<{ pointer: { revision?: string } }>).value;
        assert.equal((await readPointer(store, r))?.pointer.revision, winner.pointer.revision);

        // two first publishes race as well
        const r2 = ref();
        const firsts = await Promise.allSettled(
          ['p', 'q'].map((l) => publishSnapshot(store, r2, { hash: hashOf(l), files: files(l), pointer: pointerFields(), expectedPointerEtag: null })),
        );
        assert.equal(firsts.filter((o) => o.status === 'fulfilled').length, 1);
      });

      it('rewrites a reused object that vanished (a concurrent prune) after the pointer flipped', async () => {
        const r = ref();
        const first = await publishSnapshot(store, r, { hash: hashOf('heal-a'), files: files('heal-a'), pointer: pointerFields(), expectedPointerEtag: null });
        const second = await publishSnapshot(store, r, { hash: hashOf('heal-b'), files: files('heal-b'), pointer: pointerFields(), expectedPointerEtag: first.etag });
        // a store whose exists() says "present" once, then the object is removed behind it
        const target = snapshotKey(r, hashOf('heal-a'), 'upstream.json');
        let fooled = false;
        const racing: SnapshotStore = {
          description: store.description,
          get: (k, o) => store.get(k, o),
          put: (k, b, o) => store.put(k, b, o),
          list: (p) => store.list(p),
          delete: (k) => store.delete(k),
          exists: async (k) => {
            if (k === target && !fooled) {
              fooled = true;
              await store.delete([k]);
              return true;
            }
            return store.exists(k);
          },
        };
        const third = await publishSnapshot(racing, r, { hash: hashOf('heal-a'), files: files('heal-a'), pointer: pointerFields(), expectedPointerEtag: second.etag });
        assert.equal(third.objectsWritten, 1);
        assert.equal(await getBody(store, target), '{"up":"heal-a"}');
      });

      it('uploads without looking when the caller says the hash is new (mayExist: false)', async () => {
        const r = ref();
        const first = await publishSnapshot(store, r, { hash: hashOf('new-a'), files: files('new-a'), pointer: pointerFields(), expectedPointerEtag: null, mayExist: false });
        assert.equal(first.objectsWritten, 2);
        // objects left over from an earlier attempt are simply written again (same bytes)
        const leftover = snapshotKey(r, hashOf('new-b'), 'upstream.json');
        await store.put(leftover, text('{"up":"new-b"}'));
        const second = await publishSnapshot(store, r, { hash: hashOf('new-b'), files: files('new-b'), pointer: pointerFields(), expectedPointerEtag: first.etag, mayExist: false });
        assert.deepEqual([second.objectsWritten, second.objectsReused], [2, 0]);
        assert.equal(await getBody(store, leftover), '{"up":"new-b"}');
        assert.equal((await readPointer(store, r))?.pointer.hash, hashOf('new-b'));
        // a known loser still uploads nothing
        await assert.rejects(
          publishSnapshot(store, r, { hash: hashOf('new-c'), files: files('new-c'), pointer: pointerFields(), expectedPointerEtag: first.etag, mayExist: false }),
          isError('conflict'),
        );
        assert.equal(await store.exists(snapshotKey(r, hashOf('new-c'), 'upstream.json')), false);
      });

      it('reports a corrupt pointer as a typed error carrying its ETag, and can publish over it', async () => {
        const r = ref();
        const bad = await store.put(pointerKey(r), text('{"apiVersion":"mcpreg/v1", "oops"'));
        await assert.rejects(readPointer(store, r), (e: unknown) => {
          assert.ok(e instanceof CorruptPointerError);
          assert.equal(e.code, 'invalid_json');
          assert.equal(e.etag, bad.etag);
          assert.equal(e.where.key, pointerKey(r));
          return true;
        });
        const invalid = await store.put(pointerKey(r), text(JSON.stringify({ apiVersion: 'mcpreg/v1', namespace: r.namespace, name: r.name, hash: 'nothex' })));
        await assert.rejects(readPointer(store, r), (e: unknown) => e instanceof CorruptPointerError && e.code === 'invalid_document' && /hash/.test(e.message));
        const fixed = await publishSnapshot(store, r, { hash: hashOf('fixed'), files: files('fixed'), pointer: pointerFields(), expectedPointerEtag: invalid.etag });
        assert.equal((await readPointer(store, r))?.etag, fixed.etag);
      });

      it('rejects a pointer copied from another registry or naming foreign objects', async () => {
        const r = ref();
        const other = ref();
        const published = await publishSnapshot(store, other, { hash: hashOf('o'), files: files('o'), pointer: pointerFields(), expectedPointerEtag: null });
        await store.put(pointerKey(r), text(JSON.stringify(published.pointer)));
        await assert.rejects(readPointer(store, r), (e: unknown) => e instanceof CorruptPointerError && /belongs to/.test(e.message));
        const forged = { ...published.pointer, namespace: r.namespace, name: r.name };
        await store.put(pointerKey(r), text(JSON.stringify(forged)));
        await assert.rejects(readPointer(store, r), (e: unknown) => e instanceof CorruptPointerError && /expected/.test(e.message));
      });

      it('refuses a malformed hash or pointer fields before writing anything', async () => {
        const r = ref();
        await assert.rejects(publishSnapshot(store, r, { hash: 'ABC', files: files('x'), pointer: pointerFields(), expectedPointerEtag: null }), isError('invalid_argument'));
        const badCounts = pointerFields({ counts: { servers: -1, versions: 0, invalid: 0, filteredOut: 0 } });
        await assert.rejects(publishSnapshot(store, r, { hash: hashOf('x'), files: files('x'), pointer: badCounts, expectedPointerEtag: null }), isError('invalid_argument'));
        assert.deepEqual(await store.list(registryPrefix(r)), [], 'nothing uploaded');
      });

      it('reports a snapshot object that is gone as not_found', async () => {
        const r = ref();
        const published = await publishSnapshot(store, r, { hash: hashOf('gone'), files: files('gone'), pointer: pointerFields(), expectedPointerEtag: null });
        await store.delete([published.pointer.objects.toolhive]);
        await assert.rejects(readSnapshotFile(store, published.pointer, 'toolhive'), isError('not_found'));
      });
    });

    describe('retention and deletion', () => {
      const files = (label: string) => ({ toolhive: text(`{"th":"${label}"}`), upstream: text(`{"up":"${label}"}`) });
      const snapshotsOf = async (r: RegistryRef) =>
        [...new Set((await store.list(`${registryPrefix(r)}snapshots/`)).map((k) => k.split('/')[4]!))].sort();

      it('keeps the current snapshot and the most recent others, deleting older ones', async () => {
        const r = ref();
        let etag: string | null = null;
        for (const label of ['s1', 's2', 's3', 's4', 's5']) {
          ({ etag } = await publishSnapshot(store, r, { hash: hashOf(label), files: files(label), pointer: pointerFields(), expectedPointerEtag: etag }));
        }
        const result = await pruneSnapshots(store, r, { keep: 3 });
        assert.deepEqual(result.kept, [hashOf('s5'), hashOf('s4'), hashOf('s3')]);
        assert.deepEqual(result.deleted, [hashOf('s1'), hashOf('s2')].sort());
        assert.equal(result.deletedObjects, 4);
        assert.deepEqual(await snapshotsOf(r), [hashOf('s3'), hashOf('s4'), hashOf('s5')].sort());
        // idempotent
        assert.deepEqual((await pruneSnapshots(store, r, { keep: 3 })).deleted, []);
        // keep = 1 leaves only what the pointer names
        await pruneSnapshots(store, r, { keep: 1 });
        assert.deepEqual(await snapshotsOf(r), [hashOf('s5')]);
        assert.equal((await readPointer(store, r))?.pointer.hash, hashOf('s5'));
        await assert.rejects(pruneSnapshots(store, r, { keep: 0 }), isError('invalid_argument'));
      });

      it('prunes from a pointer the caller already holds, and re-reads it when that one is stale', async () => {
        const r = ref();
        const published: { pointer: SnapshotPointer; etag: string }[] = [];
        for (const label of ['c1', 'c2', 'c3']) {
          const previous = published.at(-1)?.etag ?? null;
          const { pointer, etag } = await publishSnapshot(store, r, { hash: hashOf(label), files: files(label), pointer: pointerFields(), expectedPointerEtag: previous });
          published.push({ pointer, etag });
        }
        // holding an older pointer (c2 current, c1 in its history): its ETag no longer matches,
        // so prune reads the pointer again rather than act on what it was given
        const stale = await pruneSnapshots(store, r, { keep: 1, current: published[1]! });
        assert.deepEqual(stale.kept, [hashOf('c3')]);
        assert.deepEqual(stale.deleted, [hashOf('c1'), hashOf('c2')].sort());
        // the pointer just written: no read needed, and it is acted on
        const c4 = await publishSnapshot(store, r, { hash: hashOf('c4'), files: files('c4'), pointer: pointerFields(), expectedPointerEtag: published[2]!.etag });
        const fresh = await pruneSnapshots(store, r, { keep: 1, current: { pointer: c4.pointer, etag: c4.etag } });
        assert.deepEqual(fresh.deleted, [hashOf('c3')]);
        assert.deepEqual(await snapshotsOf(r), [hashOf('c4')]);
      });

      it('prunes from a listing started before the publish as from one taken after it', async () => {
        const r = ref();
        let etag: string | null = null;
        for (const label of ['l1', 'l2', 'l3']) {
          ({ etag } = await publishSnapshot(store, r, { hash: hashOf(label), files: files(label), pointer: pointerFields(), expectedPointerEtag: etag }));
        }
        // the listing a sync starts while it uploads: it has not seen l4's objects
        const listing = listSnapshots(store, r);
        await listing;
        const l4 = await publishSnapshot(store, r, { hash: hashOf('l4'), files: files('l4'), pointer: pointerFields(), expectedPointerEtag: etag });
        const result = await pruneSnapshots(store, r, { keep: 2, current: { pointer: l4.pointer, etag: l4.etag }, listing });
        assert.deepEqual(result.deleted, [hashOf('l1'), hashOf('l2')].sort());
        assert.deepEqual(await snapshotsOf(r), [hashOf('l3'), hashOf('l4')].sort());
        // a listing that failed is taken again
        const l5 = await publishSnapshot(store, r, { hash: hashOf('l5'), files: files('l5'), pointer: pointerFields(), expectedPointerEtag: l4.etag });
        const failed = Promise.reject(new Error('listing failed'));
        failed.catch(() => {});
        assert.deepEqual((await pruneSnapshots(store, r, { keep: 1, current: { pointer: l5.pointer, etag: l5.etag }, listing: failed })).deleted, [hashOf('l3'), hashOf('l4')].sort());
      });

      it('spares young unreferenced snapshots (a sync in flight) and removes old ones', async () => {
        const r = ref();
        const { etag } = await publishSnapshot(store, r, { hash: hashOf('live'), files: files('live'), pointer: pointerFields(), expectedPointerEtag: null });
        // objects of a sync that lost its race (or is still running)
        await store.put(snapshotKey(r, hashOf('orphan'), 'upstream.json'), text('{}'));
        await store.put(snapshotKey(r, hashOf('orphan'), 'toolhive.json'), text('{}'));
        assert.deepEqual((await pruneSnapshots(store, r, { keep: 3 })).deleted, []);
        const later = Date.now() + 2 * 60 * 60_000;
        const result = await pruneSnapshots(store, r, { keep: 3, now: () => later });
        assert.deepEqual(result.deleted, [hashOf('orphan')]);
        assert.deepEqual(await snapshotsOf(r), [hashOf('live')]);
        assert.equal((await readPointer(store, r))?.etag, etag);
      });

      it("keeps the snapshot directory holding the current pointer's source content", async () => {
        const r = ref();
        let etag: string | null = null;
        const sourceKey = snapshotKey(r, hashOf('src-1'), 'source.json');
        for (const label of ['src-1', 'src-2', 'src-3']) {
          if (label === 'src-1') await store.put(sourceKey, text('{"raw":true}'));
          const source = { hash: hashOf('raw'), key: sourceKey, kind: 'document' as const, file: 'registry.json', state: { cursor: label } };
          ({ etag } = await publishSnapshot(store, r, { hash: hashOf(label), files: files(label), pointer: pointerFields({ source }), expectedPointerEtag: etag }));
        }
        const result = await pruneSnapshots(store, r, { keep: 1 });
        assert.deepEqual(result.deleted, [hashOf('src-2')]);
        assert.equal(await getBody(store, sourceKey), '{"raw":true}');
        assert.deepEqual((await readPointer(store, r))?.pointer.source?.state, { cursor: 'src-3' });
      });

      it('refuses to publish, and to read, a pointer whose source key leaves the registry', async () => {
        const r = ref();
        const source = { hash: hashOf('s'), key: 'registries/other/reg/snapshots/x/source.json', kind: 'document' as const };
        await assert.rejects(
          publishSnapshot(store, r, { hash: hashOf('s'), files: files('s'), pointer: pointerFields({ source }), expectedPointerEtag: null }),
          isError('invalid_argument'),
        );
        assert.deepEqual(await store.list(registryPrefix(r)), [], 'nothing uploaded');
        const good = await publishSnapshot(store, r, { hash: hashOf('s'), files: files('s'), pointer: pointerFields(), expectedPointerEtag: null });
        const forged = await store.put(pointerKey(r), text(JSON.stringify({ ...good.pointer, source })));
        await assert.rejects(readPointer(store, r), (e: unknown) => e instanceof CorruptPointerError && e.etag === forged.etag && /outside/.test(e.message));
      });

      it('does nothing without a pointer', async () => {
        const r = ref();
        await store.put(snapshotKey(r, hashOf('first-sync-in-flight'), 'upstream.json'), text('{}'));
        const result = await pruneSnapshots(store, r, { keep: 1, now: () => Date.now() + 10 * 3600_000 });
        assert.deepEqual(result, { kept: [], deleted: [], deletedObjects: 0 });
        assert.equal((await snapshotsOf(r)).length, 1);
      });

      it('deletes a whole registry, pointer first, and nothing of its neighbours', async () => {
        const r: RegistryRef = { namespace: 'team-del', name: 'reg' };
        const neighbour: RegistryRef = { namespace: 'team-del', name: 'reg2' };
        let etag: string | null = null;
        for (const label of ['d1', 'd2']) {
          ({ etag } = await publishSnapshot(store, r, { hash: hashOf(label), files: files(label), pointer: pointerFields(), expectedPointerEtag: etag }));
        }
        await store.put(`${registryPrefix(r)}state.json`, text('{"cursor":"x"}'));
        await publishSnapshot(store, neighbour, { hash: hashOf('n'), files: files('n'), pointer: pointerFields(), expectedPointerEtag: null });
        const result = await deleteRegistry(store, r);
        assert.equal(result.deletedObjects, 6);
        assert.deepEqual(await store.list(registryPrefix(r)), []);
        assert.equal(await readPointer(store, r), null);
        assert.equal((await readPointer(store, neighbour))?.pointer.hash, hashOf('n'));
        // a sync that was in flight cannot resurrect the pointer over the old ETag
        await assert.rejects(publishSnapshot(store, r, { hash: hashOf('late'), files: files('late'), pointer: pointerFields(), expectedPointerEtag: etag }), isError('conflict'));
        assert.equal(await readPointer(store, r), null);
        assert.deepEqual(await deleteRegistry(store, r), { deletedObjects: 0 });
      });
    });
  });
}
