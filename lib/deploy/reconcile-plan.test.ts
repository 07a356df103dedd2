import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../kube/objects.ts';
import { imageRepository, planReconcile, remoteKey } from './reconcile-plan.ts';
import { fromToolhive, planWorkload } from './workload.ts';

const L = 'toolhive.stacklok.io';
const registry = { namespace: 'ns', name: 'reg' };
const fetch = fromToolhive('fetch', 'image', { description: 'd', tier: 'Community', status: 'Active', transport: 'stdio', image: 'ghcr.io/x/fetch:1.0', tools: [] } as never);
const docs = fromToolhive('docs', 'remote', { description: 'd', tier: 'Community', status: 'Active', transport: 'sse', url: 'https://Docs.example.com/mcp/', tools: [] } as never);
const needsToken = fromToolhive('tok', 'image', { description: 'd', tier: 'Community', status: 'Active', transport: 'stdio', image: 'ghcr.io/x/tok:1', tools: [], env_vars: [{ name: 'TOKEN', description: 't', required: true }] } as never);

function w(name: string, spec: Record<string, unknown>, metadata: Partial<KubeObject['metadata']> = {}, kind = 'MCPServer'): KubeObject {
  return { apiVersion: 'toolhive.stacklok.dev/v1beta1', kind, metadata: { name, namespace: 'ns', ...metadata }, spec } as KubeObject;
}
const labelled = (server: string, reg = 'reg') => ({ labels: { [`${L}/registry-name`]: reg, [`${L}/registry-namespace`]: 'ns', [`${L}/server-name`]: server } });

test('image repositories and remote URLs as discovery compares them', () => {
  assert.equal(imageRepository('ghcr.io/x/fetch:1.0'), 'ghcr.io/x/fetch');
  assert.equal(imageRepository('localhost:5000/x/fetch@sha256:abc'), 'localhost:5000/x/fetch');
  assert.equal(imageRepository('localhost:5000/x/fetch:2@sha256:abc'), 'localhost:5000/x/fetch');
  assert.equal(imageRepository('Fetch'), 'fetch');
  assert.equal(remoteKey('https://Docs.example.com/mcp/'), remoteKey('https://docs.example.com/mcp'));
  assert.notEqual(remoteKey('https://docs.example.com/mcp'), remoteKey('https://docs.example.com/other'));
});

test('discovery: by image repository and remote URL, never an opted-out, labelled or claimed-earlier workload', () => {
  const plan = planReconcile({
    registry,
    onUpdate: 'create',
    snapshot: 'h',
    entries: [docs, fetch],
    workloads: [
      w('a', { image: 'ghcr.io/x/fetch:0.1' }),
      w('b', { image: 'ghcr.io/x/fetch:0.1' }, { annotations: { [`${L}/registry-discovery`]: 'False' } }),
      w('c', { image: 'ghcr.io/x/fetch:0.1' }, labelled('fetch', 'other')),
      w('d', { remoteUrl: 'https://docs.example.com/mcp' }, {}, 'MCPRemoteProxy'),
      w('e', { image: 'ghcr.io/x/fetchy:1.0' }),
    ],
  });
  assert.deepEqual(plan.actions.map((a) => [a.type, a.workload.name, a.server]), [['label', 'd', 'docs'], ['label', 'a', 'fetch']]);
  assert.equal(plan.associated, 2);
  assert.equal(plan.behind, 2);
  const claimed = planReconcile({ registry, onUpdate: 'create', snapshot: 'h', entries: [fetch], workloads: [w('a', { image: 'ghcr.io/x/fetch:0.1' })], claimedEarlier: new Set(['image:ghcr.io/x/fetch']) });
  assert.deepEqual(claimed.actions, []);
  assert.equal(claimed.candidates, 1);
});

