/**
 * Field ownership (`metadata.managedFields`) and server-side apply.
 *
 * Ownership is tracked per leaf field (scalars, lists, empty maps); lists are atomic, as
 * they are for custom resources without `x-kubernetes-list-type`. Updates (PUT, PATCH)
 * give their manager the fields they change; an apply owns exactly the fields of its
 * configuration, removes fields it owned before and no longer sets (when nobody else owns
 * them), and conflicts with other managers whose fields it would change unless forced.
 */
import { ApiError, apiError } from './status.ts';
import { deepEqual, isObject, nowTimestamp, type JsonObject, type KubeObject, type ManagedFieldsEntry } from './objects.ts';

type Path = string[];
const keyOf = (p: Path) => JSON.stringify(p);
const pathOf = (k: string) => JSON.parse(k) as Path;

const SERVER_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

export type Scope = 'main' | 'status' | 'all';

/** Leaf paths of an object with their values, limited to what a request at `scope` manages. */
export function leaves(obj: unknown, scope: Scope): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (v: unknown, path: Path) => {
    if (isObject(v) && Object.keys(v).length > 0) {
      for (const [k, x] of Object.entries(v)) if (x !== undefined) walk(x, [...path, k]);
    } else out.set(keyOf(path), v);
  };
  if (!isObject(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || v === undefined) continue;
    if (scope === 'main' && k === 'status') continue;
    if (scope === 'status' && k !== 'status') continue;
    if (k === 'metadata' && isObject(v)) {
      for (const [mk, mv] of Object.entries(v)) if (!SERVER_META.has(mk) && mv !== undefined) walk(mv, ['metadata', mk]);
      continue;
    }
    walk(v, [k]);
  }
  return out;
}

export function toFieldsV1(paths: Iterable<string>): JsonObject {
  const root: JsonObject = {};
  for (const k of paths) {
    let node = root;
    for (const seg of pathOf(k)) {
      const key = `f:${seg}`;
      if (!isObject(node[key])) node[key] = {};
      node = node[key] as JsonObject;
    }
  }
  return root;
}

/** Reads `f:` paths; list item keys (`k:`, `v:`, `i:`) written by other tools count as their whole list. */
export function fromFieldsV1(fields: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, path: Path) => {
    const children = isObject(node) ? Object.keys(node).filter((k) => k.startsWith('f:')) : [];
    const granular = isObject(node) && Object.keys(node).some((k) => /^[kvi]:/.test(k));
    if (children.length === 0 || granular) {
      if (path.length) out.add(keyOf(path));
      if (granular) return;
    }
    for (const k of children) walk((node as Record<string, unknown>)[k], [...path, k.slice(2)]);
  };
  walk(fields, []);
  return out;
}

const overlaps = (a: string, b: string) => {
  if (a === b) return true;
  const [pa, pb] = [pathOf(a), pathOf(b)];
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) if (pa[i] !== pb[i]) return false;
  return true;
};

function valueAt(obj: unknown, path: Path): unknown {
  let v = obj;
  for (const seg of path) {
    if (!isObject(v)) return undefined;
    v = v[seg];
  }
  return v;
}

function removeAt(obj: Record<string, unknown>, path: Path): void {
  const parents: Record<string, unknown>[] = [];
  let v: unknown = obj;
  for (const seg of path.slice(0, -1)) {
    if (!isObject(v)) return;
    parents.push(v);
    v = v[seg];
  }
  if (!isObject(v)) return;
  delete v[path[path.length - 1]!];
  // drop maps the removal left empty (but never the top-level fields)
  for (let i = path.length - 2; i >= 1; i--) {
    const container = valueAt(obj, path.slice(0, i + 1));
    if (isObject(container) && Object.keys(container).length === 0) delete parents[i]![path[i]!];
    else break;
  }
}

function mergeApplied(live: unknown, applied: unknown): unknown {
  if (!isObject(applied)) return structuredClone(applied);
  const out: Record<string, unknown> = isObject(live) ? structuredClone(live) : {};
  for (const [k, v] of Object.entries(applied)) {
    if (v === null) delete out[k];
    else out[k] = mergeApplied(out[k], v);
  }
  return out;
}

const scopeOf = (subresource: string | undefined, hasStatus: boolean): Scope => (subresource === 'status' ? 'status' : hasStatus ? 'main' : 'all');

function entrySet(e: ManagedFieldsEntry): Set<string> {
  return fromFieldsV1(e.fieldsV1);
}

function withSet(entries: ManagedFieldsEntry[], index: number, set: Set<string>): void {
  entries[index] = { ...entries[index]!, fieldsV1: toFieldsV1(set), time: nowTimestamp() };
}

function upsert(entries: ManagedFieldsEntry[], manager: string, operation: 'Apply' | 'Update', apiVersion: string, subresource: string | undefined, set: Set<string>, replace: boolean): ManagedFieldsEntry[] {
  const out = [...entries];
  const i = out.findIndex((e) => e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? ''));
  const merged = replace || i < 0 ? set : new Set([...entrySet(out[i]!), ...set]);
  const entry: ManagedFieldsEntry = {
    manager,
    operation,
    apiVersion,
    time: nowTimestamp(),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(merged),
    ...(subresource ? { subresource } : {}),
  };
  if (i >= 0) out[i] = entry;
  else out.push(entry);
  return out.filter((e) => Object.keys(e.fieldsV1).length > 0);
}

