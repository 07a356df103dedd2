/**
 * The chaos run's invariant checker (invariants.ts): each invariant holds on a consistent
 * observation and fails, naming what is wrong, on one broken the way a fault could break it.
 * The snapshots are made by the real publisher into a real filesystem store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsStore } from '../../lib/snapshots/fs-store.ts';
import { pointerKey } from '../../lib/snapshots/layout.ts';
import { publishSnapshot } from '../../lib/snapshots/publish.ts';
import type { SnapshotPointer } from '../../lib/snapshots/pointer.ts';
import { hashOf, pointerFields } from '../../lib/snapshots/store-contract.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import {
  checkConverged,
  checkPointerComplete,
  checkProcess,
  checkProgress,
  checkQuery,
  checkStatus,
  checkVersions,
  keysNamed,
  type CheckedSnapshot,
  type Entry,
  type QueryObservation,
  type StoredSnapshot,
  type Violation,
} from './invariants.ts';

const ref = { namespace: 'team', name: 'reg' };
const REG = 'team/reg';
const enc = new TextEncoder();
let dir: string;
let store: SnapshotStore;

const entries = (...specs: string[]): Entry[] =>
  specs.map((s) => {
    const [name, version, description = 'd'] = s.split(' ');
    return { name: `io.github.t/${name}`, version: version!, description };
  });

function upstreamDoc(list: Entry[], options: { count?: number; latest?: boolean } = {}): string {
  const latest = new Map<string, Entry>();
  for (const e of list) if (!latest.has(e.name) || latest.get(e.name)!.version < e.version) latest.set(e.name, e);
  return JSON.stringify({
    servers: list.map((e) => ({ server: { name: e.name, version: e.version, description: e.description }, _meta: { 'io.modelcontextprotocol.registry/official': { status: 'active', isLatest: options.latest === false ? false : latest.get(e.name) === e } } })),
    metadata: { count: options.count ?? list.length },
  });
}

function toolhiveDoc(list: Entry[]): string {
  return JSON.stringify({ version: '1.0.0', last_updated: '2026-01-01T00:00:00Z', servers: Object.fromEntries([...new Set(list.map((e) => e.name))].map((n) => [n.split('/')[1], { image: 'x' }])), remote_servers: {} });
}

let published = 0;
/** publishes a snapshot of `list` and reads it back as the chaos run does */
async function publish(list: Entry[], files: { upstream?: string; toolhive?: string } = {}, counts?: Partial<SnapshotPointer['counts']>): Promise<StoredSnapshot> {
  const current = await store.get(pointerKey(ref));
  const hash = hashOf(`snap-${++published}`);
  const names = new Set(list.map((e) => e.name)).size;
  await publishSnapshot(store, ref, {
    hash,
    files: { upstream: enc.encode(files.upstream ?? upstreamDoc(list)), toolhive: enc.encode(files.toolhive ?? toolhiveDoc(list)) },
    pointer: pointerFields({ syncedAt: `2026-01-01T00:00:${String(published).padStart(2, '0')}Z`, counts: { servers: names, versions: list.length, invalid: 0, filteredOut: 0, ...counts } }),
    expectedPointerEtag: current && current !== 'not-modified' ? current.etag : null,
  });
  return read();
}

async function read(): Promise<StoredSnapshot> {
  const object = await store.get(pointerKey(ref));
  assert.ok(object && object !== 'not-modified');
  const pointer = JSON.parse(new TextDecoder().decode(object.body)) as SnapshotPointer;
  const objects = new Map<string, Uint8Array | null>();
  for (const k of keysNamed(pointer, `registries/${ref.namespace}/${ref.name}/`)) {
    const o = await store.get(k);
    objects.set(k, o && o !== 'not-modified' ? o.body : null);
  }
  return { ref, pointerKey: pointerKey(ref), pointerBytes: object.body, pointerEtag: object.etag, objects };
}

