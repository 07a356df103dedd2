/**
 * Server-side printing: `Accept: application/json;as=Table;g=meta.k8s.io;v=v1` gets a
 * meta.k8s.io Table built from the printer columns (a CRD's additionalPrinterColumns or a
 * built-in kind's columns) behind the standard Name column, as kubectl prints it.
 */
import { evaluateJsonPath, humanDuration } from '../../kube/printer-columns.ts';
import type { KubeObject } from './objects.ts';
import type { Column, ResourceType } from './resources.ts';
import { versionInfo } from './resources.ts';

const NAME_COLUMN = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};

const DEFAULT_COLUMNS: Column[] = [
  { name: 'Age', type: 'date', priority: 0, description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', jsonPath: '.metadata.creationTimestamp' },
];

function cell(column: Column, obj: KubeObject, now: number): unknown {
  const raw = column.value ? column.value(obj) : column.jsonPath ? evaluateJsonPath(obj, column.jsonPath)[0] : undefined;
  if (raw === undefined || raw === null) return null;
  if (column.type === 'date' || column.format === 'age') {
    const t = typeof raw === 'string' ? Date.parse(raw) : NaN;
    if (Number.isNaN(t)) return column.type === 'date' ? null : String(raw);
    return humanDuration(now - t);
  }
  if (column.type === 'integer') return typeof raw === 'number' ? Math.trunc(raw) : null;
  if (column.type === 'number') return typeof raw === 'number' ? raw : null;
  if (column.type === 'boolean') return typeof raw === 'boolean' ? raw : null;
  return typeof raw === 'string' ? raw : JSON.stringify(raw);
}

export function columnsFor(type: ResourceType, version: string): Column[] {
  return versionInfo(type, version)?.columns ?? DEFAULT_COLUMNS;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  includeObject: IncludeObject;
  /** meta.k8s.io version the client asked for */
  tableVersion: 'v1' | 'v1beta1';
  listMeta?: Record<string, unknown>;
  /** leave columnDefinitions out (watch events after the first) */
  noHeaders?: boolean;
}

export function toTable(type: ResourceType, version: string, objects: KubeObject[], options: TableOptions): Record<string, unknown> {
  const columns = columnsFor(type, version);
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${options.tableVersion}`,
    metadata: options.listMeta ?? {},
    columnDefinitions: options.noHeaders
      ? []
      : [NAME_COLUMN, ...columns.map((c) => ({ name: c.name, type: c.type === 'date' && c.format === 'age' ? 'string' : c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority }))],
    rows: objects.map((o) => ({
      cells: [o.metadata.name ?? '', ...columns.map((c) => cell(c, o, now))],
      ...(options.includeObject === 'None'
        ? {}
        : { object: options.includeObject === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${options.tableVersion}`, metadata: o.metadata } }),
    })),
  };
}
