/**
 * Temp files of a write interrupted by kill -9 (a real child process writing into the fs store,
 * killed while one of its temp files is on disk): retention removes them once they are older
 * than the grace period (a younger one may be a live writer's), and deleting the registry
 * removes all of them.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createFsStore } from './fs-store.ts';
import { deleteRegistry, pruneSnapshots } from './retention.ts';

const writer = join(import.meta.dirname, 'testdata', 'endless-writer.ts');
const ref = { namespace: 'team-a', name: 'reg' };
const dirs: string[] = [];

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempFiles(root: string): Promise<string[]> {
  const all = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return all.filter((p) => p.endsWith('.tmp')).map((p) => join(root, p));
}

/** Starts the writer, kills it with SIGKILL as soon as a temp file of it exists, returns the leftovers. */
async function killMidWrite(root: string): Promise<string[]> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const child = fork(writer, [root], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const exited = once(child, 'exit');
    await once(child, 'message');
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await tempFiles(root)).length === 0) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    const [code, signal] = await exited;
    assert.equal(signal, 'SIGKILL', `the writer was killed (exit ${code})`);
    // the temp file seen may have been renamed just before the kill: try again then
    const left = await tempFiles(root);
    if (left.length > 0) return left;
  }
  assert.fail('no kill -9 landed mid-write in 10 attempts');
}

describe('leftovers of a writer killed mid-write (fs store)', () => {
  it('prune removes them once older than the grace period; deleting the registry removes all', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mcpreg-leftovers-'));
    dirs.push(root);
    const store = createFsStore({ dir: root });

    const left = await killMidWrite(root);
    for (const path of left) assert.match(path, /\/\.upstream\.json\.\d+\.[0-9a-f]{12}\.tmp$/, 'named as the fs store names temp files');
    assert.deepEqual((await store.list('registries/')).filter((k) => k.includes('.tmp')), [], 'listings never show them');

    // young: could be a live writer's
    await pruneSnapshots(store, ref);
    assert.deepEqual(await tempFiles(root), left, 'a temp file younger than the grace period stays');

    // eleven minutes later
    const old = new Date(Date.now() - 11 * 60_000);
    for (const path of left) await utimes(path, old, old);
    await pruneSnapshots(store, ref);
    assert.deepEqual(await tempFiles(root), [], 'a dead writer\'s temp file is removed by prune');
    for (const path of left) {
      const dir = join(path, '..');
      // a snapshot directory holding nothing but the leftover goes with it
      const rest = await readdir(dir).catch(() => null);
      assert.ok(rest === null || rest.length > 0, `no empty directory left at ${dir}`);
    }

    // killed again; the registry is then deleted at once
    const again = await killMidWrite(root);
    assert.ok(again.length > 0);
    assert.ok((await stat(again[0]!)).mtimeMs > Date.now() - 60_000, 'a fresh leftover');
    await deleteRegistry(store, ref);
    assert.deepEqual(await tempFiles(root), [], 'deleting the registry removes every temp file');
    assert.equal(await readdir(join(root, 'registries', 'team-a', 'reg')).catch(() => null), null, 'and the registry\'s directory');
  });
});
