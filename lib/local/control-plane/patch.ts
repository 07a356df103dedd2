/**
 * The three classic patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902, through
 * fast-json-patch) and Kubernetes' strategic merge patch for the built-in kinds this server
 * knows the merge keys of. Each returns a new document; the input is not modified.
 */
import fastJsonPatch from 'fast-json-patch';
import { apiError } from './status.ts';
import { clone, deepEqual, isObject } from './objects.ts';

const MAX_JSON_PATCH_OPERATIONS = 10_000;

/** RFC 7386: objects merge recursively, `null` deletes, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902. Bad operations are 422 (as kube-apiserver answers), a malformed document 400. */
export function jsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw apiError.badRequest('json patch must be a JSON array of operations');
  if (patch.length > MAX_JSON_PATCH_OPERATIONS)
    throw apiError.unprocessable(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`);
  for (const [i, op] of patch.entries()) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string')
      throw apiError.badRequest(`json patch operation ${i} must be an object with string "op" and "path"`);
  }
  try {
    return fastJsonPatch.applyPatch(clone(target), patch as fastJsonPatch.Operation[], true, true, true).newDocument;
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw apiError.unprocessable(`the JSON patch could not be applied: ${message}`);
  }
}

/**
 * Where a built-in kind's lists merge instead of being replaced: a dotted path (list indexes
 * left out) to the merge key, or `$primitive` for lists of scalars merged as sets.
 */
export type MergeKeys = Record<string, string>;

export const OBJECT_META_MERGE_KEYS: MergeKeys = {
  'metadata.finalizers': '$primitive',
  'metadata.ownerReferences': 'uid',
};

const DELETE_FROM_PRIMITIVE = '$deleteFromPrimitiveList/';
const SET_ELEMENT_ORDER = '$setElementOrder/';

/** Strategic merge patch with `$patch`, `$retainKeys`, `$deleteFromPrimitiveList` and `$setElementOrder`. */
export function strategicMergePatch(target: unknown, patch: unknown, mergeKeys: MergeKeys): unknown {
  if (!isObject(patch)) throw apiError.badRequest('a strategic merge patch must be a JSON object');
  return smpMap(isObject(target) ? target : {}, patch, '', mergeKeys) ?? {};
}

const childPath = (path: string, key: string) => (path ? `${path}.${key}` : key);

function smpMap(original: Record<string, unknown>, patch: Record<string, unknown>, path: string, keys: MergeKeys): Record<string, unknown> | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const rest = clone(patch);
    delete rest.$patch;
    return stripDirectives(rest) as Record<string, unknown>;
  }
  if (directive !== undefined && directive !== 'merge') throw apiError.badRequest(`unknown $patch directive ${JSON.stringify(directive)} at ${path || 'the top level'}`);
  const out = clone(original);
  const orders: [string, unknown][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith(DELETE_FROM_PRIMITIVE)) {
      const field = k.slice(DELETE_FROM_PRIMITIVE.length);
      if (!Array.isArray(v)) throw apiError.badRequest(`${k} must be a list`);
      const current = out[field];
      if (Array.isArray(current)) out[field] = current.filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    if (k.startsWith(SET_ELEMENT_ORDER)) {
      orders.push([k.slice(SET_ELEMENT_ORDER.length), v]);
      continue;
    }
    const at = childPath(path, k);
    if (v === null) {
      delete out[k];
    } else if (isObject(v)) {
      const merged = smpMap(isObject(out[k]) ? (out[k] as Record<string, unknown>) : {}, v, at, keys);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else if (Array.isArray(v)) {
      out[k] = smpList(Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v, at, keys);
    } else {
      out[k] = clone(v);
    }
  }
  for (const [field, order] of orders) {
    const list = out[field];
    if (Array.isArray(list) && Array.isArray(order)) out[field] = applyOrder(list, order, keys[childPath(path, field)]);
  }
  const retain = patch.$retainKeys;
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw apiError.badRequest(`$retainKeys at ${path || 'the top level'} must be a list`);
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  return out;
}

function smpList(original: unknown[], patch: unknown[], path: string, keys: MergeKeys): unknown[] {
  const key = keys[path];
  if (key === undefined) return stripDirectives(patch) as unknown[];
  if (key === '$primitive') {
    const out = [...original];
    for (const v of patch) if (!out.some((x) => deepEqual(x, v))) out.push(clone(v));
    return out;
  }
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) return stripDirectives(patch.filter((p) => !(isObject(p) && p.$patch === 'replace'))) as unknown[];
  const out = original.map((x) => clone(x));
  for (const item of patch) {
    if (!isObject(item)) throw apiError.badRequest(`${path}: list items must be objects with merge key "${key}"`);
    const id = item[key];
    const at = out.findIndex((x) => isObject(x) && deepEqual(x[key], id));
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) {
      out[at] = smpMap(out[at] as Record<string, unknown>, item, path, keys);
    } else {
      out.push(stripDirectives(item));
    }
  }
  return out.filter((x) => x !== undefined);
}

function applyOrder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const same = (a: unknown, b: unknown) => (key && key !== '$primitive' && isObject(a) && isObject(b) ? deepEqual(a[key], b[key]) : deepEqual(a, b));
  const ordered: unknown[] = [];
  for (const o of order) {
    const found = list.find((x) => same(x, o));
    if (found !== undefined && !ordered.includes(found)) ordered.push(found);
  }
  for (const x of list) if (!ordered.includes(x)) ordered.push(x);
  return ordered;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}
