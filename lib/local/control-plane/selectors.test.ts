import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';

test('label selectors parse every operator and match as Kubernetes does', () => {
  const labels = { app: 'web', tier: 'front', 'example.com/level': '3' };
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (db, web)', true],
    ['app notin (db,web)', false],
    ['missing notin (a)', true],
    ['missing in (a)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['example.com/level>2', true],
    ['example.com/level<3', false],
    ['app=web,tier=back', false],
    ['app=web, tier in (front)', true],
    ['app=', false],
  ];
  for (const [selector, expected] of cases) assert.equal(matchesLabels(parseLabelSelector(selector), labels), expected, selector);
  assert.equal(matchesLabels(parseLabelSelector('empty='), { empty: '' }), true);
});

test('label selector mistakes are 400s that say what is wrong', () => {
  for (const bad of ['app in (a', 'app in ()', 'app=web,', 'a b', '=x', 'bad key!=x', 'app=not a value', 'n>x']) {
    assert.throws(() => parseLabelSelector(bad), (e: { code?: number; message: string }) => e.code === 400 && /unable to parse requirement/.test(e.message), bad);
  }
});

test('field selectors: =, ==, != and escapes', () => {
  const reqs = parseFieldSelector('metadata.name=a\\,b,metadata.namespace!=kube-system,type==Opaque');
  assert.deepEqual(reqs, [
    { field: 'metadata.name', op: '=', value: 'a,b' },
    { field: 'metadata.namespace', op: '!=', value: 'kube-system' },
    { field: 'type', op: '=', value: 'Opaque' },
  ]);
  const get = (f: string) => ({ 'metadata.name': 'a,b', 'metadata.namespace': 'default', type: 'Opaque' })[f];
  assert.equal(matchesFields(reqs, get), true);
  assert.equal(matchesFields(parseFieldSelector('type=Other'), get), false);
  assert.throws(() => parseFieldSelector('nonsense'), /invalid selector/);
});
