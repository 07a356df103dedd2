import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { listDocument, objectName, renderDocument, renderObjects, renderTable, type Column } from './output.ts';

describe('CLI output', () => {
  it('YAML quotes what YAML 1.1 (kubectl) would read as booleans or timestamps', () => {
    const env = ['Y', 'n', 'on', 'Off', 'yes', 'NO', 'true', '2026-12-04', '012'].map((name) => ({ name, value: name }));
    const text = renderDocument({ spec: { env } }, 'yaml');
    const read = parse(text, { version: '1.1' }) as { spec: { env: { name: unknown; value: unknown }[] } };
    assert.deepEqual(read.spec.env, env);
    assert.deepEqual(parse(text), { spec: { env } }, 'and YAML 1.2 readers read the same');
  });

  it('tables align as kubectl aligns them: widest cell + 3, at least 6, last column unpadded', () => {
    const text = renderTable(
      ['NAME', 'READY', 'SERVERS', 'AGE'],
      [
        ['database-servers', 'True', '18', '5m'],
        ['toolhive', 'False', '0', '10s'],
      ],
    );
    assert.equal(text, ['NAME               READY   SERVERS   AGE', 'database-servers   True    18        5m', 'toolhive           False   0         10s', ''].join('\n'));
    assert.equal(renderTable(['A', 'B'], [['x', 'y']]), 'A     B\nx     y\n');
  });

  const rows = [{ name: 'a', n: 1 }, { name: 'b', n: 2 }];
  const columns: Column<(typeof rows)[number]>[] = [
    { header: 'Name', cell: (r) => r.name },
    { header: 'Count', cell: (r) => String(r.n), wide: true },
  ];
  const view = { columns, name: (r: { name: string }) => objectName('MCPRegistry', 'toolhive.stacklok.io', r.name) };

  it('-o wide adds the wide columns; -o name prints kind.group/name', () => {
    assert.equal(renderObjects(rows, 'table', view), 'NAME\na\nb\n');
    assert.equal(renderObjects(rows, 'wide', view), 'NAME   COUNT\na      1\nb      2\n');
    assert.equal(renderObjects(rows, 'name', view), 'mcpregistry.toolhive.stacklok.io/a\nmcpregistry.toolhive.stacklok.io/b\n');
  });

  it('-o json|yaml: a List of the full objects, or the object itself for one', () => {
    assert.deepEqual(JSON.parse(renderObjects(rows, 'json', view)), listDocument(rows));
    assert.deepEqual(parse(renderObjects(rows, 'yaml', view)), { apiVersion: 'v1', kind: 'List', items: rows, metadata: { resourceVersion: '' } });
    assert.deepEqual(JSON.parse(renderObjects([rows[0]], 'json', { ...view, single: true })), rows[0]);
  });
});
