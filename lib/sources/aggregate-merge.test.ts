import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OFFICIAL_META_KEY, type ServerResponse } from '../formats/upstream-schema.ts';
import { createNameMerger, MEMBER_META_KEY, memberOf, namesPerMember, serveWithOwnTimestamps, TOMBSTONE_RETENTION_MS } from './aggregate-merge.ts';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-02-01T00:00:00Z';
const T2 = '2026-03-01T00:00:00Z';

function row(name: string, version: string, options: { description?: string; latest?: boolean; status?: 'active' | 'deprecated' | 'deleted'; at?: string } = {}): ServerResponse {
  return {
    server: { name, version, description: options.description ?? `${name} ${version}` },
    _meta: { [OFFICIAL_META_KEY]: { status: options.status ?? 'active', publishedAt: options.at ?? T0, updatedAt: options.at ?? T0, isLatest: options.latest ?? false } },
  };
}

const a = { namespace: 'ns', name: 'a' };
const b = { namespace: 'ns', name: 'b' };
const c = { namespace: 'other', name: 'c' };
const keys = (rows: readonly ServerResponse[]) => rows.map((r) => `${r.server.name}@${r.server.version}<${memberOf(r)}`);
const official = (r: ServerResponse) => r._meta![OFFICIAL_META_KEY]!;

test('a name is taken whole from the first member that has it; later members only add new names', () => {
  const merger = createNameMerger();
  assert.deepEqual(merger.add(a, [row('x/one', '1.0.0'), row('x/one', '2.0.0', { latest: true })]), { taken: 1, shadowed: 0, rows: 2 });
  // b has x/one in other versions (never mixed in) and x/two
  assert.deepEqual(merger.add(b, [row('x/one', '3.0.0', { latest: true }), row('x/two', '1.0.0', { latest: true })]), { taken: 1, shadowed: 1, rows: 1 });
  assert.deepEqual(merger.add(c, [row('x/one', '1.0.0'), row('x/two', '9.0.0'), row('x/three', '1.0.0', { latest: true })]), { taken: 1, shadowed: 2, rows: 1 });
  const rows = merger.finish();
  assert.deepEqual(keys(rows), ['x/one@1.0.0<ns/a', 'x/one@2.0.0<ns/a', 'x/three@1.0.0<other/c', 'x/two@1.0.0<ns/b']);
  assert.deepEqual(rows[0]!._meta![MEMBER_META_KEY], { namespace: 'ns', name: 'a' });
  assert.deepEqual([...namesPerMember(rows)], [
    ['ns/a', 1],
    ['other/c', 1],
    ['ns/b', 1],
  ]);
});

test('first sync: every row new, updatedAt = now, publishedAt the member\'s (never later than now)', () => {
  const live = [row('x/one', '1.0.0', { latest: true, at: T0 }), row('x/two', '1.0.0', { latest: true, at: '2099-01-01T00:00:00Z' })];
  const { entries, tombstones } = serveWithOwnTimestamps(live, { now: T1 });
  assert.equal(tombstones, 0);
  assert.deepEqual(entries.map((e) => [official(e).publishedAt, official(e).updatedAt]), [
    [T0, T1],
    [T1, T1],
  ]);
  assert.deepEqual(Object.keys(official(entries[0]!)), ['status', 'publishedAt', 'updatedAt', 'isLatest']);
});

function synced(rows: ServerResponse[], member: { namespace: string; name: string }, now: string, previous?: ServerResponse[]) {
  const merger = createNameMerger();
  merger.add(member, structuredClone(rows));
  return serveWithOwnTimestamps(merger.finish(), { now, previous: previous && structuredClone(previous) }).entries;
}

test('unchanged rows keep their timestamps; a changed row alone gets updatedAt = now', () => {
  const first = synced([row('x/one', '1.0.0', { latest: true }), row('x/two', '1.0.0', { latest: true })], a, T1);
  // the member edits x/two and bumps its own timestamps of x/one without changing it
  const second = synced([row('x/one', '1.0.0', { latest: true, at: T2 }), row('x/two', '1.0.0', { latest: true, description: 'edited' })], a, T2, first);
  assert.deepEqual(second.map((e) => [e.server.name, official(e).updatedAt]), [
    ['x/one', T1],
    ['x/two', T2],
  ]);
  assert.equal(official(second[1]!).publishedAt, official(first[1]!).publishedAt);
  // nothing changed at all: the same rows, the same bytes
  assert.deepEqual(synced([row('x/one', '1.0.0', { latest: true, at: T2 }), row('x/two', '1.0.0', { latest: true, description: 'edited' })], a, '2026-04-01T00:00:00Z', second), second);
});

test('a name that moves to another member changes even when the document is the same', () => {
  const first = synced([row('x/one', '1.0.0', { latest: true })], b, T1);
  const second = synced([row('x/one', '1.0.0', { latest: true })], a, T2, first);
  assert.equal(official(second[0]!).updatedAt, T2);
  assert.equal(official(second[0]!).publishedAt, official(first[0]!).publishedAt);
  assert.equal(memberOf(second[0]!), 'ns/a');
});

test('versions no longer served become tombstones (updatedAt = now), so updated_since shows the removal', () => {
  const first = synced([row('x/one', '1.0.0'), row('x/one', '2.0.0', { latest: true }), row('x/gone', '1.0.0', { latest: true })], b, T1);
  // now from another member that has only 1.0.0 of x/one; x/gone is gone
  const second = synced([row('x/one', '1.0.0', { latest: true })], a, T2, first);
  assert.deepEqual(
    second.map((e) => [e.server.name, e.server.version, official(e).status, official(e).updatedAt, official(e).isLatest, memberOf(e)]),
    [
      ['x/gone', '1.0.0', 'deleted', T2, true, 'ns/b'],
      ['x/one', '1.0.0', 'active', T2, true, 'ns/a'],
      ['x/one', '2.0.0', 'deleted', T2, false, 'ns/b'],
    ],
  );
  // kept unchanged while within the retention, dropped after it
  const later = '2026-03-05T00:00:00Z';
  assert.deepEqual(synced([row('x/one', '1.0.0', { latest: true })], a, later, second), second);
  const expired = new Date(Date.parse(T2) + TOMBSTONE_RETENTION_MS + 1000).toISOString();
  assert.deepEqual(keys(synced([row('x/one', '1.0.0', { latest: true })], a, expired, second)), ['x/one@1.0.0<ns/a']);
  // a version that comes back is live again, with a new updatedAt and its first publishedAt
  const back = synced([row('x/one', '1.0.0'), row('x/one', '2.0.0', { latest: true })], a, later, second);
  const v2 = back.find((e) => e.server.version === '2.0.0')!;
  assert.deepEqual([official(v2).status, official(v2).updatedAt, official(v2).publishedAt, official(v2).isLatest], ['active', later, official(first[2]!).publishedAt, true]);
  assert.equal(back.filter((e) => e.server.name === 'x/one' && official(e).isLatest).length, 1);
});
