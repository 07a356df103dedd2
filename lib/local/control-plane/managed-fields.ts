/**
 * Field ownership (`metadata.managedFields`) and server-side apply, after Kubernetes'
 * structured-merge-diff. Ownership is tracked per member path (field-paths.ts): scalars,
 * atomic lists and maps, and the items of granular lists (`x-kubernetes-list-type: map` by
 * key, `set` by value) with their fields. Updates (create, PUT, PATCH) give their manager the
 * paths they add or change and take them from others; an apply owns exactly the paths of its
 * configuration, merges list-map items by key and sets by value, removes paths it owned
 * before and no longer sets when nobody else owns them, and conflicts with other managers
 * whose fields it would change unless forced.
 */
import { ApiError, apiError } from './status.ts';
import { deepEqual, isObject, nowTimestamp, type JsonObject, type KubeObject, type ManagedFieldsEntry } from './objects.ts';
import { displayPath, fromFieldsV1, isEmptyContainer, isGranularList, isPrefix, keyOf, members, pathOf, removeAt, toFieldsV1, valueAt, type FieldShapes, type Member, type Path, type Scope } from './field-paths.ts';
import type { Schema } from './schema.ts';
import type { MergeKeys } from './patch.ts';

export { fromFieldsV1, members, toFieldsV1, type FieldShapes } from './field-paths.ts';

/**
 * Applied configuration merged into the live object: maps by key, list-map items by key, set
 * items by value (new items appended in the configuration's order); atomic lists replaced.
 * Items are recognised through the member sets (`liveMembers` of `live`, `appliedMembers` of
 * `applied`), whose values are the very items of those objects.
 */
function mergeApplied(live: unknown, applied: unknown, path: Path, shapes: FieldShapes, liveMembers: Map<string, Member>, appliedMembers: Map<string, Member>): unknown {
  if (isObject(applied)) {
    if (Object.keys(applied).length > 0 && appliedMembers.has(keyOf(path))) return structuredClone(applied); // an atomic map
    const out: Record<string, unknown> = isObject(live) ? structuredClone(live) : {};
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete out[k];
      else if (v !== undefined) out[k] = mergeApplied(isObject(live) ? live[k] : undefined, v, [...path, `f:${k}`], shapes, liveMembers, appliedMembers);
    }
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live) && (applied.length > 0 ? !appliedMembers.has(keyOf(path)) : isGranularList(path, shapes))) {
    const liveSegs = live.map((x) => itemSegs(liveMembers).get(x));
    const out = live.map((x) => structuredClone(x));
    for (const x of applied) {
      const seg = itemSegs(appliedMembers).get(x)!;
      const at = liveSegs.indexOf(seg);
      if (at < 0) out.push(structuredClone(x));
      else if (!seg.startsWith('v:')) out[at] = mergeApplied(live[at], x, [...path, seg], shapes, liveMembers, appliedMembers);
    }
    return out;
  }
  return structuredClone(applied);
}

const segCache = new WeakMap<Map<string, Member>, Map<unknown, string>>();

/** List items (by identity) to their last path segment, `k:{…}` or `v:…`. */
function itemSegs(set: Map<string, Member>): Map<unknown, string> {
  let m = segCache.get(set);
  if (!m) {
    m = new Map();
    for (const [k, member] of set) if (member.item) m.set(member.value, pathOf(k).at(-1)!);
    segCache.set(set, m);
  }
  return m;
}

/** Every proper prefix of the given paths, as keys. */
function prefixes(paths: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const k of paths) {
    const p = pathOf(k);
    for (let i = 1; i < p.length; i++) out.add(keyOf(p.slice(0, i)));
  }
  return out;
}

const scopeOf = (subresource: string | undefined, hasStatus: boolean): Scope => (subresource === 'status' ? 'status' : hasStatus ? 'main' : 'all');

/** The shapes of a kind: its schema, and strategic-merge keys (built-ins; ObjectMeta's for everyone). */
export function shapesOf(schema: Schema | undefined, listKeys: MergeKeys | undefined): FieldShapes {
  return { schema, listKeys: { ...OBJECT_META_LIST_KEYS, ...listKeys } };
}

/** ObjectMeta as kube-apiserver declares it for every kind: finalizers a set, ownerReferences a map keyed by uid. */
const OBJECT_META_LIST_KEYS: MergeKeys = { 'metadata.finalizers': '$primitive', 'metadata.ownerReferences': 'uid' };

const entrySet = (e: ManagedFieldsEntry): Set<string> => fromFieldsV1(e.fieldsV1);
const nonEmpty = (entries: ManagedFieldsEntry[]) => entries.filter((e) => Object.keys(e.fieldsV1).length > 0);

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
  return nonEmpty(out);
}

/** Paths that differ between two member sets: added or (for non-items) changed, and removed. */
function compare(before: Map<string, Member>, after: Map<string, Member>): { changed: Set<string>; removed: Set<string> } {
  const changed = new Set<string>();
  const removed = new Set<string>();
  for (const [k, m] of after) {
    const o = before.get(k);
    if (!o || (!m.item && !o.item && !deepEqual(o.value, m.value))) changed.add(k);
  }
  for (const k of before.keys()) if (!after.has(k)) removed.add(k);
  return { changed, removed };
}