/** Ownership after a create, update or patch by `manager`: it takes every field it changed. */
export function recordUpdate(
  entries: ManagedFieldsEntry[],
  before: KubeObject | undefined,
  after: KubeObject,
  manager: string,
  apiVersion: string,
  subresource: string | undefined,
  hasStatus: boolean,
): ManagedFieldsEntry[] {
  const scope = scopeOf(subresource, hasStatus);
  const old = before ? leaves(before, 'all') : new Map<string, unknown>();
  const now = leaves(after, 'all');
  const inScope = leaves(after, scope);
  const changed = new Set<string>();
  for (const [k, v] of inScope) if (!old.has(k) || !deepEqual(old.get(k), v)) changed.add(k);
  const removed = [...old.keys()].filter((k) => !now.has(k));
  const out = [...entries];
  out.forEach((e, i) => {
    const set = entrySet(e);
    let touched = false;
    for (const k of [...set]) {
      const gone = removed.some((r) => overlaps(r, k)) && !now.has(k);
      const taken = e.manager !== manager && [...changed].some((c) => overlaps(c, k));
      if (gone || taken) {
        set.delete(k);
        touched = true;
      }
    }
    if (touched) withSet(out, i, set);
  });
  if (changed.size === 0) return out.filter((e) => Object.keys(e.fieldsV1).length > 0);
  return upsert(out, manager, 'Update', apiVersion, subresource, changed, false);
}

export interface ApplyResult {
  object: KubeObject;
  managedFields: ManagedFieldsEntry[];
}

/**
 * Server-side apply of `applied` (the caller's configuration) onto `live` (absent on create).
 * Throws 409 Conflict listing every field another manager owns with a different value.
 */
export function serverSideApply(
  live: KubeObject | undefined,
  applied: KubeObject,
  manager: string,
  force: boolean,
  apiVersion: string,
  subresource: string | undefined,
  hasStatus: boolean,
): ApplyResult {
  const scope = scopeOf(subresource, hasStatus);
  const entries = [...(live?.metadata.managedFields ?? [])];
  const mine = entries.findIndex((e) => e.manager === manager && e.operation === 'Apply' && (e.subresource ?? '') === (subresource ?? ''));
  const previous = mine >= 0 ? entrySet(entries[mine]!) : new Set<string>();
  const wanted = new Set(leaves(applied, scope).keys());

  const merged = mergeApplied(live ?? {}, applied) as KubeObject;

  // conflicts: fields of other managers that this apply would change
  const conflicts: { manager: string; path: string }[] = [];
  entries.forEach((e, i) => {
    if (i === mine || e.manager === manager) return;
    for (const k of entrySet(e)) {
      if (![...wanted].some((w) => overlaps(w, k))) continue;
      if (!deepEqual(valueAt(live, pathOf(k)), valueAt(merged, pathOf(k)))) conflicts.push({ manager: e.manager, path: k });
    }
  });
  if (conflicts.length > 0 && !force) {
    const show = (c: { manager: string; path: string }) => `conflict with "${c.manager}": .${pathOf(c.path).join('.')}`;
    const message =
      conflicts.length === 1 ? `Apply failed with 1 conflict: ${show(conflicts[0]!)}` : `Apply failed with ${conflicts.length} conflicts: ${conflicts.map(show).join('\n')}`;
    throw new ApiError(409, 'Conflict', message, {
      name: applied.metadata.name ?? '',
      causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: show(c), field: `.${pathOf(c.path).join('.')}` })),
    });
  }

  // ownership moves to this manager where forced; fields owned by others stay
  entries.forEach((e, i) => {
    if (i === mine || e.manager === manager) return;
    const set = entrySet(e);
    let touched = false;
    for (const c of conflicts) if (c.manager === e.manager && set.delete(c.path)) touched = true;
    if (touched) withSet(entries, i, set);
  });

  // fields this manager applied before and no longer applies are removed if nobody else owns them
  for (const k of previous) {
    if (wanted.has(k) || [...wanted].some((w) => overlaps(w, k))) continue;
    const ownedElsewhere = entries.some((e, i) => i !== mine && [...entrySet(e)].some((o) => overlaps(o, k)));
    if (!ownedElsewhere) removeAt(merged, pathOf(k));
  }

  const managedFields = upsert(entries, manager, 'Apply', apiVersion, subresource, wanted, true);
  return { object: merged, managedFields };
}

/** An explicitly sent managedFields list replaces the stored one (kubectl uses this to migrate managers). */
export function validManagedFields(value: unknown): ManagedFieldsEntry[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: ManagedFieldsEntry[] = [];
  for (const e of value) {
    if (!isObject(e) || typeof e.manager !== 'string' || (e.operation !== 'Apply' && e.operation !== 'Update')) {
      throw apiError.badRequest('metadata.managedFields: each entry needs a manager and an operation of Apply or Update');
    }
    out.push({
      manager: e.manager,
      operation: e.operation,
      apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '',
      time: typeof e.time === 'string' ? e.time : nowTimestamp(),
      fieldsType: 'FieldsV1',
      fieldsV1: isObject(e.fieldsV1) ? (e.fieldsV1 as JsonObject) : {},
      ...(typeof e.subresource === 'string' && e.subresource ? { subresource: e.subresource } : {}),
    });
  }
  return out;
}
