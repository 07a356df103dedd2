import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INCLUDE_DELETED_CONFLICT, UPDATED_SINCE_FORMAT, listParamsKey, parseCursor, parseListParams } from './params.ts';

const parse = (q: string) => parseListParams(new URLSearchParams(q));

test('defaults: limit 30, deleted excluded', () => {
  const r = parse('');
  assert.ok(r.ok);
  assert.deepEqual(r.value, { limit: 30, includeDeleted: false });
});

test('limit outside 1..100 or not an integer is a 422 naming query.limit', () => {
  for (const [q, message, value] of [
    ['limit=0', 'expected number >= 1', 0],
    ['limit=101', 'expected number <= 100', 101],
    ['limit=-3', 'expected number >= 1', -3],
    ['limit=abc', 'invalid integer', 'abc'],
    ['limit=1.5', 'invalid integer', '1.5'],
  ] as const) {
    const r = parse(q);
    assert.ok(!r.ok, q);
    assert.equal(r.problem.status, 422);
    assert.equal(r.problem.title, 'Unprocessable Entity');
    assert.deepEqual(r.problem.errors, [{ message, location: 'query.limit', value }]);
  }
  const ok = parse('limit=100');
  assert.ok(ok.ok && ok.value.limit === 100);
});

test('include_deleted takes Go booleans; anything else is a 422', () => {
  for (const [v, want] of [['true', true], ['1', true], ['True', true], ['f', false], ['FALSE', false]] as const) {
    const r = parse(`include_deleted=${v}`);
    assert.ok(r.ok && r.value.includeDeleted === want, v);
  }
  const r = parse('include_deleted=yes&limit=0');
  assert.ok(!r.ok);
  assert.equal(r.problem.errors?.length, 2, 'all schema errors are reported together');
});

test('updated_since: RFC 3339 or 400; implies deleted rows; include_deleted=false conflicts', () => {
  const bad = parse('updated_since=2025-08-07');
  assert.ok(!bad.ok && bad.problem.status === 400 && bad.problem.detail === UPDATED_SINCE_FORMAT);
  // an unencoded + arrives as a space and fails, as upstream
  const plus = parse('updated_since=2025-08-07T13:15:04+02:00');
  assert.ok(!plus.ok && plus.problem.status === 400);
  const encoded = parse('updated_since=2025-08-07T13:15:04%2B02:00');
  assert.ok(encoded.ok && encoded.value.includeDeleted === true && encoded.value.updatedSince);
  const conflict = parse('updated_since=2025-08-07T13:15:04Z&include_deleted=false');
  assert.ok(!conflict.ok && conflict.problem.status === 400 && conflict.problem.detail === INCLUDE_DELETED_CONFLICT);
});

test('updated_since accepts the RFC 3339 values the official server does: year 0000, more than nine fractional digits', () => {
  for (const t of ['0000-01-01T00:00:00Z', '2025-08-07T13:15:04.1234567891234Z']) {
    const r = parse(`updated_since=${t}`);
    assert.ok(r.ok && r.value.updatedSince, t);
  }
  const lower = parse('updated_since=2025-08-07t13:15:04z');
  assert.ok(!lower.ok && lower.problem.status === 400, 'lower-case t/z refused, as Go does');
});

test('cursor splits at the first colon; search is lower-cased; empty values are absent', () => {
  assert.deepEqual(parseCursor('io.x/a:1.0.0:rc'), { name: 'io.x/a', version: '1.0.0:rc' });
  assert.deepEqual(parseCursor('io.x/a'), { name: 'io.x/a' });
  const r = parse('cursor=io.x%2Fa%3A1.0.0&search=GitHub&version=&limit=');
  assert.ok(r.ok);
  assert.deepEqual(r.value, { limit: 30, includeDeleted: false, cursor: { name: 'io.x/a', version: '1.0.0' }, search: 'github' });
});

test('cache keys differ exactly when the result set can differ', () => {
  const k = (q: string) => {
    const r = parse(q);
    assert.ok(r.ok);
    return listParamsKey(r.value);
  };
  assert.equal(k('limit=30'), k(''));
  assert.equal(k('search=ABC'), k('search=abc'));
  assert.notEqual(k('cursor=a'), k('cursor=a:'));
  assert.notEqual(k('search=a&version=b'), k('search=a%26version%3Db'));
});
