/**
 * Test helpers that behave like the API server on a CRD's schema, without an API server:
 * - `structuralProblems`: the apiextensions.k8s.io/v1 rules a CRD must meet to be accepted
 *   (structural schema, defaults valid and pruned, list-map keys, names, printer columns);
 * - `crdValidator`: validate one object the way the API server does on create — prune unknown
 *   fields, apply defaults, check the OpenAPI schema, then evaluate the CEL rules.
 */
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { evaluate } from '@marcbachmann/cel-js';
import { guessPlural } from '../../lib/kube/resources.ts';

type Schema = { [key: string]: unknown };
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const preserves = (s: Schema) => s['x-kubernetes-preserve-unknown-fields'] === true;
const intOrString = (s: Schema) => s['x-kubernetes-int-or-string'] === true;

/** Keywords an apiextensions.k8s.io/v1 JSONSchemaProps may carry. */
const V1_KEYWORDS = new Set([
  'description', 'type', 'format', 'title', 'default', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'enum', 'maxProperties',
  'minProperties', 'required', 'items', 'allOf', 'oneOf', 'anyOf', 'not', 'properties', 'additionalProperties',
  'nullable', 'example', 'externalDocs',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys', 'x-kubernetes-list-type', 'x-kubernetes-map-type', 'x-kubernetes-validations',
]);
const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

export function newAjv(options: { useDefaults?: boolean; removeAdditional?: boolean } = {}): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: options.useDefaults ?? false, removeAdditional: options.removeAdditional ?? false });
  addFormats(ajv);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  return ajv;
}

/**
 * A copy of a structural schema as plain JSON Schema: objects with `properties` and no
 * preserve-unknown flag are closed (`additionalProperties: false`), which with ajv's
 * `removeAdditional` reproduces the API server's pruning of unknown fields.
 */
export function toAjvSchema(schema: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties' && isObject(v)) out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, toAjvSchema(s as Schema)]));
    else if ((k === 'items' || k === 'additionalProperties') && isObject(v)) out[k] = toAjvSchema(v);
    else out[k] = v;
  }
  if (schema.type === 'object' && isObject(schema.properties) && !preserves(schema) && schema.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

export interface Problem {
  path: string;
  message: string;
}

/** Every reason the API server would refuse this CRD (empty when it is fine). */
export function structuralProblems(crd: Schema): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  if (crd.apiVersion !== 'apiextensions.k8s.io/v1' || crd.kind !== 'CustomResourceDefinition') add('', 'not an apiextensions.k8s.io/v1 CustomResourceDefinition');
  const spec = (crd.spec ?? {}) as Schema;
  const names = (spec.names ?? {}) as Schema;
  const metadata = (crd.metadata ?? {}) as Schema;
  if (metadata.name !== `${names.plural}.${spec.group}`) add('metadata.name', `must be <plural>.<group> = ${names.plural}.${spec.group}`);
  if (typeof names.kind !== 'string' || names.plural !== guessPlural(names.kind)) {
    add('spec.names.plural', `must be ${guessPlural(String(names.kind))}, the plural Knative's ApiServerSource derives from kind ${names.kind}`);
  }
  if (names.singular !== String(names.kind).toLowerCase()) add('spec.names.singular', 'must be the lower-cased kind');
  if (names.listKind !== `${names.kind}List`) add('spec.names.listKind', 'must be <kind>List');
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') add('spec.scope', 'must be Namespaced or Cluster');
  const versions = Array.isArray(spec.versions) ? (spec.versions as Schema[]) : [];
  if (versions.length === 0) add('spec.versions', 'needs at least one version');
  if (versions.filter((v) => v.storage === true).length !== 1) add('spec.versions', 'exactly one version must be the storage version');
  versions.forEach((version, i) => {
    const at = `spec.versions[${i}]`;
    const root = ((version.schema as Schema | undefined)?.openAPIV3Schema ?? undefined) as Schema | undefined;
    if (!root) return add(`${at}.schema.openAPIV3Schema`, 'missing');
    if (root.type !== 'object') add(`${at}.schema.openAPIV3Schema.type`, 'must be object');
    checkNode(root, `${at}.schema.openAPIV3Schema`, add, { underMetadata: false });
    const meta = (root.properties as Schema | undefined)?.metadata as Schema | undefined;
    if (meta) {
      const allowed = new Set(['name', 'generateName']);
      for (const k of Object.keys((meta.properties as Schema | undefined) ?? {})) if (!allowed.has(k)) add(`${at}...metadata.${k}`, 'only metadata.name and metadata.generateName may be restricted');
      if (meta.default !== undefined) add(`${at}...metadata`, 'metadata may not have a default');
    }
    const status = (root.properties as Schema | undefined)?.status;
    if (status && !(version.subresources as Schema | undefined)?.status) add(`${at}.subresources.status`, 'a status schema without the status subresource lets any writer of the spec write status');
    for (const [j, col] of ((version.additionalPrinterColumns ?? []) as Schema[]).entries()) {
      const colAt = `${at}.additionalPrinterColumns[${j}]`;
      if (!['string', 'integer', 'number', 'boolean', 'date'].includes(String(col.type))) add(colAt, `unknown column type ${String(col.type)}`);
      if (!jsonPathResolves(root, String(col.jsonPath))) add(colAt, `jsonPath ${String(col.jsonPath)} does not name a field of the schema`);
    }
  });
  return problems;
}

