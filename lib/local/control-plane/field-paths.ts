/**
 * Field paths as structured-merge-diff (server-side apply) sees an object: segments `f:name`
 * (a field of a struct or a key of a map), `k:{"name":"X"}` (the item of a list-map with
 * those key values, keys sorted), `v:"value"` (the item of a set) and `i:3` (read only, from
 * other tools). Which lists are granular comes from the schema's `x-kubernetes-list-type`
 * (`map` with `x-kubernetes-list-map-keys`, `set`; anything else is atomic) or, for built-in
 * kinds, from their strategic-merge keys; `x-kubernetes-map-type: atomic` makes a map one
 * leaf. Pure functions: member sets, FieldsV1 (de)serialisation, navigation, display.
 */
import { deepEqual, isObject, type JsonObject } from './objects.ts';
import type { MergeKeys } from './patch.ts';
import type { Schema } from './schema.ts';

export type Path = string[];
export const keyOf = (p: Path): string => JSON.stringify(p);
export const pathOf = (k: string): Path => JSON.parse(k) as Path;

/** What decides list and map granularity: a structural schema and/or strategic-merge keys by dotted field path. */
export interface FieldShapes {
  schema?: Schema;
  /** `metadata.finalizers: '$primitive'` (a set), `status.conditions: 'type'` (a map keyed by type) */
  listKeys?: MergeKeys;
}

type ListShape = { type: 'atomic' } | { type: 'set' } | { type: 'map'; keys: string[] };

function listShape(node: Schema | undefined, dotted: string, shapes: FieldShapes): ListShape {
  const mk = shapes.listKeys?.[dotted];
  if (mk === '$primitive') return { type: 'set' };
  if (mk !== undefined) return { type: 'map', keys: [mk] };
  const t = node?.['x-kubernetes-list-type'];
  if (t === 'set') return { type: 'set' };
  const keys = node?.['x-kubernetes-list-map-keys'];
  if (t === 'map' && Array.isArray(keys) && keys.length > 0) return { type: 'map', keys: [...keys].sort() };
  return { type: 'atomic' };
}

function childSchema(node: Schema | undefined, field: string): Schema | undefined {
  if (!node) return undefined;
  const p = node.properties?.[field];
  if (p) return p;
  return isObject(node.additionalProperties) ? (node.additionalProperties as Schema) : undefined;
}

/** `k:{...}` for a list-map item, or undefined when it lacks a key field (the list is then treated as atomic). */
function itemKey(item: unknown, keys: string[]): string | undefined {
  if (!isObject(item)) return undefined;
  const picked: Record<string, unknown> = {};
  for (const k of keys) {
    if (item[k] === undefined || item[k] === null) return undefined;
    picked[k] = item[k];
  }
  return `k:${JSON.stringify(picked)}`;
}

export interface Member {
  value: unknown;
  /** a list item's own path (`.` in FieldsV1): never "modified", only added or removed */
  item: boolean;
}

const SERVER_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

export type Scope = 'main' | 'status' | 'all';

/**
 * The paths an object sets, as an applier or updater would own them: scalars, atomic lists
 * and maps, empty maps and lists, and each item of a granular list together with its fields.
 */
export function members(obj: unknown, scope: Scope, shapes: FieldShapes = {}): Map<string, Member> {
  const out = new Map<string, Member>();
  const walk = (v: unknown, path: Path, node: Schema | undefined, dotted: string) => {
    if (isObject(v)) {
      if (Object.keys(v).length === 0 || node?.['x-kubernetes-map-type'] === 'atomic') {
        out.set(keyOf(path), { value: v, item: false });
        return;
      }
      for (const [k, x] of Object.entries(v)) if (x !== undefined) walk(x, [...path, `f:${k}`], childSchema(node, k), `${dotted}.${k}`);
      return;
    }
    if (Array.isArray(v) && v.length > 0) {
      const shape = listShape(node, dotted.slice(1), shapes);
      if (shape.type === 'set') {
        for (const x of v) out.set(keyOf([...path, `v:${JSON.stringify(x)}`]), { value: x, item: true });
        return;
      }
      if (shape.type === 'map') {
        const ids = v.map((x) => itemKey(x, shape.keys));
        if (ids.every((id) => id !== undefined)) {
          v.forEach((x, i) => {
            const itemPath = [...path, ids[i]!];
            out.set(keyOf(itemPath), { value: x, item: true });
            for (const [k, y] of Object.entries(x as Record<string, unknown>))
              if (y !== undefined) walk(y, [...itemPath, `f:${k}`], childSchema(node?.items, k), `${dotted}.${k}`);
          });
          return;
        }
      }
    }
    out.set(keyOf(path), { value: v, item: false });
  };
  if (!isObject(obj)) return out;
  const root = shapes.schema;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || v === undefined) continue;
    if (scope === 'main' && k === 'status') continue;
    if (scope === 'status' && k !== 'status') continue;
    if (k === 'metadata' && isObject(v)) {
      const meta = childSchema(root, 'metadata');
      for (const [mk, mv] of Object.entries(v)) if (!SERVER_META.has(mk) && mv !== undefined) walk(mv, ['f:metadata', `f:${mk}`], childSchema(meta, mk), `.metadata.${mk}`);
      continue;
    }
    walk(v, [`f:${k}`], childSchema(root, k), `.${k}`);
  }
  return out;
}

