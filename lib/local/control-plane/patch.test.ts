import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonPatch, mergePatch, OBJECT_META_MERGE_KEYS, strategicMergePatch } from './patch.ts';

test('JSON merge patch (RFC 7386): merge objects, replace lists, null deletes', () => {
  assert.deepEqual(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2], d: 1 }, { a: { b: null, e: 3 }, l: [3], d: null }), { a: { c: 2, e: 3 }, l: [3] });
  assert.deepEqual(mergePatch({ a: 1 }, 'x'), 'x');
});

test('JSON patch: operations apply in order; a failing test or a bad path is 422, a non-list 400', () => {
  assert.deepEqual(jsonPatch({ a: [1] }, [{ op: 'add', path: '/a/-', value: 2 }, { op: 'copy', from: '/a', path: '/b' }, { op: 'test', path: '/b/1', value: 2 }]), { a: [1, 2], b: [1, 2] });
  assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]), (e: { code: number }) => e.code === 422);
  assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'remove', path: '/x/y' }]), (e: { code: number }) => e.code === 422);
  assert.throws(() => jsonPatch({ a: 1 }, { op: 'add' }), (e: { code: number }) => e.code === 400);
  const original = { a: { b: 1 } };
  jsonPatch(original, [{ op: 'replace', path: '/a/b', value: 2 }]);
  assert.deepEqual(original, { a: { b: 1 } }, 'the input is not modified');
});

test('strategic merge patch: merge keys, primitive sets and directives', () => {
  const keys = { ...OBJECT_META_MERGE_KEYS, secrets: 'name' };
  const live = {
    metadata: { finalizers: ['a'], ownerReferences: [{ uid: '1', name: 'x' }, { uid: '2', name: 'y' }], labels: { k: 'v', drop: 'me' } },
    secrets: [{ name: 's1', extra: 1 }, { name: 's2' }],
    rules: [{ verbs: ['get'] }],
    spec: { a: 1, b: 2 },
  };
  const out = strategicMergePatch(
    live,
    {
      metadata: { finalizers: ['b', 'a'], ownerReferences: [{ uid: '2', $patch: 'delete' }, { uid: '3', name: 'z' }], labels: { drop: null }, $deleteFromPrimitiveList_unused: undefined },
      secrets: [{ name: 's1', extra: 2 }],
      $setElementOrder_unused: undefined,
      rules: [{ verbs: ['list'] }],
      spec: { $retainKeys: ['a', 'c'], c: 3 },
    },
    keys,
  ) as typeof live & { spec: Record<string, number> };
  assert.deepEqual(out.metadata.finalizers, ['a', 'b']);
  assert.deepEqual(out.metadata.ownerReferences, [{ uid: '1', name: 'x' }, { uid: '3', name: 'z' }]);
  assert.deepEqual(out.metadata.labels, { k: 'v' });
  assert.deepEqual(out.secrets, [{ name: 's1', extra: 2 }, { name: 's2' }]);
  assert.deepEqual(out.rules, [{ verbs: ['list'] }], 'lists without a merge key are replaced');
  assert.deepEqual(out.spec, { a: 1, c: 3 });
  const replaced = strategicMergePatch({ spec: { a: 1, b: 2 } }, { spec: { $patch: 'replace', z: 1 } }, keys);
  assert.deepEqual(replaced, { spec: { z: 1 } });
  const removed = strategicMergePatch({ metadata: { finalizers: ['a', 'b'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, keys);
  assert.deepEqual(removed, { metadata: { finalizers: ['b'] } });
  const ordered = strategicMergePatch({ secrets: [{ name: 'a' }, { name: 'b' }] }, { '$setElementOrder/secrets': [{ name: 'b' }, { name: 'a' }] }, keys);
  assert.deepEqual(ordered, { secrets: [{ name: 'b' }, { name: 'a' }] });
  assert.throws(() => strategicMergePatch({}, { $patch: 'explode' }, keys), /unknown \$patch directive/);
});
