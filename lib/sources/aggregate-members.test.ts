import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION, MCPRegistrySpec } from '../kube/mcpregistry-spec.ts';
import type { KubeObject } from '../kube/objects.ts';
import { aggregateMembersOf, aggregatesOf, aggregationRefusal, findCycle, memberRefs } from './aggregate-members.ts';

function registry(ns: string, name: string, members?: Array<{ name: string; namespace?: string }>, annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'toolhive.stacklok.io/v1alpha1',
    kind: 'MCPRegistry',
    metadata: { namespace: ns, name, ...(annotations ? { annotations } : {}) },
    spec: members ? { source: { type: 'aggregate', aggregate: { registries: members } } } : { source: { type: 'url', url: { url: 'https://example.com/r.json' } } },
  };
}

test('members default to the aggregate\'s namespace, in order, each once', () => {
  assert.deepEqual(memberRefs({ registries: [{ name: 'a' }, { name: 'b', namespace: 'other' }, { name: 'a', namespace: 'team' }] }, 'team'), [
    { namespace: 'team', name: 'a' },
    { namespace: 'other', name: 'b' },
  ]);
  assert.deepEqual(aggregateMembersOf(registry('team', 'agg', [{ name: 'a' }, { name: 'b', namespace: 'x' }])), [
    { namespace: 'team', name: 'a' },
    { namespace: 'x', name: 'b' },
  ]);
  assert.equal(aggregateMembersOf(registry('team', 'plain')), undefined);
});

test('the spec refuses a member listed twice and more than 32 members', () => {
  const spec = (registries: unknown[]) => MCPRegistrySpec.safeParse({ source: { type: 'aggregate', aggregate: { registries } } });
  assert.ok(spec([{ name: 'a' }, { name: 'a', namespace: 'x' }]).success);
  const twice = spec([{ name: 'a' }, { name: 'a' }]);
  assert.ok(!twice.success);
  assert.match(twice.error.issues[0]!.message, /only once/);
  assert.ok(!spec(Array.from({ length: 33 }, (_, i) => ({ name: `r${i}` }))).success);
  assert.ok(!spec([]).success);
  assert.ok(!MCPRegistrySpec.safeParse({ source: { type: 'aggregate' } }).success, 'the block is required for type aggregate');
});

test('another namespace needs the member\'s annotation naming the aggregate\'s namespace, or *', () => {
  assert.equal(aggregationRefusal(registry('team', 'm'), 'team'), undefined);
  assert.match(aggregationRefusal(registry('team', 'm'), 'other')!, /no toolhive\.stacklok\.io\/aggregation-allowed-namespaces annotation allowing other/);
  const listed = registry('team', 'm', undefined, { [AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION]: 'a, other ,b' });
  assert.equal(aggregationRefusal(listed, 'other'), undefined);
  assert.match(aggregationRefusal(listed, 'evil')!, /does not list evil \(it lists a, other, b\)/);
  assert.equal(aggregationRefusal(registry('team', 'm', undefined, { [AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION]: '*' }), 'anyone'), undefined);
  // a prefix or a similar name is not a match
  assert.ok(aggregationRefusal(registry('team', 'm', undefined, { [AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION]: 'other-team' }), 'other'));
});

test('cycles through the aggregate are found, through any depth and namespace; others are not its business', async () => {
  const all = [
    registry('n', 'a', [{ name: 'b' }, { name: 'plain' }]),
    registry('n', 'b', [{ name: 'c', namespace: 'm' }]),
    registry('m', 'c', [{ name: 'a', namespace: 'n' }]),
    registry('n', 'plain'),
    registry('n', 'd', [{ name: 'e' }]),
    registry('n', 'e', [{ name: 'd' }]),
    registry('n', 'f', [{ name: 'd' }]),
  ];
  const lookups: string[] = [];
  const lookup = async (r: { namespace: string; name: string }) => {
    lookups.push(`${r.namespace}/${r.name}`);
    return all.find((o) => o.metadata.namespace === r.namespace && o.metadata.name === r.name) ?? null;
  };
  const a = { namespace: 'n', name: 'a' };
  assert.deepEqual(await findCycle(a, { namespace: 'n', name: 'b' }, lookup), [a, { namespace: 'n', name: 'b' }, { namespace: 'm', name: 'c' }, a]);
  assert.equal(await findCycle(a, { namespace: 'n', name: 'plain' }, lookup), undefined);
  assert.deepEqual(await findCycle(a, a, lookup), [a, a], 'an aggregate listing itself');
  // f aggregates d, which is in a cycle with e that does not pass through f: terminates, no cycle for f
  lookups.length = 0;
  assert.equal(await findCycle({ namespace: 'n', name: 'f' }, { namespace: 'n', name: 'd' }, lookup), undefined);
  assert.deepEqual(lookups, ['n/d', 'n/e'], 'each registry looked up once');
  assert.deepEqual(
    aggregatesOf(all, { namespace: 'n', name: 'd' }).map((o) => o.metadata.name),
    ['e', 'f'],
  );
});