test('association: update when the entry hash differs, nothing when equal, removed entries annotated once, invalid ones reported', () => {
  const hash = planWorkload(fetch, { registry, namespace: 'ns', workloadName: 'same' }).entryHash;
  const plan = planReconcile({
    registry,
    onUpdate: 'update',
    snapshot: 'h',
    entries: [fetch, needsToken],
    workloads: [
      w('old', { image: 'ghcr.io/x/fetch:0.1' }, labelled('fetch')),
      w('same', { image: 'ghcr.io/x/fetch:1.0' }, { ...labelled('fetch'), annotations: { [`${L}/registry-entry-hash`]: hash } }),
      w('gone', { image: 'ghcr.io/x/gone:1' }, labelled('gone')),
      w('gone-noted', { image: 'ghcr.io/x/gone:1' }, { ...labelled('gone'), annotations: { [`${L}/registry-entry-removed`]: 'h0' } }),
      w('tok-given', { image: 'ghcr.io/x/tok:0', env: [{ name: 'TOKEN', value: 't' }, { name: 'MINE', value: 'x' }] }, labelled('tok')),
      w('tok-missing', { image: 'ghcr.io/x/tok:0' }, labelled('io.github.stacklok/tok')),
    ],
  });
  assert.deepEqual(plan.actions.map((a) => [a.type, a.workload.name]), [['removed', 'gone'], ['update', 'old'], ['update', 'tok-given'], ['invalid', 'tok-missing']]);
  const tok = plan.actions.find((a) => a.workload.name === 'tok-given');
  assert.ok(tok?.type === 'update');
  // a required variable's value stays; a variable the entry does not declare is the user's, not applied
  assert.deepEqual(tok.plan.workload.spec?.env, [{ name: 'TOKEN', value: 't' }]);
  const invalid = plan.actions.find((a) => a.type === 'invalid');
  assert.ok(invalid?.type === 'invalid');
  assert.match(invalid.error.message, /TOKEN is required/);
  assert.equal(plan.associated, 6);
  assert.equal(plan.upToDate, 1);
  assert.equal(plan.behind, 3);
});

test('values the user gave at deploy (registry-user-values) are kept, a default they override included; an unchanged entry is up to date', () => {
  const withDefault = fromToolhive('fetch', 'image', { description: 'd', tier: 'Community', status: 'Active', transport: 'stdio', image: 'ghcr.io/x/fetch:1.0', tools: [], env_vars: [{ name: 'LOG', description: 'l', required: false, default: 'info' }] } as never);
  const deployed = planWorkload(withDefault, { registry, namespace: 'ns', workloadName: 'mine', env: { LOG: 'debug', EXTRA: '1' }, userValues: ['LOG', 'EXTRA'] });
  assert.equal(deployed.workload.metadata.annotations?.[`${L}/registry-user-values`], 'EXTRA,LOG');
  const current = w('mine', deployed.workload.spec!, { labels: deployed.workload.metadata.labels, annotations: deployed.workload.metadata.annotations });
  const same = planReconcile({ registry, onUpdate: 'update', snapshot: 'h', entries: [withDefault], workloads: [current] });
  assert.deepEqual(same.actions, [], 'the first sync after a deploy changes nothing');
  assert.equal(same.upToDate, 1);
  const newer = fromToolhive('fetch', 'image', { ...(withDefault.entry as object), image: 'ghcr.io/x/fetch:2.0' } as never);
  const plan = planReconcile({ registry, onUpdate: 'update', snapshot: 'h2', entries: [newer], workloads: [current] });
  assert.equal(plan.actions.length, 1);
  const a = plan.actions[0]!;
  assert.ok(a.type === 'update');
  assert.equal(a.plan.workload.spec?.image, 'ghcr.io/x/fetch:2.0');
  assert.deepEqual(a.plan.workload.spec?.env, [{ name: 'LOG', value: 'debug' }, { name: 'EXTRA', value: '1' }]);
  assert.equal(a.plan.workload.metadata.annotations?.[`${L}/registry-user-values`], 'EXTRA,LOG');
});

test('a workload being deleted is left alone, unless a recreate deleted it (registry-recreating): then it is recreated', () => {
  const deleting = { deletionTimestamp: '2026-12-04T00:00:00Z', finalizers: ['f'] } as Partial<KubeObject['metadata']>;
  const plan = planReconcile({
    registry,
    onUpdate: 'recreate',
    snapshot: 'h',
    entries: [fetch],
    workloads: [
      w('leaving', { image: 'ghcr.io/x/fetch:0.1' }, { ...labelled('fetch'), ...deleting }),
      w('recreating', { image: 'ghcr.io/x/fetch:0.1' }, { ...labelled('fetch'), ...deleting, annotations: { [`${L}/registry-recreating`]: 'x' } }),
      w('recreating-gone-entry', { image: 'ghcr.io/x/gone:0.1' }, { ...labelled('gone'), ...deleting, annotations: { [`${L}/registry-recreating`]: 'x' } }),
    ],
  });
  assert.deepEqual(plan.actions.map((a) => [a.type, a.workload.name]), [['recreate', 'recreating']]);
});
