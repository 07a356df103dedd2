import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, SYNC_TRIGGER_ANNOTATION } from './decide.ts';
import type { KubeObject } from '../kube/objects.ts';

const now = new Date('2026-01-01T12:00:00Z');
function reg(meta: Partial<KubeObject['metadata']>, status?: object, spec: object = {}): KubeObject {
  return { apiVersion: 'toolhive.stacklok.io/v1alpha1', kind: 'MCPRegistry', metadata: { name: 'r', namespace: 'ns', generation: 1, ...meta }, spec, status };
}

test('a new registry (no status) syncs on its add event', () => {
  assert.deepEqual(decide(reg({}), 'event', now), { action: 'sync', reason: 'new-generation' });
});

test('status-only updates are skipped', () => {
  const d = decide(reg({ generation: 3 }, { observedGeneration: 3, nextSyncTime: '2026-01-01T11:00:00Z' }), 'event', now);
  assert.equal(d.action, 'skip');
});

test('a new trigger annotation syncs once; a recorded one does not', () => {
  const fresh = reg({ annotations: { [SYNC_TRIGGER_ANNOTATION]: 'a' } }, { observedGeneration: 1, lastManualSyncTrigger: 'b' });
  assert.deepEqual(decide(fresh, 'event', now), { action: 'sync', reason: 'manual-trigger', trigger: 'a' });
  const seen = reg({ annotations: { [SYNC_TRIGGER_ANNOTATION]: 'a' } }, { observedGeneration: 1, lastManualSyncTrigger: 'a' });
  assert.equal(decide(seen, 'event', now).action, 'skip');
});

test('the ping syncs only registries that are due', () => {
  const due = reg({}, { observedGeneration: 1, nextSyncTime: '2026-01-01T11:59:59Z' });
  const notDue = reg({}, { observedGeneration: 1, nextSyncTime: '2026-01-01T12:00:01Z' });
  assert.deepEqual(decide(due, 'ping', now), { action: 'sync', reason: 'due' });
  assert.equal(decide(notDue, 'ping', now).action, 'skip');
});

test('a disabled policy syncs only on manual triggers', () => {
  const disabled = { syncPolicy: { enabled: false } };
  assert.equal(decide(reg({ generation: 2 }, { observedGeneration: 1 }, disabled), 'ping', now).action, 'skip');
  assert.equal(decide(reg({ annotations: { [SYNC_TRIGGER_ANNOTATION]: 'x' } }, {}, disabled), 'event', now).action, 'sync');
});

test('a registry being deleted is cleaned up, whatever else is pending', () => {
  const deleting = reg({ deletionTimestamp: '2026-01-01T11:00:00Z', annotations: { [SYNC_TRIGGER_ANNOTATION]: 'x' } });
  assert.deepEqual(decide(deleting, 'event', now), { action: 'cleanup' });
});
