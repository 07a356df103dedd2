import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromFieldsV1, members, recordUpdate, serverSideApply, shapesOf, toFieldsV1, type FieldShapes } from './managed-fields.ts';
import type { KubeObject, ManagedFieldsEntry } from './objects.ts';
import type { Schema } from './schema.ts';

const obj = (spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({ apiVersion: 'x/v1', kind: 'W', metadata: { name: 'w' }, spec, ...extra });
const dotted = (keys: Iterable<string>) => [...keys].map((k) => (JSON.parse(k) as string[]).join('.')).sort();
const live = (r: { object: KubeObject; managedFields: ManagedFieldsEntry[] }): KubeObject => ({ ...r.object, metadata: { ...r.object.metadata, managedFields: r.managedFields } });
const owned = (r: { managedFields: ManagedFieldsEntry[] }, manager: string) => dotted(fromFieldsV1(r.managedFields.find((e) => e.manager === manager)?.fieldsV1 ?? {}));

const envSchema: Schema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        env: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string' } } },
        },
        tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
        args: { type: 'array', items: { type: 'string' } },
        selector: { type: 'object', 'x-kubernetes-map-type': 'atomic', additionalProperties: { type: 'string' } },
      },
    },
  },
};
const shapes: FieldShapes = shapesOf(envSchema, undefined);
const env = (...pairs: [string, string][]) => pairs.map(([name, value]) => ({ name, value }));

test('member paths and the FieldsV1 format round-trip; server-owned metadata is not tracked', () => {
  const o = obj({ a: 1, b: { c: [1, 2], d: {} } }, { metadata: { name: 'w', uid: 'u', labels: { k: 'v' } }, status: { s: 1 } });
  assert.deepEqual(dotted(members(o, 'main').keys()), ['f:metadata.f:labels.f:k', 'f:spec.f:a', 'f:spec.f:b.f:c', 'f:spec.f:b.f:d']);
  assert.deepEqual([...members(o, 'status').keys()], ['["f:status","f:s"]']);
  const v1 = toFieldsV1(members(o, 'main').keys());
  assert.deepEqual(v1, { 'f:metadata': { 'f:labels': { 'f:k': {} } }, 'f:spec': { 'f:a': {}, 'f:b': { 'f:c': {}, 'f:d': {} } } });
  assert.deepEqual([...fromFieldsV1(v1)].sort(), [...members(o, 'main').keys()].sort());
});

