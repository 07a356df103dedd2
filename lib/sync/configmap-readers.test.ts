import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planReaders, READERS_ANNOTATION, withReader } from './configmap-readers.ts';

const LABEL = 'toolhive.stacklok.io/registry-source';

test('an unlabelled ConfigMap gets the label and a readers annotation that says the label is ours', () => {
  assert.deepEqual(planReaders({}, ['b', 'a']), {
    kind: 'patch',
    userLabel: false,
    patch: { labels: { [LABEL]: 'true' }, annotations: { [READERS_ANNOTATION]: '{"readers":["a","b"],"labelAdded":true}' } },
  });
});

test('a label the user set is recorded as theirs, and only the annotation goes at the end', () => {
  const userSet = { labels: { [LABEL]: 'true' } };
  const plan = planReaders(userSet, ['a']);
  assert.deepEqual(plan, { kind: 'patch', userLabel: true, patch: { annotations: { [READERS_ANNOTATION]: '{"readers":["a"],"labelAdded":false}' } } });
  const annotated = { ...userSet, annotations: { [READERS_ANNOTATION]: '{"readers":["a"],"labelAdded":false}' } };
  assert.deepEqual(planReaders(annotated, ['a']), { kind: 'none', userLabel: true });
  assert.deepEqual(planReaders(annotated, []), { kind: 'patch', userLabel: true, patch: { annotations: { [READERS_ANNOTATION]: null } } });
});

test('our label goes with the last reader; nothing to do for a ConfigMap we never touched', () => {
  const ours = { labels: { [LABEL]: 'true' }, annotations: { [READERS_ANNOTATION]: '{"readers":["a"],"labelAdded":true}' } };
  assert.deepEqual(withReader(ours, 'a', false), []);
  assert.deepEqual(planReaders(ours, []), { kind: 'patch', userLabel: false, patch: { annotations: { [READERS_ANNOTATION]: null }, labels: { [LABEL]: null } } });
  assert.deepEqual(planReaders({ labels: { [LABEL]: 'true' } }, []), { kind: 'none', userLabel: true });
  assert.deepEqual(withReader(ours, 'b', true), ['a', 'b']);
});

test('a label set to another value is left alone, as a conflict', () => {
  const plan = planReaders({ labels: { [LABEL]: 'false' } }, ['a']);
  assert.equal(plan.kind, 'conflict');
});
