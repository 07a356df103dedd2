/**
 * Listings across registries (`/api/v1/registries`, `/api/v1/servers`) do not wait for the
 * pointer reads of every registry whose TTL ran out: they answer from the pointers they have
 * and revalidate them in the background, so a thousand registries do not put a thousand
 * store reads on the request path every TTL. A listing is as fresh as the registry list (here
 * both TTLs are 200 ms). Bounded: past 5 × the TTL since a pointer's last check the listing
 * reads it first, as a single-registry request always does. The store
 * is real (filesystem), its pointer reads held back on demand to show who waits.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { startQuery, tempStore, type Running } from './harness.ts';

const TTL_MS = 200;
let api: Running;
let store: SnapshotStore;
let cleanup: () => Promise<void>;
let gate: Promise<void> | undefined;
let open: (() => void) | undefined;
let heldReads = 0;

/** the real store; while the gate is closed, reads of pointers wait for it */
function gated(inner: SnapshotStore): SnapshotStore {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'get')
        return async (key: string, options?: object) => {
          if (gate && key.endsWith('/current.json')) {
            heldReads++;
            await gate;
          }
          return inner.get(key, options);
        };
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const close = () => {
  gate = new Promise<void>((r) => (open = r));
};
const release = () => {
  gate = undefined;
  open?.();
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function hashes(path = '/api/v1/registries'): Promise<Record<string, string>> {
  const r = await api.get(path);
  assert.equal(r.status, 200);
  return Object.fromEntries((r.json() as { registries: Array<{ namespace: string; name: string; snapshot: { hash: string } }> }).registries.map((x) => [`${x.namespace}/${x.name}`, x.snapshot.hash]));
}

const entries = fixtureEntries();
before(async () => {
  const t = await tempStore();
  store = t.store;
  cleanup = t.cleanup;
  for (const name of ['a', 'b', 'c']) await publishEntries(store, { namespace: 'team', name }, entries.slice(0, 10));
  api = await startQuery({ store: gated(store), env: { MCPREG_POINTER_TTL: `${TTL_MS}ms`, MCPREG_REGISTRY_LIST_TTL: `${TTL_MS}ms` } });
});
after(async () => {
  release();
  await api?.close();
  await cleanup?.();
});

test('a listing answers from the pointers it has while they are revalidated, then shows the new snapshot', { timeout: 30_000 }, async () => {
  const first = await hashes();
  assert.deepEqual(Object.keys(first), ['team/a', 'team/b', 'team/c']);
  await publishEntries(store, { namespace: 'team', name: 'a' }, entries.slice(0, 11));
  await sleep(TTL_MS + 50);

  close();
  const t0 = performance.now();
  const during = await hashes();
  assert.deepEqual(during, first, 'the pointers it had, not waiting for the held reads');
  assert.ok(performance.now() - t0 < 2_000);
  const servers = await api.get('/api/v1/servers?limit=5');
  assert.equal(servers.status, 200, 'a page of servers does not wait either');
  assert.ok(heldReads > 0, 'the revalidation was started');

  // a single registry's answer waits for its pointer
  let single = false;
  const one = api.get('/api/v1/registries/team/a').then((r) => ((single = true), r));
  await sleep(150);
  assert.equal(single, false, 'a single-registry request waits for its pointer read');

  release();
  assert.equal((await one).status, 200);
  let after: Record<string, string> = {};
  for (let i = 0; i < 50; i++) {
    after = await hashes();
    if (after['team/a'] !== first['team/a']) break;
    await sleep(20);
  }
  assert.notEqual(after['team/a'], first['team/a'], 'the new snapshot once revalidated');
  assert.equal(after['team/b'], first['team/b']);
});

test('past 5 × the TTL since the last check, the listing reads the pointer first', async () => {
  const before = await hashes();
  await publishEntries(store, { namespace: 'team', name: 'b' }, entries.slice(0, 12));
  await sleep(TTL_MS * 5 + 100);
  const now = await hashes();
  assert.notEqual(now['team/b'], before['team/b'], 'the first listing after the bound shows the change');
});