function checkNode(node: Schema, path: string, add: (p: string, m: string) => void, ctx: { underMetadata: boolean }): void {
  for (const k of Object.keys(node)) if (!V1_KEYWORDS.has(k)) add(path, `keyword ${k} is not allowed in apiextensions.k8s.io/v1`);
  if (typeof node.type !== 'string' || !TYPES.has(node.type)) {
    if (!preserves(node) && !intOrString(node)) add(path, `needs a type (one of ${[...TYPES].join(', ')})`);
  }
  if (node.uniqueItems === true) add(path, 'uniqueItems: true is forbidden');
  if (node.properties !== undefined && node.additionalProperties !== undefined) add(path, 'properties and additionalProperties are mutually exclusive');
  if (node.additionalProperties === false) add(path, 'additionalProperties: false is not allowed; unknown fields are pruned');
  for (const junctor of ['allOf', 'anyOf', 'oneOf', 'not']) {
    if (node[junctor] !== undefined) add(path, `${junctor} is not used by this project's schemas; structural rules restrict it`);
  }
  if (node.type === 'array' && !isObject(node.items)) add(path, 'an array needs an items schema');
  if (node.type === 'object' && node.required !== undefined) {
    const props = (node.properties ?? {}) as Schema;
    for (const r of node.required as string[]) if (!(r in props)) add(path, `required field ${r} is not among the properties`);
  }
  if (node.pattern !== undefined) {
    try {
      new RegExp(String(node.pattern), 'u');
    } catch (e) {
      add(path, `pattern does not compile: ${(e as Error).message}`);
    }
    if (/\(\?[=!<]/.test(String(node.pattern))) add(path, 'pattern uses look-around, which RE2 (the API server) does not support');
  }
  if (node['x-kubernetes-list-type'] === 'map') {
    const keys = node['x-kubernetes-list-map-keys'];
    const item = (node.items ?? {}) as Schema;
    const itemProps = (item.properties ?? {}) as Record<string, Schema>;
    const req = new Set((item.required ?? []) as string[]);
    if (!Array.isArray(keys) || keys.length === 0) add(path, 'list-type map needs x-kubernetes-list-map-keys');
    else for (const k of keys as string[]) {
      const p = itemProps[k];
      if (!p) add(path, `list-map key ${k} is not a property of the items`);
      else if (!req.has(k) && p.default === undefined) add(path, `list-map key ${k} must be required or defaulted`);
      else if (!['string', 'integer', 'number', 'boolean'].includes(String(p.type))) add(path, `list-map key ${k} must be a scalar`);
    }
  }
  const rules = node['x-kubernetes-validations'];
  if (rules !== undefined) {
    if (!Array.isArray(rules)) add(path, 'x-kubernetes-validations must be a list');
    else for (const [i, r] of (rules as Schema[]).entries()) {
      if (typeof r.rule !== 'string' || r.rule.trim() === '') add(`${path}.x-kubernetes-validations[${i}]`, 'rule must be a non-empty CEL expression');
      if (r.fieldPath !== undefined && !jsonPathResolves(node, String(r.fieldPath))) add(`${path}.x-kubernetes-validations[${i}]`, `fieldPath ${String(r.fieldPath)} does not name a field`);
    }
  }
  if (node.default !== undefined) {
    if (ctx.underMetadata) add(path, 'defaults are not allowed under metadata');
    const problems = defaultProblems(node);
    for (const p of problems) add(path, `default ${JSON.stringify(node.default)} ${p}`);
  }
  if (isObject(node.properties)) {
    for (const [k, v] of Object.entries(node.properties)) checkNode(v as Schema, `${path}.properties.${k}`, add, { underMetadata: ctx.underMetadata || k === 'metadata' });
  }
  if (isObject(node.items)) checkNode(node.items, `${path}.items`, add, ctx);
  if (isObject(node.additionalProperties)) checkNode(node.additionalProperties, `${path}.additionalProperties`, add, ctx);
}

/** A default must validate against its schema after nested defaulting, and survive pruning. */
function defaultProblems(node: Schema): string[] {
  const withoutDefault = { ...node };
  delete withoutDefault.default;
  const schema = toAjvSchema(withoutDefault);
  const pruned = structuredClone(node.default);
  const validate = newAjv({ useDefaults: true, removeAdditional: true }).compile(schema);
  const out: string[] = [];
  if (!validate(pruned)) out.push(`does not validate: ${formatAjvErrors(validate.errors ?? [])}`);
  const defaulted = structuredClone(node.default);
  newAjv({ useDefaults: true }).compile(schema)(defaulted);
  if (JSON.stringify(pruned) !== JSON.stringify(defaulted)) out.push('contains fields that pruning would remove');
  return out;
}

/** Does a simple JSONPath (`.a.b`, `.a[?(@.type=="X")].b`) name a field of the schema? */
export function jsonPathResolves(schema: Schema, jsonPath: string): boolean {
  const segments = jsonPath.replace(/\[\?\(@\.[^)]*\)\]/g, '[]').split('.').filter(Boolean);
  let node: Schema | undefined = schema;
  for (const raw of segments) {
    const isList = raw.endsWith('[]');
    const name = isList ? raw.slice(0, -2) : raw;
    if (!node) return false;
    if (node === schema && name === 'metadata') return true; // ObjectMeta is not spelled out in CRDs
    const props: Schema | undefined = node.properties as Schema | undefined;
    node = props?.[name] as Schema | undefined;
    if (isList) node = node?.type === 'array' ? (node.items as Schema) : undefined;
  }
  return node !== undefined;
}