/** Whether the list at `path` (member segments) is a list-map or a set. */
export function isGranularList(path: Path, shapes: FieldShapes): boolean {
  let node = shapes.schema;
  let dotted = '';
  for (const seg of path) {
    if (seg.startsWith('f:')) {
      const field = seg.slice(2);
      node = childSchema(node, field);
      dotted += `.${field}`;
    } else node = node?.items;
  }
  return listShape(node, dotted.slice(1), shapes).type !== 'atomic';
}

/** An empty map or list: owned as a leaf, but it replaces nothing and shadows nothing inside it. */
export const isEmptyContainer = (v: unknown): boolean => (isObject(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0);

/** The container at `segment` of `v`, or undefined. */
function step(v: unknown, seg: string): unknown {
  const kind = seg.slice(0, 2);
  const rest = seg.slice(2);
  if (kind === 'f:') return isObject(v) ? v[rest] : undefined;
  if (!Array.isArray(v)) return undefined;
  if (kind === 'k:') {
    const want = JSON.parse(rest) as Record<string, unknown>;
    return v.find((x) => isObject(x) && Object.entries(want).every(([k, w]) => deepEqual(x[k], w)));
  }
  if (kind === 'v:') {
    const want = JSON.parse(rest) as unknown;
    return v.find((x) => deepEqual(x, want));
  }
  if (kind === 'i:') return v[Number(rest)];
  return undefined;
}

export function valueAt(obj: unknown, path: Path): unknown {
  let v = obj;
  for (const seg of path) {
    v = step(v, seg);
    if (v === undefined) return undefined;
  }
  return v;
}

/** Removes the field or list item at `path`; containers the removal leaves empty go too unless `keep` says otherwise. */
export function removeAt(obj: Record<string, unknown>, path: Path, keep: (p: Path) => boolean): void {
  const chain: unknown[] = [obj];
  for (const seg of path.slice(0, -1)) {
    const next = step(chain[chain.length - 1], seg);
    if (next === undefined) return;
    chain.push(next);
  }
  const drop = (container: unknown, seg: string): boolean => {
    if (seg.startsWith('f:') && isObject(container)) {
      if (!(seg.slice(2) in container)) return false;
      delete container[seg.slice(2)];
      return true;
    }
    if (Array.isArray(container)) {
      const target = step(container, seg);
      const at = target === undefined ? -1 : container.indexOf(target);
      if (at < 0) return false;
      container.splice(at, 1);
      return true;
    }
    return false;
  };
  if (!drop(chain[chain.length - 1], path[path.length - 1]!)) return;
  // never the top-level fields (spec, metadata): only what lies inside them
  for (let i = chain.length - 1; i >= 2; i--) {
    const c = chain[i];
    const empty = (isObject(c) && Object.keys(c).length === 0) || (Array.isArray(c) && c.length === 0);
    if (!empty || keep(path.slice(0, i))) break;
    drop(chain[i - 1], path[i - 1]!);
  }
}

export const isPrefix = (a: Path, b: Path): boolean => a.length <= b.length && a.every((s, i) => s === b[i]);
export const overlaps = (a: Path, b: Path): boolean => isPrefix(a, b) || isPrefix(b, a);

/** `.spec.env[name="X"].value`, as kube-apiserver prints a field path. */
export function displayPath(path: Path): string {
  return path
    .map((seg) => {
      const rest = seg.slice(2);
      if (seg.startsWith('f:')) return `.${rest}`;
      if (seg.startsWith('k:')) {
        const keys = JSON.parse(rest) as Record<string, unknown>;
        return `[${Object.entries(keys).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
      }
      if (seg.startsWith('v:')) return `[=${rest}]`;
      if (seg.startsWith('i:')) return `[${rest}]`;
      return seg;
    })
    .join('');
}

export function toFieldsV1(paths: Iterable<string>): JsonObject {
  const root: JsonObject = {};
  const owned = new Set<JsonObject>();
  for (const k of paths) {
    let node = root;
    for (const seg of pathOf(k)) {
      if (!isObject(node[seg])) node[seg] = {};
      node = node[seg] as JsonObject;
    }
    owned.add(node);
  }
  const finish = (node: JsonObject): JsonObject => {
    const keys = Object.keys(node).sort();
    const out: JsonObject = owned.has(node) && keys.length > 0 ? { '.': {} } : {};
    for (const key of keys) out[key] = finish(node[key] as JsonObject);
    return out;
  };
  return finish(root);
}

/** The owned paths of a FieldsV1 tree: leaves (`{}`) and nodes marked `.`. */
export function fromFieldsV1(fields: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, path: Path) => {
    if (!isObject(node)) return;
    const keys = Object.keys(node);
    if (keys.length === 0 || keys.includes('.')) {
      if (path.length) out.add(keyOf(path));
    }
    for (const k of keys) if (k !== '.' && /^[fkvi]:/.test(k)) walk(node[k], [...path, k]);
  };
  walk(fields, []);
  return out;
}
