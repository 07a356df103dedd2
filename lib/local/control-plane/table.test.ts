import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinTypes } from './builtins.ts';
import { evaluateJsonPath, humanDuration, toJsonPathPlus, toTable } from './table.ts';

test('ages print as kubectl prints them', () => {
  const s = 1000;
  const cases: [number, string][] = [[-5 * s, '<invalid>'], [0, '0s'], [119 * s, '119s'], [150 * s, '2m30s'], [600 * s, '10m'], [3 * 3600 * s, '3h'], [5 * 3600 * s + 60 * s, '5h1m'], [30 * 3600 * s, '30h'], [3 * 86400 * s + 3600 * s, '3d1h'], [400 * 86400 * s, '400d'], [3 * 365 * 86400 * s + 2 * 86400 * s, '3y2d'], [10 * 365 * 86400 * s, '10y']];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, String(ms));
});

test('Kubernetes JSONPath for printer columns', () => {
  assert.equal(toJsonPathPlus('.spec.x'), '$.spec.x');
  assert.equal(toJsonPathPlus('.metadata.labels.example\\.com/tier'), "$.metadata.labels['example.com/tier']");
  const o = { status: { conditions: [{ type: 'Synced', status: 'False' }, { type: 'Ready', status: 'True' }] }, metadata: { labels: { 'example.com/tier': 'gold' } } };
  assert.deepEqual(evaluateJsonPath(o, '.status.conditions[?(@.type=="Ready")].status'), ['True']);
  assert.deepEqual(evaluateJsonPath(o, '.metadata.labels.example\\.com/tier'), ['gold']);
  assert.deepEqual(evaluateJsonPath(o, '.spec.missing'), []);
});

test('tables: Name first, computed columns, metadata-only row objects', () => {
  const cm = builtinTypes().find((t) => t.resource === 'configmaps')!;
  const now = new Date(Date.now() - 90_000).toISOString();
  const table = toTable(cm, 'v1', [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', creationTimestamp: now }, data: { x: '1', y: '2' }, binaryData: { z: 'AA==' } }], {
    includeObject: 'Metadata',
    tableVersion: 'v1',
  }) as { columnDefinitions: { name: string }[]; rows: { cells: unknown[]; object: { kind: string } }[] };
  assert.deepEqual(table.columnDefinitions.map((c) => c.name), ['Name', 'Data', 'Age']);
  assert.deepEqual(table.rows[0]!.cells, ['a', 3, '90s']);
  assert.equal(table.rows[0]!.object.kind, 'PartialObjectMetadata');
});
