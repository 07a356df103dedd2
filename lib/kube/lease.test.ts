import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startControlPlane, type ControlPlane } from '../local/control-plane/index.ts';
import { createLeaseLocker } from './lease.ts';

describe('registry leases', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ port: 0 });
    const { CoreV1Api } = await import('@kubernetes/client-node');
    await cp.kubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'leases' } } });
  });
  after(async () => {
    await cp?.stop();
  });

  test('the same identity never holds one registry twice: concurrent acquires get one lock', async () => {
    const locker = createLeaseLocker(cp.kubeConfig(), { namespace: 'leases', identity: 'me', durationSeconds: 60, now: () => new Date() });
    const results = await Promise.all([locker.acquire('ns', 'reg'), locker.acquire('ns', 'reg'), locker.acquire('ns', 'reg')]);
    assert.equal(results.filter((r) => r !== null).length, 1);
    assert.equal(await locker.acquire('ns', 'reg'), null, 'still held');
    assert.ok(await locker.acquire('ns', 'other'), 'another registry is independent');
    await results.find((r) => r !== null)!.release();
    const again = await locker.acquire('ns', 'reg');
    assert.ok(again, 'free after release');
    await again.release();
  });

  test('a new locker with the same identity (a restart) takes back a lease left held', async () => {
    const first = createLeaseLocker(cp.kubeConfig(), { namespace: 'leases', identity: 'stable', durationSeconds: 600, now: () => new Date() });
    assert.ok(await first.acquire('ns', 'crashed'));
    const restarted = createLeaseLocker(cp.kubeConfig(), { namespace: 'leases', identity: 'stable', durationSeconds: 600, now: () => new Date() });
    const lock = await restarted.acquire('ns', 'crashed');
    assert.ok(lock);
    const stranger = createLeaseLocker(cp.kubeConfig(), { namespace: 'leases', identity: 'other', durationSeconds: 600, now: () => new Date() });
    assert.equal(await stranger.acquire('ns', 'crashed'), null, 'another identity waits for expiry');
    await lock.release();
  });

  test('replicas (different identities) racing for one registry: exactly one wins', async () => {
    const replicas = ['a', 'b', 'c', 'd'].map((id) => createLeaseLocker(cp.kubeConfig(), { namespace: 'leases', identity: `replica-${id}`, durationSeconds: 60, now: () => new Date() }));
    const results = await Promise.all(replicas.map((r) => r.acquire('ns', 'contended')));
    assert.equal(results.filter((r) => r !== null).length, 1, 'optimistic concurrency lets one replica win');
    await results.find((r) => r !== null)!.release();
    const next = await replicas[3]!.acquire('ns', 'contended');
    assert.ok(next, 'a released lease is free for any replica');
    await next.release();
  });

  test('a lease whose holder stopped renewing is taken over once it expires', async () => {
    let clock = new Date('2026-06-01T00:00:00Z');
    const dead = createLeaseLocker(cp.kubeConfig(), { namespace: 'leases', identity: 'dead', durationSeconds: 30, now: () => clock });
    assert.ok(await dead.acquire('ns', 'stale'));
    const alive = createLeaseLocker(cp.kubeConfig(), { namespace: 'leases', identity: 'alive', durationSeconds: 30, now: () => clock });
    clock = new Date('2026-06-01T00:00:29Z');
    assert.equal(await alive.acquire('ns', 'stale'), null, 'not before it expires');
    clock = new Date('2026-06-01T00:00:31Z');
    const taken = await alive.acquire('ns', 'stale');
    assert.ok(taken, 'taken over after expiry');
    await taken.release();
  });
});
