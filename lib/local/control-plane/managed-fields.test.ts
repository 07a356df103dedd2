import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromFieldsV1, leaves, recordUpdate, serverSideApply, toFieldsV1 } from './managed-fields.ts';
import type { KubeObject } from './objects.ts';

const obj = (spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({ apiVersion: 'x/v1', kind: 'W', metadata: { name: 'w' }, spec, ...extra });

test('leaf fields and the FieldsV1 format round-trip; server-owned metadata is not tracked', () => {
  const o = obj({ a: 1, b: { c: [1, 2], d: {} } }, { metadata: { name: 'w', uid: 'u', labels: { k: 'v' } }, status: { s: 1 } });
  const main = [...leaves(o, 'main').keys()].map((k) => JSON.parse(k).join('.'));
  assert.deepEqual(main.sort(), ['metadata.labels.k', 'spec.a', 'spec.b.c', 'spec.b.d']);
  assert.deepEqual([...leaves(o, 'status').keys()], ['["status","s"]']);
  const v1 = toFieldsV1(leaves(o, 'main').keys());
  assert.deepEqual(v1, { 'f:metadata': { 'f:labels': { 'f:k': {} } }, 'f:spec': { 'f:a': {}, 'f:b': { 'f:c': {}, 'f:d': {} } } });
  assert.deepEqual([...fromFieldsV1(v1)].sort(), [...leaves(o, 'main').keys()].sort());
  assert.deepEqual([...fromFieldsV1({ 'f:spec': { 'f:list': { 'k:{"name":"a"}': { '.': {} } } } })], ['["spec","list"]'], 'granular list ownership counts as the list');
});

test('updates give their manager the fields they change and take them from others', () => {
  const before = obj({ a: 1, b: 2 });
  let managed = recordUpdate([], undefined, before, 'creator', 'x/v1', undefined, true);
  assert.deepEqual(managed.map((e) => e.manager), ['creator']);
  const after = obj({ a: 5, b: 2 });
  managed = recordUpdate(managed, before, after, 'editor', 'x/v1', undefined, true);
  assert.deepEqual(fromFieldsV1(managed.find((e) => e.manager === 'creator')!.fieldsV1), new Set(['["spec","b"]']));
  assert.deepEqual(fromFieldsV1(managed.find((e) => e.manager === 'editor')!.fieldsV1), new Set(['["spec","a"]']));
});

test('server-side apply: create, prune own removed fields, conflict unless forced, share equal values', () => {
  let r = serverSideApply(undefined, obj({ a: 1, list: [1] }), 'one', false, 'x/v1', undefined, true);
  assert.deepEqual(r.object.spec, { a: 1, list: [1] });
  let live = { ...r.object, metadata: { ...r.object.metadata, managedFields: r.managedFields } };
  r = serverSideApply(live, obj({ a: 1 }), 'one', false, 'x/v1', undefined, true);
  assert.deepEqual(r.object.spec, { a: 1 }, 'list no longer applied is removed');
  live = { ...r.object, metadata: { ...r.object.metadata, managedFields: r.managedFields } };
  assert.throws(
    () => serverSideApply(live, obj({ a: 2 }), 'two', false, 'x/v1', undefined, true),
    (e: { code: number; message: string; details: { causes: { field: string }[] } }) =>
      e.code === 409 && /conflict with "one": \.spec\.a/.test(e.message) && e.details.causes[0]!.field === '.spec.a',
  );
  const shared = serverSideApply(live, obj({ a: 1 }), 'two', false, 'x/v1', undefined, true);
  assert.equal(shared.managedFields.length, 2, 'same value: both own it');
  const forced = serverSideApply(live, obj({ a: 2 }), 'two', true, 'x/v1', undefined, true);
  assert.equal((forced.object.spec as { a: number }).a, 2);
  assert.deepEqual(forced.managedFields.map((e) => e.manager), ['two'], 'the forced field moved to the new manager');
});
