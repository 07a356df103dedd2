import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { RegistryError } from '../errors.ts';
import { createFsStore } from './fs-store.ts';
import { readPointer } from './read.ts';
import { storeContract } from './store-contract.ts';

const run = promisify(execFile);
const worker = join(import.meta.dirname, 'testdata', 'fs-race-worker.ts');
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpreg-fs-store-'));
  dirs.push(dir);
  return dir;
}

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

storeContract('filesystem', async () => {
  const dir = await tempDir();
  return { store: createFsStore({ dir }), twin: createFsStore({ dir }), cleanup: async () => {} };
});

/** every file under dir, relative, dot-files included */
async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

describe('filesystem store specifics', () => {
  it('maps keys to files under its directory and leaves no temp or lock files behind', async () => {
    const dir = await tempDir();
    const store = createFsStore({ dir });
    await store.put('registries/ns/r/current.json', new TextEncoder().encode('{}'), { ifNoneMatch: '*' });
    await store.put('registries/ns/r/current.json', new TextEncoder().encode('{"a":1}'));
    assert.deepEqual(await allFiles(dir), ['registries/ns/r/current.json']);
    await store.delete(['registries/ns/r/current.json']);
    assert.deepEqual(await readdir(dir), [], 'emptied directories are removed');
    assert.equal(store.description, new URL(`file://${dir}`).href);
  });

  it('never lets two writers in different processes lose an update', async (t) => {
    const dir = await tempDir();
    const barrier = await tempDir();
    const times = 120;
    const outputs = await Promise.all(
      [1, 2].map((id) => run(process.execPath, [worker, 'increment', dir, 'counter/value', String(times), barrier, String(id), '2'], { timeout: 60_000 })),
    );
    const store = createFsStore({ dir });
    const got = await store.get('counter/value');
    assert.ok(got && got !== 'not-modified');
    assert.equal(new TextDecoder().decode(got.body), String(2 * times), 'every increment of both processes is counted');
    const conflicts = outputs.map((o) => (JSON.parse(o.stdout) as { conflicts: number }).conflicts);
    t.diagnostic(`conflicts retried: ${conflicts.join(' + ')}`);
    // the race was real: at least one process had to retry (it loses ~half the time when interleaved)
    assert.ok(conflicts[0]! + conflicts[1]! > 0, `no conflicts seen: ${JSON.stringify(conflicts)}`);
    assert.deepEqual(await allFiles(dir), ['counter/value']);
  });

  it('lets exactly one of two processes publish over the same pointer ETag', async () => {
    const dir = await tempDir();
    const ref = { namespace: 'race', name: 'reg' };
    let etag = 'null';
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(
        ['a', 'b'].map((side) =>
          run(process.execPath, [worker, 'publish', dir, ref.namespace, ref.name, `round-${round}-${side}`, etag], { timeout: 60_000 }),
        ),
      );
      const outcomes = results.map((r) => JSON.parse(r.stdout) as { outcome: string; etag?: string });
      assert.deepEqual(outcomes.map((o) => o.outcome).sort(), ['conflict', 'won'], `round ${round}`);
      const pointer = await readPointer(createFsStore({ dir }), ref);
      const winner = outcomes.find((o) => o.outcome === 'won')!;
      assert.equal(pointer?.etag, winner.etag);
      etag = winner.etag!;
    }
  });

  it('breaks the lock of a dead process at once', async () => {
    const dir = await tempDir();
    const store = createFsStore({ dir, lockTimeoutMs: 2_000 });
    await store.put('k/obj', new TextEncoder().encode('1'));
    // a pid that cannot be alive: above the kernel's pid_max (4194304 at most)
    await writeFile(join(dir, 'k', '.obj.lock'), JSON.stringify({ host: (await import('node:os')).hostname(), pid: 99_999_999, token: 'dead' }));
    const started = Date.now();
    await store.put('k/obj', new TextEncoder().encode('2'));
    assert.ok(Date.now() - started < 1_000);
    assert.deepEqual(await allFiles(dir), ['k/obj']);
  });

  it('waits for a live lock, times out with a transient error, and breaks it once stale', async () => {
    const dir = await tempDir();
    const store = createFsStore({ dir, lockTimeoutMs: 150, staleLockMs: 5_000 });
    await store.put('k/obj', new TextEncoder().encode('1'));
    const lock = join(dir, 'k', '.obj.lock');
    // owned by a live process (our parent) on another "host" reading: only age can free it
    await writeFile(lock, JSON.stringify({ host: 'elsewhere', pid: process.ppid, token: 'live' }));
    await assert.rejects(store.put('k/obj', new TextEncoder().encode('2')), (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      assert.equal(e.code, 'store_unavailable');
      assert.equal(e.transient, true);
      assert.equal(e.where.key, 'k/obj');
      return true;
    });
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    await store.put('k/obj', new TextEncoder().encode('3'));
    const got = await store.get('k/obj');
    assert.ok(got && got !== 'not-modified');
    assert.equal(new TextDecoder().decode(got.body), '3');
    await assert.rejects(stat(lock), { code: 'ENOENT' });
  });

  it('reports an unusable directory as store_unavailable naming the key', async () => {
    const dir = await tempDir();
    const file = join(dir, 'not-a-dir');
    await writeFile(file, 'x');
    const store = createFsStore({ dir: file });
    await assert.rejects(store.put('a/b', new TextEncoder().encode('x')), (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      assert.equal(e.code, 'store_unavailable');
      assert.equal(e.where.key, 'a/b');
      assert.match(e.message, /ENOTDIR|EEXIST/);
      return true;
    });
    assert.equal(await store.get('a/b'), null);
  });

  it('does not re-hash an unchanged object to revalidate it', async () => {
    const dir = await tempDir();
    const store = createFsStore({ dir });
    const big = new Uint8Array(32 * 1024 * 1024).fill(7);
    const { etag } = await store.put('big/obj', big);
    const twin = createFsStore({ dir });
    let started = performance.now();
    assert.equal(await twin.get('big/obj', { ifNoneMatch: etag }), 'not-modified');
    const cold = performance.now() - started;
    started = performance.now();
    assert.equal(await twin.get('big/obj', { ifNoneMatch: etag }), 'not-modified');
    const warm = performance.now() - started;
    assert.ok(warm < cold / 5, `cached revalidation (${warm.toFixed(1)} ms) should beat hashing 32 MB (${cold.toFixed(1)} ms)`);
  });
});
