import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareTimestamps, maxUpdatedAt, mergeIncremental, OFFICIAL_KEY } from './merge.ts';

type Status = 'active' | 'deprecated' | 'deleted';
function row(name: string, version: string, o: { status?: Status; isLatest?: boolean; publishedAt?: string; updatedAt?: string } = {}) {
  const publishedAt = o.publishedAt ?? '2026-01-01T00:00:00Z';
  return {
    server: { name, version, description: `${name} ${version}` },
    _meta: { [OFFICIAL_KEY]: { status: o.status ?? 'active', publishedAt, updatedAt: o.updatedAt ?? publishedAt, isLatest: o.isLatest ?? false } },
  };
}
const meta = (e: unknown) => (e as { _meta: Record<string, { status: string; isLatest: boolean }> })._meta[OFFICIAL_KEY]!;
const latestOf = (entries: unknown[], name: string) =>
  entries.filter((e) => (e as { server: { name: string } }).server.name === name && meta(e).isLatest).map((e) => (e as { server: { version: string } }).server.version);
const keys = (entries: unknown[]) => entries.map((e) => `${(e as { server: { name: string; version: string } }).server.name}@${(e as { server: { version: string } }).server.version}`);

describe('compareTimestamps / maxUpdatedAt', () => {
  it('orders by instant, whatever the precision or offset', () => {
    assert.ok(compareTimestamps('2026-03-01T10:00:00Z', '2026-03-01T10:00:00.1Z') < 0); // string order says the opposite
    assert.ok(compareTimestamps('2026-03-01T10:00:00.123456Z', '2026-03-01T10:00:00.123455Z') > 0);
    assert.equal(compareTimestamps('2026-03-01T12:00:00+02:00', '2026-03-01T10:00:00Z'), 0);
    assert.ok(compareTimestamps('garbage', '2026-03-01T10:00:00Z') < 0);
  });
  it('keeps the server text of the greatest updatedAt', () => {
    const a = row('a/x', '1', { updatedAt: '2026-03-01T10:00:00Z' });
    const b = row('a/x', '2', { updatedAt: '2026-03-01T10:00:00.000001Z' });
    assert.equal(maxUpdatedAt([b, a]), '2026-03-01T10:00:00.000001Z');
    assert.equal(maxUpdatedAt([], '2025-01-01T00:00:00Z'), '2025-01-01T00:00:00Z');
    assert.equal(maxUpdatedAt([a], '2027-01-01T00:00:00Z'), '2027-01-01T00:00:00Z');
  });
});

