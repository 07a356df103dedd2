import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinTypes } from './builtins.ts';
import { toTable } from './table.ts';

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