test('list-maps are owned per item (k:{"name":…} with "." and the item fields), sets per value, atomic lists and maps whole', () => {
  const o = obj({ env: env(['X', '1']), tags: ['a'], args: ['--x'], selector: { app: 'w' } }, { metadata: { name: 'w', finalizers: ['f.example.com/x'] } });
  const v1 = toFieldsV1(members(o, 'main', shapes).keys());
  assert.deepEqual(v1, {
    'f:metadata': { 'f:finalizers': { 'v:"f.example.com/x"': {} } },
    'f:spec': {
      'f:args': {},
      'f:env': { 'k:{"name":"X"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
      'f:selector': {},
      'f:tags': { 'v:"a"': {} },
    },
  });
  assert.deepEqual([...fromFieldsV1(v1)].sort(), [...members(o, 'main', shapes).keys()].sort());
  assert.deepEqual(dotted(members(o, 'main').keys()).filter((k) => k.includes('env')), ['f:spec.f:env'], 'without a schema every list is atomic');
});

test('updates give their manager the fields they change and take them from others', () => {
  const before = obj({ a: 1, b: 2 });
  let managed = recordUpdate([], undefined, before, 'creator', 'x/v1', undefined, true);
  assert.deepEqual(managed.map((e) => e.manager), ['creator']);
  const after = obj({ a: 5, b: 2 });
  managed = recordUpdate(managed, before, after, 'editor', 'x/v1', undefined, true);
  assert.deepEqual(fromFieldsV1(managed.find((e) => e.manager === 'creator')!.fieldsV1), new Set(['["f:spec","f:b"]']));
  assert.deepEqual(fromFieldsV1(managed.find((e) => e.manager === 'editor')!.fieldsV1), new Set(['["f:spec","f:a"]']));
});

test('server-side apply: create, prune own removed fields, conflict unless forced, share equal values', () => {
  let r = serverSideApply(undefined, obj({ a: 1, list: [1] }), 'one', false, 'x/v1', undefined, true);
  assert.deepEqual(r.object.spec, { a: 1, list: [1] });
  r = serverSideApply(live(r), obj({ a: 1 }), 'one', false, 'x/v1', undefined, true);
  assert.deepEqual(r.object.spec, { a: 1 }, 'list no longer applied is removed');
  const one = live(r);
  assert.throws(
    () => serverSideApply(one, obj({ a: 2 }), 'two', false, 'x/v1', undefined, true),
    (e: { code: number; message: string; details: { causes: { field: string }[] } }) =>
      e.code === 409 && e.message === 'Apply failed with 1 conflict: conflict with "one": .spec.a' && e.details.causes[0]!.field === '.spec.a',
  );
  const shared = serverSideApply(one, obj({ a: 1 }), 'two', false, 'x/v1', undefined, true);
  assert.equal(shared.managedFields.length, 2, 'same value: both own it');
  const forced = serverSideApply(one, obj({ a: 2 }), 'two', true, 'x/v1', undefined, true);
  assert.equal((forced.object.spec as { a: number }).a, 2);
  assert.deepEqual(forced.managedFields.map((e) => e.manager), ['two'], 'the forced field moved to the new manager');
});

test('list-map: applies merge by key, keep items of other managers, prune only their own, conflict per item field', () => {
  const apply = (o: KubeObject | undefined, e: [string, string][], manager = 'mcp-registry', force = false) =>
    serverSideApply(o, obj({ env: env(...e) }), manager, force, 'x/v1', undefined, true, shapes);
  let r = apply(undefined, [['X', '1'], ['Y', '2']]);
  assert.deepEqual(owned(r, 'mcp-registry'), [
    'f:spec.f:env.k:{"name":"X"}',
    'f:spec.f:env.k:{"name":"X"}.f:name',
    'f:spec.f:env.k:{"name":"X"}.f:value',
    'f:spec.f:env.k:{"name":"Y"}',
    'f:spec.f:env.k:{"name":"Y"}.f:name',
    'f:spec.f:env.k:{"name":"Y"}.f:value',
  ]);
  // a user adds Z with an update (kubectl edit / patch)
  const base = live(r);
  const edited = obj({ env: [...env(['X', '1'], ['Y', '2']), { name: 'Z', value: '3' }] }, { metadata: base.metadata });
  const byUser = recordUpdate(base.metadata.managedFields!, base, edited, 'kubectl-edit', 'x/v1', undefined, true, shapes);
  assert.deepEqual(dotted(fromFieldsV1(byUser.find((e) => e.manager === 'kubectl-edit')!.fieldsV1)), [
    'f:spec.f:env.k:{"name":"Z"}',
    'f:spec.f:env.k:{"name":"Z"}.f:name',
    'f:spec.f:env.k:{"name":"Z"}.f:value',
  ]);
  let current: KubeObject = { ...edited, metadata: { ...edited.metadata, managedFields: byUser } };

  r = apply(current, [['X', "1'"], ['Y', '2']]);
  assert.deepEqual(r.object.spec, { env: env(['X', "1'"], ['Y', '2'], ['Z', '3']) }, 'Z kept, X changed');
  r = apply(live(r), [['X', "1'"]]);
  assert.deepEqual(r.object.spec, { env: env(['X', "1'"], ['Z', '3']) }, 'Y (ours alone) removed, Z kept');
  assert.ok(owned(r, 'kubectl-edit').includes('f:spec.f:env.k:{"name":"Z"}'));
  current = live(r);

  // the user now changes X's value: it owns that field (not the item)
  const changed = obj({ env: env(['X', 'mine'], ['Z', '3']) }, { metadata: current.metadata });
  const mf = recordUpdate(current.metadata.managedFields!, current, changed, 'kubectl-edit', 'x/v1', undefined, true, shapes);
  assert.deepEqual(owned({ managedFields: mf }, 'mcp-registry'), ['f:spec.f:env.k:{"name":"X"}', 'f:spec.f:env.k:{"name":"X"}.f:name']);
  current = { ...changed, metadata: { ...changed.metadata, managedFields: mf } };
  assert.throws(
    () => apply(current, [['X', 'ours']]),
    (e: { code: number; message: string; details: { causes: { field: string }[] } }) =>
      e.code === 409 && /^Apply failed with 1 conflict: conflict with "kubectl-edit" using x\/v1 at \S+: \.spec\.env\[name="X"\]\.value$/.test(e.message) && e.details.causes[0]!.field === '.spec.env[name="X"].value',
  );
  assert.deepEqual(apply(current, [['X', 'mine']]).object.spec, { env: env(['X', 'mine'], ['Z', '3']) }, 'the same value is shared, no conflict');
  const forced = apply(current, [['X', 'ours']], 'mcp-registry', true);
  assert.deepEqual(forced.object.spec, { env: env(['X', 'ours'], ['Z', '3']) });
  assert.ok(!owned(forced, 'kubectl-edit').includes('f:spec.f:env.k:{"name":"X"}.f:value'), 'forced: the value moved to us');
});

test('list-map prune: an item another applier owns stays; a field we stop setting on a kept item goes', () => {
  let r = serverSideApply(undefined, obj({ env: [{ name: 'X', value: '1' }] }), 'a', false, 'x/v1', undefined, true, shapes);
  r = serverSideApply(live(r), obj({ env: [{ name: 'X' }] }), 'b', false, 'x/v1', undefined, true, shapes);
  const dropped = serverSideApply(live(r), obj({ env: [] }), 'a', false, 'x/v1', undefined, true, shapes);
  assert.deepEqual(dropped.object.spec, { env: [{ name: 'X' }] }, 'an applied empty list-map merges: b\'s item stays, a\'s value goes');
  const atomic = serverSideApply(live(serverSideApply(undefined, obj({ args: ['1'] }), 'a', false, 'x/v1', undefined, true, shapes)), obj({ args: [] }), 'a', false, 'x/v1', undefined, true, shapes);
  assert.deepEqual(atomic.object.spec, { args: [] }, 'an applied empty atomic list replaces the list');
  const gone = serverSideApply(live(r), obj({}), 'a', false, 'x/v1', undefined, true, shapes);
  assert.deepEqual(gone.object.spec, { env: [{ name: 'X' }] }, 'b owns the item: it stays, without the value only a owned');
  const again = serverSideApply(live(gone), obj({}), 'b', false, 'x/v1', undefined, true, shapes);
  assert.deepEqual(again.object.spec, {}, 'nobody owns anything in env any more: the field goes');
});

test('sets: owned per value, merged, pruned per value', () => {
  let r = serverSideApply(undefined, obj({ tags: ['a', 'b'] }), 'a', false, 'x/v1', undefined, true, shapes);
  r = serverSideApply(live(r), obj({ tags: ['c'] }), 'b', false, 'x/v1', undefined, true, shapes);
  assert.deepEqual((r.object.spec as { tags: string[] }).tags, ['a', 'b', 'c']);
  assert.deepEqual(owned(r, 'b'), ['f:spec.f:tags.v:"c"']);
  r = serverSideApply(live(r), obj({ tags: ['a'] }), 'a', false, 'x/v1', undefined, true, shapes);
  assert.deepEqual((r.object.spec as { tags: string[] }).tags, ['a', 'c']);
});

test('atomic lists and maps are replaced whole and conflict whole', () => {
  let r = serverSideApply(undefined, obj({ args: ['1', '2'], selector: { a: '1', b: '2' } }), 'a', false, 'x/v1', undefined, true, shapes);
  const base = live(r);
  assert.throws(
    () => serverSideApply(base, obj({ selector: { c: '3' } }), 'b', false, 'x/v1', undefined, true, shapes),
    (e: { message: string }) => /conflict with "a": \.spec\.selector$/.test(e.message),
  );
  r = serverSideApply(base, obj({ args: ['3'], selector: { c: '3' } }), 'b', true, 'x/v1', undefined, true, shapes);
  assert.deepEqual(r.object.spec, { args: ['3'], selector: { c: '3' } });
  assert.deepEqual(r.managedFields.map((e) => e.manager), ['b']);
});
