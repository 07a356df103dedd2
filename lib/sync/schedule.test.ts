import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncPolicy } from '../kube/mcpregistry-spec.ts';
import { backoffMs, isDue, nextSyncTime } from './schedule.ts';
import { formatDuration, parseDuration } from './duration.ts';

const t0 = new Date('2026-01-01T00:00:00Z');
const policy = SyncPolicy.parse({ interval: '1h', retry: { maxRetries: 3, backoffInterval: '30s' } });

test('durations parse Go-style compound values and reject garbage', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  for (const bad of ['', '10', 'h', '5x', '1h 30m', '-1s', '1s2']) {
    assert.throws(() => parseDuration(bad, 'spec.x'), (e: Error) => e.message.includes('not a duration'), bad);
  }
  assert.equal(formatDuration(90_000), '90s');
  assert.equal(formatDuration(3_600_000), '1h');
});

test('after a success the next sync is one interval after the attempt', () => {
  assert.equal(nextSyncTime({ policy, attemptAt: t0, failures: 0, random: 0.5 })?.toISOString(), '2026-01-01T01:00:00.000Z');
});

test('failures back off exponentially from backoffInterval, then fall back to the interval', () => {
  const at = (failures: number) => nextSyncTime({ policy, attemptAt: t0, failures, random: 0.5 })!.getTime() - t0.getTime();
  assert.deepEqual([1, 2, 3].map(at), [30_000, 60_000, 120_000]);
  assert.equal(at(4), 3_600_000);
});

test('jitter stays within ±20 % of the backoff', () => {
  assert.equal(backoffMs(policy, 1, 0), 24_000);
  assert.equal(backoffMs(policy, 1, 0.999999), 36_000);
});

test('a disabled policy has no next sync', () => {
  const disabled = SyncPolicy.parse({ enabled: false });
  assert.equal(nextSyncTime({ policy: disabled, attemptAt: t0, failures: 0, random: 0 }), null);
});

test('isDue compares against the recorded next sync time', () => {
  assert.equal(isDue(undefined, t0), true);
  assert.equal(isDue('2026-01-01T00:00:01Z', t0), false);
  assert.equal(isDue('2026-01-01T00:00:00Z', t0), true);
  assert.equal(isDue('garbage', t0), true);
});