export function formatAjvErrors(errors: ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
}

export interface ValidationOutcome {
  ok: boolean;
  /** the object after pruning and defaulting (what the API server would store) */
  value: unknown;
  errors: Problem[];
}

/**
 * Validates `value` against a (sub)schema of a CRD as the API server does on create:
 * prune, default, OpenAPI validation, then CEL rules (`oldSelf` rules only run on update
 * and are skipped). `base` is the field path of `value`, e.g. `spec`.
 */
export function crdValidator(schema: Schema, base: string): (value: unknown) => ValidationOutcome {
  const validate = newAjv({ useDefaults: true, removeAdditional: true }).compile(toAjvSchema(schema));
  return (input) => {
    const value = structuredClone(input);
    const errors: Problem[] = [];
    if (!validate(value)) {
      for (const e of validate.errors ?? []) {
        const path = [base, ...e.instancePath.split('/').filter(Boolean)].join('.');
        const missing = e.keyword === 'required' ? `.${(e.params as { missingProperty: string }).missingProperty}` : '';
        errors.push({ path: path + missing, message: e.message ?? e.keyword });
      }
    }
    if (errors.length === 0) errors.push(...celErrors(schema, value, base));
    return { ok: errors.length === 0, value, errors };
  };
}

export function celErrors(schema: Schema, value: unknown, path: string): Problem[] {
  const errors: Problem[] = [];
  const rules = (schema['x-kubernetes-validations'] ?? []) as { rule: string; message?: string; fieldPath?: string }[];
  for (const r of rules) {
    if (/\boldSelf\b/.test(r.rule)) continue;
    let ok: unknown;
    try {
      ok = evaluate(r.rule, { self: value });
    } catch (e) {
      errors.push({ path, message: `CEL error in ${r.rule}: ${(e as Error).message}` });
      continue;
    }
    if (ok !== true) errors.push({ path: path + (r.fieldPath ?? ''), message: r.message ?? `failed rule: ${r.rule}` });
  }
  if (isObject(value) && isObject(schema.properties)) {
    for (const [k, sub] of Object.entries(schema.properties)) if (value[k] !== undefined) errors.push(...celErrors(sub as Schema, value[k], `${path}.${k}`));
  }
  if (isObject(value) && isObject(schema.additionalProperties)) {
    for (const [k, v] of Object.entries(value)) errors.push(...celErrors(schema.additionalProperties, v, `${path}[${k}]`));
  }
  if (Array.isArray(value) && isObject(schema.items)) value.forEach((v, i) => errors.push(...celErrors(schema.items as Schema, v, `${path}[${i}]`)));
  return errors;
}
