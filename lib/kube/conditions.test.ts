import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundMessage, getCondition, setCondition } from './conditions.ts';

test('lastTransitionTime changes only when the status changes', () => {
  const t1 = new Date('2026-01-01T00:00:00Z');
  const t2 = new Date('2026-01-01T00:05:00Z');
  let list = setCondition([], { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok' }, t1);
  list = setCondition(list, { type: 'Ready', status: 'True', reason: 'Synced', message: 'still ok' }, t2);
  assert.equal(getCondition(list, 'Ready')?.lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.equal(getCondition(list, 'Ready')?.message, 'still ok');
  list = setCondition(list, { type: 'Ready', status: 'False', reason: 'SyncFailed', message: 'boom' }, t2);
  assert.equal(getCondition(list, 'Ready')?.lastTransitionTime, '2026-01-01T00:05:00Z');
  assert.equal(list.length, 1);
});

test('conditions of other types keep their order', () => {
  const t = new Date('2026-01-01T00:00:00Z');
  let list = setCondition([], { type: 'Ready', status: 'True', reason: 'a', message: '' }, t);
  list = setCondition(list, { type: 'Synced', status: 'True', reason: 'b', message: '' }, t);
  list = setCondition(list, { type: 'Ready', status: 'False', reason: 'c', message: '' }, t);
  assert.deepEqual(list.map((c) => c.type), ['Ready', 'Synced']);
});

test('long messages are bounded', () => {
  assert.equal(boundMessage('x'.repeat(5000)).length, 1024);
  assert.equal(boundMessage('short'), 'short');
});
