import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instantKey, isRfc3339 } from './time.ts';

test('accepts RFC 3339 with Z, offsets and 0–9 fractional digits', () => {
  for (const t of ['2025-08-07T13:15:04Z', '2025-08-07T13:15:04.280Z', '2025-08-07T13:15:04.123456789Z', '2025-08-07T15:15:04+02:00', '2025-08-07T08:15:04.5-05:00']) {
    assert.ok(isRfc3339(t), t);
  }
});

test('rejects what Go time.RFC3339 rejects', () => {
  for (const t of ['2025-08-07', '2025-08-07 13:15:04Z', '2025-08-07T13:15:04', '2025-08-07t13:15:04Z', '2025-08-07T13:15:04z', '2025-13-01T00:00:00Z', '2025-02-30T00:00:00Z', '2025-08-07T24:00:00Z', '2025-08-07T13:60:00Z', '2025-08-07T13:15:60Z', '2025-08-07T13:15:04.Z', '0000-01-01T00:00:00+01:00', '2025-08-07T13:15:04.', '2025-08-07T13:15:04 02:00', 'yesterday', '']) {
    assert.equal(instantKey(t), null, t);
  }
});

test('keys order instants, across offsets and below the millisecond', () => {
  const a = instantKey('2025-08-07T13:15:04.123456Z')!;
  const b = instantKey('2025-08-07T13:15:04.123457Z')!;
  const c = instantKey('2025-08-07T15:15:04.123457+02:00')!;
  const d = instantKey('2025-08-07T13:15:04.1234571Z')!;
  assert.ok(a < b);
  assert.equal(b, c);
  assert.ok(b < d);
  assert.equal(instantKey('2025-08-07T13:15:04Z'), instantKey('2025-08-07T13:15:04.000Z'));
  assert.ok(instantKey('1999-12-31T23:59:59Z')! < instantKey('2000-01-01T00:00:00Z')!);
  assert.ok(instantKey('2024-02-29T00:00:00Z'));
});

test('accepts what RFC 3339 and the official server accept: year 0000, more than nine fractional digits', () => {
  for (const t of ['0000-01-01T00:00:00Z', '0000-02-29T12:00:00Z', '0001-01-01T00:00:00-01:00', '2025-08-07T13:15:04.1234567890Z', '2025-08-07T13:15:04.123456789012345678Z']) {
    assert.ok(isRfc3339(t), t);
  }
  assert.equal(instantKey('0001-02-29T00:00:00Z'), null, '0001 is no leap year');
  assert.ok(instantKey('0000-12-31T23:59:59Z')! < instantKey('0001-01-01T00:00:00Z')!);
  assert.equal(instantKey('2025-08-07T13:15:04.1234567899Z'), instantKey('2025-08-07T13:15:04.123456789Z'), 'beyond nanoseconds: not ordered, as Go truncates');
  assert.equal(instantKey('0000-01-01T00:00:00Z'), '000000000000.000000000');
});