function only(violations: Violation[], invariant: Violation['invariant'], pattern: RegExp): void {
  assert.ok(violations.length > 0, `expected a ${invariant} violation`);
  for (const v of violations) assert.equal(v.invariant, invariant);
  assert.ok(
    violations.some((v) => pattern.test(v.message)),
    `a message matching ${pattern}: ${violations.map((v) => v.message).join(' | ')}`,
  );
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpreg-invariants-'));
  store = createFsStore({ dir, durable: false });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('pointer-complete: holds for a whole snapshot, fails for a missing, truncated or miscounted object and a corrupt pointer', async () => {
  const list = entries('a 1.0.0', 'a 1.1.0', 'b 1.0.0');
  const good = await publish(list);
  const ok = checkPointerComplete(good);
  assert.deepEqual(ok.violations, []);
  assert.deepEqual(ok.snapshot?.entries, list);

  const pointer = JSON.parse(new TextDecoder().decode(good.pointerBytes)) as SnapshotPointer;
  const missing = new Map(good.objects);
  missing.set(pointer.objects.toolhive, null);
  only(checkPointerComplete({ ...good, objects: missing }).violations, 'pointer-complete', /toolhive\.json .* not in the store/);

  const truncated = new Map(good.objects);
  const bytes = good.objects.get(pointer.objects.upstream)!;
  truncated.set(pointer.objects.upstream, bytes.subarray(0, Math.floor(bytes.length / 2)));
  only(checkPointerComplete({ ...good, objects: truncated }).violations, 'pointer-complete', /not a whole list document/);

  only(checkPointerComplete(await publish(list, {}, { versions: 4 })).violations, 'pointer-complete', /counts 4 versions, upstream\.json holds 3/);
  only(checkPointerComplete(await publish(list, { upstream: upstreamDoc(list, { latest: false }) })).violations, 'pointer-complete', /without exactly one isLatest/);
  only(checkPointerComplete(await publish(list, { toolhive: toolhiveDoc(entries('a 1.0.0')) })).violations, 'pointer-complete', /toolhive\.json holds 1/);
  only(checkPointerComplete({ ...good, pointerBytes: enc.encode('{"apiVersion":"mcpreg/v1"') }).violations, 'pointer-complete', /not a usable pointer/);
});

test('versions-exact: finds the revision served (the latest of equal ones), fails on a lost, invented or duplicated version', () => {
  const r0 = entries('a 1.0.0', 'b 1.0.0');
  const r1 = entries('a 1.0.0', 'b 1.0.0', 'b 1.1.0');
  const r2 = entries('a 1.0.0', 'b 1.0.0');
  assert.deepEqual(checkVersions(REG, entries('b 1.0.0', 'a 1.0.0'), [r0, r1, r2]), { revision: 2, violations: [] });
  assert.deepEqual(checkVersions(REG, r1, [r0, r1, r2]), { revision: 1, violations: [] });
  only(checkVersions(REG, entries('a 1.0.0', 'b 1.1.0'), [r0, r1]).violations, 'versions-exact', /missing io\.github\.t\/b@1\.0\.0/);
  only(checkVersions(REG, entries('a 1.0.0', 'b 1.0.0', 'c 9.9.9'), [r0, r1]).violations, 'versions-exact', /unexpected io\.github\.t\/c@9\.9\.9/);
  only(checkVersions(REG, entries('a 1.0.0 old', 'b 1.0.0'), [r0]).violations, 'versions-exact', /none of the 1 revisions/);
  only(checkVersions(REG, entries('a 1.0.0', 'a 1.0.0', 'b 1.0.0'), [r0]).violations, 'versions-exact', /more than once: io\.github\.t\/a@1\.0\.0 ×2/);
});

test('no-rollback and history-kept: fail when an older revision comes back or the replaced snapshot is not in the history', async () => {
  const first = checkPointerComplete(await publish(entries('a 1.0.0'))).snapshot!;
  const second = checkPointerComplete(await publish(entries('a 1.0.0', 'a 2.0.0'))).snapshot!;
  const was = { hash: first.pointer.hash, revision: 0 };
  assert.deepEqual(checkProgress(REG, was, { hash: second.pointer.hash, revision: 1 }, second.pointer), []);
  assert.deepEqual(checkProgress(REG, undefined, { hash: second.pointer.hash, revision: 1 }, second.pointer), []);
  only(checkProgress(REG, { hash: second.pointer.hash, revision: 1 }, { hash: first.pointer.hash, revision: 0 }, { ...first.pointer, history: [{ hash: second.pointer.hash, syncedAt: 'x' }] }), 'no-rollback', /serving revision 0 .* after revision 1/);
  only(checkProgress(REG, was, { hash: second.pointer.hash, revision: 1 }, { ...second.pointer, history: [] }), 'history-kept', /does not name it/);
});

test('query-serves-pointer: holds when the API serves the snapshot, fails on another hash, other versions, other bytes or an error', async () => {
  const snapshot = checkPointerComplete(await publish(entries('a 1.0.0', 'b 1.0.0'))).snapshot as CheckedSnapshot;
  const p = snapshot.pointer;
  const good: QueryObservation = { info: { status: 200, hash: p.hash, serverCount: 2, versionCount: 2 }, entries: [...snapshot.entries].reverse(), toolhive: { status: 200, body: snapshot.toolhive } };
  assert.deepEqual(checkQuery(REG, snapshot, good), []);
  only(checkQuery(REG, snapshot, { ...good, info: { ...good.info, hash: hashOf('old') } }), 'query-serves-pointer', /serves snapshot .* the pointer names/);
  only(checkQuery(REG, snapshot, { ...good, info: { ...good.info, versionCount: 3 } }), 'query-serves-pointer', /3 versions/);
  only(checkQuery(REG, snapshot, { ...good, entries: entries('a 1.0.0') }), 'query-serves-pointer', /missing io\.github\.t\/b@1\.0\.0/);
  only(checkQuery(REG, snapshot, { ...good, entries: null, listError: 'page 1: HTTP 500' }), 'query-serves-pointer', /HTTP 500/);
  only(checkQuery(REG, snapshot, { ...good, toolhive: { status: 200, body: enc.encode('{}') } }), 'query-serves-pointer', /not the snapshot's toolhive\.json/);
  only(checkQuery(REG, snapshot, { ...good, info: { status: 404 } }), 'query-serves-pointer', /answered 404/);
});

test('status-truthful: claims only published snapshots; exact names the one served with its count and Ready', async () => {
  const old = checkPointerComplete(await publish(entries('a 1.0.0'))).snapshot!.pointer;
  const now = checkPointerComplete(await publish(entries('a 1.0.0', 'b 1.0.0'))).snapshot!.pointer;
  const ready = [{ type: 'Ready', status: 'True', reason: 'Synced' }];
  const exact = { phase: 'Ready', serverCount: 2, snapshot: { hash: now.hash }, conditions: ready };
  assert.deepEqual(checkStatus(REG, exact, now, 'exact'), []);
  assert.deepEqual(checkStatus(REG, { ...exact, serverCount: 1, snapshot: { hash: old.hash } }, now, 'claims'), [], 'a stale claim of a published snapshot is allowed while its writer could not write');
  only(checkStatus(REG, { ...exact, snapshot: { hash: hashOf('never') } }, now, 'claims'), 'status-truthful', /never published/);
  only(checkStatus(REG, { ...exact, snapshot: { hash: old.hash } }, now, 'exact'), 'status-truthful', /claims snapshot .* but .* is served/);
  only(checkStatus(REG, { ...exact, serverCount: 5 }, now, 'exact'), 'status-truthful', /says 5 servers/);
  only(checkStatus(REG, { ...exact, conditions: [{ type: 'Ready', status: 'False', reason: 'Syncing' }] }, now, 'exact'), 'status-truthful', /Ready=False/);
  only(checkStatus(REG, exact, null, 'claims'), 'status-truthful', /no snapshot is published/);
  assert.deepEqual(checkStatus(REG, { phase: 'Failed' }, null, 'exact'), []);
});

test('process-returns and converges', () => {
  assert.deepEqual(checkProcess(false, null, 1000), []);
  assert.deepEqual(checkProcess(true, 300, 1000), []);
  only(checkProcess(true, null, 1000), 'process-returns', /never/);
  only(checkProcess(true, 1500, 1000), 'process-returns', /1500 ms/);
  assert.deepEqual(checkConverged(REG, 4, 4, 10), []);
  only(checkConverged(REG, 3, 4, 30_000), 'converges', /serves revision 3, not the latest \(4\)/);
  only(checkConverged(REG, undefined, 4, 30_000), 'converges', /no known revision/);
});