/** Ownership after a create, update or patch by `manager`: it takes every path it added or changed. */
export function recordUpdate(
  entries: ManagedFieldsEntry[],
  before: KubeObject | undefined,
  after: KubeObject,
  manager: string,
  apiVersion: string,
  subresource: string | undefined,
  hasStatus: boolean,
  shapes: FieldShapes = shapesOf(undefined, undefined),
): ManagedFieldsEntry[] {
  const scope = scopeOf(subresource, hasStatus);
  const old = before ? members(before, 'all', shapes) : new Map<string, Member>();
  const { changed: changedAll, removed } = compare(old, members(after, 'all', shapes));
  const inScope = members(after, scope, shapes);
  const changed = new Set([...changedAll].filter((k) => inScope.has(k)));
  const out = [...entries];
  out.forEach((e, i) => {
    const set = entrySet(e);
    let touched = false;
    for (const k of [...set]) {
      if (removed.has(k) || (e.manager !== manager && changed.has(k))) {
        set.delete(k);
        touched = true;
      }
    }
    if (touched) withSet(out, i, set);
  });
  if (changed.size === 0) return nonEmpty(out);
  return upsert(out, manager, 'Update', apiVersion, subresource, changed, false);
}

export interface ApplyResult {
  object: KubeObject;
  managedFields: ManagedFieldsEntry[];
}

interface Conflict {
  entry: ManagedFieldsEntry;
  path: string;
}

/** How kube-apiserver names a manager in a conflict: updaters with their API version and time. */
function managerName(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += e.time ? ` using ${e.apiVersion} at ${e.time}` : ` using ${e.apiVersion}`;
  return s;
}

function conflictError(conflicts: Conflict[], name: string): ApiError {
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${managerName(conflicts[0]!.entry)}: ${displayPath(pathOf(conflicts[0]!.path))}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const m = managerName(c.entry);
      byManager.set(m, [...(byManager.get(m) ?? []), displayPath(pathOf(c.path))]);
    }
    const lines = [...byManager.keys()].sort().flatMap((m) => [`conflicts with ${m}:`, ...byManager.get(m)!.map((p) => `- ${p}`)]);
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, {
    name,
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${managerName(c.entry)}`, field: displayPath(pathOf(c.path)) })),
  });
}

/** The key fields of a list-map item (`name` under `k:{"name":"X"}`) stay while the item does. */
function isItemKeyField(path: Path): boolean {
  const parent = path[path.length - 2];
  const last = path[path.length - 1]!;
  if (!parent?.startsWith('k:') || !last.startsWith('f:')) return false;
  return Object.hasOwn(JSON.parse(parent.slice(2)) as object, last.slice(2));
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
  shapes: FieldShapes = shapesOf(undefined, undefined),
): ApplyResult {
  const scope = scopeOf(subresource, hasStatus);
  const entries = [...(live?.metadata.managedFields ?? [])];
  const mine = entries.findIndex((e) => e.manager === manager && e.operation === 'Apply' && (e.subresource ?? '') === (subresource ?? ''));
  const previous = mine >= 0 ? entrySet(entries[mine]!) : new Set<string>();
  const appliedMembers = members(applied, scope, shapes);
  const wanted = new Set(appliedMembers.keys());
  const liveMembers = members(live, 'all', shapes);

  const merged = mergeApplied(live ?? {}, applied, [], shapes, liveMembers, appliedMembers) as KubeObject;

  // conflicts: paths of other managers this apply adds or changes (list items themselves are identities, never "changed")
  const { changed } = compare(liveMembers, members(merged, 'all', shapes));
  const conflicts: Conflict[] = [];
  entries.forEach((e, i) => {
    if (i === mine || e.manager === manager) return;
    for (const k of entrySet(e)) if (changed.has(k)) conflicts.push({ entry: e, path: k });
  });
  if (conflicts.length > 0 && !force) throw conflictError(conflicts, applied.metadata.name ?? '');

  // ownership moves to this manager where forced
  entries.forEach((e, i) => {
    if (i === mine || e.manager === manager) return;
    const set = entrySet(e);
    let touched = false;
    for (const c of conflicts) if (c.entry === e && set.delete(c.path)) touched = true;
    if (touched) withSet(entries, i, set);
  });

  // paths this manager applied before and no longer applies are removed if nobody else owns
  // them: a field when no other manager owns it or anything inside it, a list item when no
  // other manager owns the item itself
  const otherSet = new Set(entries.flatMap((e, i) => (i === mine ? [] : [...entrySet(e)])));
  const otherInside = prefixes(otherSet);
  const wantedInside = prefixes(wanted);
  // an applied leaf (atomic value, not an item or an empty map/list) covers everything below it
  const coveredByApplied = (p: Path) =>
    p.some((_, i) => {
      const m = i > 0 ? appliedMembers.get(keyOf(p.slice(0, i))) : undefined;
      return m !== undefined && !m.item && !isEmptyContainer(m.value);
    });
  const keep = (p: Path) => wanted.has(keyOf(p)) || otherSet.has(keyOf(p));
  for (const k of previous) {
    if (wanted.has(k) || wantedInside.has(k)) continue;
    const p = pathOf(k);
    if (coveredByApplied(p) || isItemKeyField(p)) continue;
    const isItem = /^[kvi]:/.test(p[p.length - 1]!);
    const ownedElsewhere = otherSet.has(k) || (!isItem && otherInside.has(k));
    if (!ownedElsewhere) removeAt(merged, p, keep);
  }

  // other managers lose what no longer exists
  const after = members(merged, 'all', shapes);
  entries.forEach((e, i) => {
    if (i === mine) return;
    const set = entrySet(e);
    let touched = false;
    for (const k of [...set]) {
      if (liveMembers.has(k) && !after.has(k)) {
        set.delete(k);
        touched = true;
      }
    }
    if (touched) withSet(entries, i, set);
  });

  const managedFields = upsert(nonEmpty(entries), manager, 'Apply', apiVersion, subresource, wanted, true);
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