describe('mergeIncremental', () => {
  const base = [
    row('io.x/a', '1.0.0'),
    row('io.x/a', '1.1.0', { isLatest: true }),
    row('io.x/b', '2.0.0', { isLatest: true }),
  ];

  it('adds a new version that the peer flags latest, and clears the old flag', () => {
    const { entries } = mergeIncremental(base, [row('io.x/a', '1.2.0', { isLatest: true })]);
    assert.deepEqual(keys(entries), ['io.x/a@1.0.0', 'io.x/a@1.1.0', 'io.x/a@1.2.0', 'io.x/b@2.0.0']);
    assert.deepEqual(latestOf(entries, 'io.x/a'), ['1.2.0']);
    assert.deepEqual(latestOf(entries, 'io.x/b'), ['2.0.0']);
  });

  it('an older version published later (not flagged) does not take the flag', () => {
    const { entries } = mergeIncremental(base, [row('io.x/a', '0.9.0', { isLatest: false })]);
    assert.deepEqual(latestOf(entries, 'io.x/a'), ['1.1.0']);
  });

  it('a deleted latest hands the flag to the highest non-deleted version and stays in the snapshot', () => {
    const prev = [...base, row('io.x/a', '1.0.5')];
    const { entries } = mergeIncremental(prev, [row('io.x/a', '1.1.0', { status: 'deleted', isLatest: true })]);
    assert.deepEqual(latestOf(entries, 'io.x/a'), ['1.0.5']);
    const deleted = entries.find((e) => keys([e])[0] === 'io.x/a@1.1.0');
    assert.equal(meta(deleted).status, 'deleted');
    assert.equal(meta(deleted).isLatest, false);
  });

  it('when every version is deleted the highest deleted keeps the flag', () => {
    const { entries } = mergeIncremental(base, [row('io.x/b', '2.0.0', { status: 'deleted', isLatest: true })]);
    assert.deepEqual(latestOf(entries, 'io.x/b'), ['2.0.0']);
    assert.equal(meta(entries.at(-1)).status, 'deleted');
  });

  it('deprecation keeps the row and the flag', () => {
    const { entries } = mergeIncremental(base, [row('io.x/a', '1.1.0', { status: 'deprecated', isLatest: true })]);
    assert.deepEqual(latestOf(entries, 'io.x/a'), ['1.1.0']);
    assert.equal(meta(entries[1]).status, 'deprecated');
  });

  it('a status change of a non-latest row (stale isLatest false) keeps the current holder', () => {
    const { entries } = mergeIncremental(base, [row('io.x/a', '1.0.0', { status: 'deprecated' })]);
    assert.deepEqual(latestOf(entries, 'io.x/a'), ['1.1.0']);
  });

  it('non-semver versions: the most recently published wins when recomputing', () => {
    const prev = [
      row('io.x/c', 'alpha', { publishedAt: '2026-01-01T00:00:00Z' }),
      row('io.x/c', 'beta', { publishedAt: '2026-02-01T00:00:00Z' }),
      row('io.x/c', 'gamma', { publishedAt: '2026-03-01T00:00:00Z', isLatest: true }),
    ];
    const { entries } = mergeIncremental(prev, [row('io.x/c', 'gamma', { publishedAt: '2026-03-01T00:00:00Z', status: 'deleted', isLatest: true })]);
    assert.deepEqual(latestOf(entries, 'io.x/c'), ['beta']);
  });

  it('semver precedence beats publish order (and semver beats non-semver)', () => {
    const prev = [
      row('io.x/d', '2.0.0', { publishedAt: '2026-01-01T00:00:00Z' }),
      row('io.x/d', '10.0.0-rc.1', { publishedAt: '2026-03-01T00:00:00Z' }),
      row('io.x/d', 'nightly', { publishedAt: '2026-04-01T00:00:00Z' }),
      row('io.x/d', '10.0.0', { publishedAt: '2026-02-01T00:00:00Z', isLatest: true }),
    ];
    const { entries } = mergeIncremental(prev, [row('io.x/d', '10.0.0', { publishedAt: '2026-02-01T00:00:00Z', status: 'deleted', isLatest: true })]);
    assert.deepEqual(latestOf(entries, 'io.x/d'), ['10.0.0-rc.1']);
  });

  it('exactly one latest per name, output sorted by (name, version) with <, rows without keys skipped', () => {
    const prev = [row('io.x/z', '1.0.0', { isLatest: true }), row('io.x/z', '2.0.0', { isLatest: true }), row('io.x/y', '1.0.0')];
    const { entries, skipped } = mergeIncremental(prev, [{ server: { name: 'io.x/q' } }, row('io.x/Y', '1.0.0', { isLatest: true })]);
    assert.equal(skipped, 1);
    assert.deepEqual(keys(entries), ['io.x/Y@1.0.0', 'io.x/y@1.0.0', 'io.x/z@1.0.0', 'io.x/z@2.0.0']);
    assert.deepEqual(latestOf(entries, 'io.x/z'), ['2.0.0']);
    assert.deepEqual(latestOf(entries, 'io.x/y'), ['1.0.0']);
  });

  it('does not mutate its inputs', () => {
    const prev = structuredClone(base);
    const delta = [row('io.x/a', '1.2.0', { isLatest: true })];
    const snapshot = JSON.stringify([prev, delta]);
    mergeIncremental(prev, delta);
    assert.equal(JSON.stringify([prev, delta]), snapshot);
  });
});
