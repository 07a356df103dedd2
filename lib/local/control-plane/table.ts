/**
 * Server-side printing: `Accept: application/json;as=Table;g=meta.k8s.io;v=v1` gets a
 * meta.k8s.io Table built from the printer columns (a CRD's additionalPrinterColumns or a
 * built-in kind's columns) behind the standard Name column, as kubectl prints it.
 */
import { JSONPath } from 'jsonpath-plus';
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

/** Kubernetes' HumanDuration: 5s, 3m20s, 10m, 5h3m, 2d4h, 400d, 3y12d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Kubernetes JSONPath (`.a.b`, `.a\.b`, `[?(@.x=="y")]`) → jsonpath-plus syntax. */
export function toJsonPathPlus(path: string): string {
  let out = '$';
  let i = 0;
  while (i < path.length) {
    const c = path[i]!;
    if (c === '[') {
      let depth = 0;
      let j = i;
      for (; j < path.length; j++) {
        if (path[j] === '[') depth++;
        else if (path[j] === ']' && --depth === 0) break;
      }
      out += path.slice(i, j + 1);
      i = j + 1;
    } else if (c === '.') {
      let name = '';
      i++;
      while (i < path.length && path[i] !== '.' && path[i] !== '[') {
        if (path[i] === '\\' && i + 1 < path.length) {
          name += path[i + 1];
          i += 2;
        } else name += path[i++];
      }
      out += /^[A-Za-z_$][\w$]*$/.test(name) || name === '*' ? `.${name}` : `[${JSON.stringify(name).replace(/^"|"$/g, "'")}]`;
    } else {
      // a path without a leading dot
      path = `.${path.slice(i)}`;
      i = 0;
    }
  }
  return out;
}

const compiledPaths = new Map<string, string>();
export function evaluateJsonPath(obj: unknown, path: string): unknown[] {
  let p = compiledPaths.get(path);
  if (p === undefined) {
    p = toJsonPathPlus(path.replace(/^\{(.*)\}$/, '$1'));
    if (compiledPaths.size > 1000) compiledPaths.clear();
    compiledPaths.set(path, p);
  }
  try {
    return JSONPath({ path: p, json: obj as object, wrap: true, eval: 'safe' }) as unknown[];
  } catch {
    return [];
  }
}

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
