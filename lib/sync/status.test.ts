import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../errors.ts';
import { SyncPolicy } from '../kube/mcpregistry-spec.ts';
import type { SyncResult } from './pipeline.ts';
import { invalidSpecStatus, reasonOf, resultStatus, syncingStatus } from './status.ts';

const now = new Date('2026-05-01T10:00:00Z');
const policy = SyncPolicy.parse({ interval: '1h', retry: { maxRetries: 2, backoffInterval: '10s' } });
const hash = 'a'.repeat(64);
const counts = { fetched: 12, valid: 10, invalid: 2, filteredOut: 3, published: 7, servers: 5 };

function published(): SyncResult {
  return {
    outcome: 'published',
    ref: { namespace: 'ns', name: 'r' },
    counts,
    hash,
    revision: '"e1"',
    invalid: [
      { path: 'servers.x.image', server: 'x', message: 'Required', code: 'invalid_document' },
      { path: 'servers.y.transport', server: 'y', message: 'Invalid option', code: 'invalid_document' },
    ],
    objectsWritten: 3,
    durationMs: 5,
    startedAt: '2026-05-01T09:59:59.000Z',
    pointer: {
      apiVersion: 'mcpreg/v1',
      namespace: 'ns',
      name: 'r',
      hash,
      revision: '"e1"',
      format: 'toolhive',
      filterHash: 'f',
      syncedAt: now.toISOString(),
      counts: { servers: 5, versions: 7, invalid: 2, filteredOut: 3 },
      objects: { toolhive: 'x', upstream: 'y' },
    },
  };
}

function failed(code: 'source_unavailable' | 'invalid_json'): SyncResult {
  return { outcome: 'failed', ref: { namespace: 'ns', name: 'r' }, counts: { ...counts, published: 0 }, invalid: [], objectsWritten: 0, durationMs: 3, startedAt: now.toISOString(), error: new RegistryError(code, 'boom', { where: { source: 'url' } }) };
}

test('reasons are CamelCase error codes', () => {
  assert.equal(reasonOf('source_not_found'), 'SourceNotFound');
});

test('a publish with invalid entries is Ready and Synced but not Valid, listing what was left out', () => {
  const s = resultStatus({ previous: undefined, generation: 4, policy, now, random: 0.5 }, published());
  assert.equal(s.phase, 'Ready');
  assert.equal(s.observedGeneration, 4);
  assert.equal(s.serverCount, 5);
  assert.equal(s.invalidCount, 2);
  assert.equal(s.syncAttempts, 0);
  assert.equal(s.snapshot?.hash, hash);
  assert.equal(s.snapshot?.key, `registries/ns/r/snapshots/${hash}/`);
  assert.equal(s.nextSyncTime, '2026-05-01T10:59:59Z');
  const valid = s.conditions?.find((c) => c.type === 'Valid');
  assert.equal(valid?.status, 'False');
  assert.match(valid!.message, /server "x" servers\.x\.image: Required/);
  assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
});

test('a failure after a success keeps Ready (stale snapshot) and schedules the retry', () => {
  const ok = resultStatus({ previous: undefined, generation: 1, policy, now, random: 0.5 }, published());
  const s = resultStatus({ previous: ok, generation: 1, policy, now, random: 0.5 }, failed('source_unavailable'));
  assert.equal(s.phase, 'Failed');
  assert.equal(s.syncAttempts, 1);
  assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.reason, 'StaleSnapshot');
  assert.equal(s.conditions?.find((c) => c.type === 'SourceAvailable')?.status, 'False');
  assert.equal(s.conditions?.find((c) => c.type === 'Synced')?.message, 'url: boom');
  assert.equal(s.nextSyncTime, '2026-05-01T10:00:10Z');
  assert.equal(s.snapshot?.hash, hash, 'the served snapshot is still named');
});

test('a validation failure with no snapshot is not Ready; the source was available', () => {
  const s = resultStatus({ previous: undefined, generation: 1, policy, now, random: 0.5 }, failed('invalid_json'));
  assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  assert.equal(s.conditions?.find((c) => c.type === 'SourceAvailable')?.status, 'True');
  assert.equal(s.conditions?.find((c) => c.type === 'Valid')?.reason, 'InvalidJson');
});

test('retries exhausted: the next attempt is at the interval and the message says so', () => {
  let s = resultStatus({ previous: undefined, generation: 1, policy, now, random: 0.5 }, failed('source_unavailable'));
  s = resultStatus({ previous: s, generation: 1, policy, now, random: 0.5 }, failed('source_unavailable'));
  assert.equal(s.nextSyncTime, '2026-05-01T10:00:20Z');
  s = resultStatus({ previous: s, generation: 1, policy, now, random: 0.5 }, failed('source_unavailable'));
  assert.equal(s.syncAttempts, 3);
  assert.equal(s.nextSyncTime, '2026-05-01T11:00:00Z');
  assert.match(s.conditions!.find((c) => c.type === 'Synced')!.message, /gave up after 2 retries/);
});

test('syncing marks the phase and the attempt; an unusable spec fails without a schedule', () => {
  const syncing = syncingStatus({ previous: undefined, generation: 2, now });
  assert.equal(syncing.phase, 'Syncing');
  assert.equal(syncing.lastAttemptTime, '2026-05-01T10:00:00Z');
  const bad = invalidSpecStatus({ previous: { ...syncing, nextSyncTime: 'x' }, generation: 2, trigger: 't', now }, 'spec.source.url: Required');
  assert.equal(bad.phase, 'Failed');
  assert.equal(bad.observedGeneration, 2);
  assert.equal(bad.lastManualSyncTrigger, 't');
  assert.equal(bad.nextSyncTime, undefined);
  assert.equal(bad.conditions?.find((c) => c.type === 'Valid')?.reason, 'InvalidSpec');
});
