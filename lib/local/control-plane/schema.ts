/**
 * Structural OpenAPI v3 schemas as CustomResourceDefinitions carry them: pruning of unknown
 * fields, defaulting, and validation with kube-apiserver's field paths and messages.
 * `x-kubernetes-validations` (CEL) are evaluated by cel.ts through the hook in `validate`.
 */
import { child, fieldError, index, type FieldError } from './field-errors.ts';
import { deepEqual, isObject, type Json } from './objects.ts';

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: Json[];
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  uniqueItems?: boolean;
  nullable?: boolean;
  default?: Json;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  not?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

/** Evaluates `x-kubernetes-validations` at one node (cel.ts provides it). */
export type RuleHook = (rules: ValidationRule[], self: unknown, oldSelf: unknown, hasOld: boolean, schema: Schema, path: string) => FieldError[];

const OBJECT_META_KEYS = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Removes fields the schema does not declare (unless preserved), in place. Returns the paths
 * of removed fields, which Strict field validation reports and Warn reports as warnings.
 * At the root (and in embedded resources) apiVersion, kind and metadata are kept.
 */
export function prune(value: unknown, schema: Schema | undefined, path = '', root = true): string[] {
  const removed: string[] = [];
  walkPrune(value, schema, path, root, removed);
  return removed;
}

function walkPrune(value: unknown, schema: Schema | undefined, path: string, root: boolean, removed: string[]): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => walkPrune(item, schema.items, index(path, i), false, removed));
    return;
  }
  if (!isObject(value)) return;
  const embedded = root || schema['x-kubernetes-embedded-resource'] === true;
  const props = schema.properties;
  const additional = schema.additionalProperties;
  for (const key of Object.keys(value)) {
    const at = child(path, key);
    // apiVersion, kind and metadata (ObjectMeta) are pruned by the server itself, never by the CRD schema
    if (embedded && OBJECT_META_KEYS.has(key)) continue;
    const sub = props?.[key];
    if (sub) {
      walkPrune(value[key], sub, at, false, removed);
    } else if (isObject(additional)) {
      walkPrune(value[key], additional, index(path, key), false, removed);
    } else if (additional === true || schema['x-kubernetes-preserve-unknown-fields'] === true) {
      // kept as is
    } else {
      delete value[key];
      removed.push(at);
    }
  }
}

/** Applies `default`s in place (after pruning, as kube-apiserver does); drops nulls the schema does not allow. */
export function applyDefaults(value: unknown, schema: Schema | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isObject(value)) return;
  if (schema.properties) {
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (value[key] === null && !sub.nullable) delete value[key];
      if (value[key] === undefined && sub.default !== undefined) value[key] = structuredClone(sub.default);
      if (value[key] !== undefined) applyDefaults(value[key], sub);
    }
  }
  if (isObject(schema.additionalProperties)) {
    const sub = schema.additionalProperties;
    for (const key of Object.keys(value)) {
      if (schema.properties?.[key]) continue;
      if (value[key] === null && !sub.nullable) delete value[key];
      else applyDefaults(value[key], sub);
    }
  }
}

export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function hasType(value: unknown, type: NonNullable<Schema['type']>): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
  }
}

const regexCache = new Map<string, RegExp | null>();
export function compilePattern(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      try {
        re = new RegExp(pattern);
      } catch {
        re = null;
      }
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

const FORMATS: Record<string, (s: string) => boolean> = {
  'date-time': (s) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s.replace(' ', 'T'))),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  uuid: (s) => /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(s),
  byte: (s) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s),
  ipv4: (s) => /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(s),
  hostname: (s) => s.length <= 255 && /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*$/.test(s),
  email: (s) => /^[^@\s]+@[^@\s]+$/.test(s),
};

const utf8Length = (s: string) => [...s].length;

/**
 * Validates `value` against `schema` and returns every violation with its field path.
 * `old` is the value at the same place before an update (for transition rules).
 */
export function validate(value: unknown, schema: Schema | undefined, path: string, rules?: RuleHook, old?: { value: unknown }): FieldError[] {
  const errors: FieldError[] = [];
  walkValidate(value, schema, path, errors);
  if (rules) errors.push(...rulesAfter(errors, () => validateRules(value, schema, path, rules, old)));
  return errors;
}

/**
 * The error types after which kube-apiserver evaluates no CEL rule of the object at all
 * (hasBlockingErr in its custom resource strategy): enum, required, length, item count, type.
 */
const BLOCKING = new Set<FieldError['type']>(['FieldValueNotSupported', 'FieldValueRequired', 'FieldValueTooLong', 'FieldValueTooMany', 'FieldValueTypeInvalid']);

export const RULES_NOT_CHECKED: FieldError = {
  type: 'FieldValueInvalid',
  field: '<nil>',
  message: 'Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
};

/** The CEL errors to add to `errors`: the rules' own, or the notice that they were not checked. */
export function rulesAfter(errors: readonly FieldError[], run: () => FieldError[]): FieldError[] {
  return errors.some((e) => BLOCKING.has(e.type)) ? [RULES_NOT_CHECKED] : run();
}

/**
 * Evaluates the `x-kubernetes-validations` of every node that has a value, as kube-apiserver
 * does once schema validation found nothing blocking. `old` is the value before an update:
 * properties and map entries correlate by key, list-map items by their keys, other list items not.
 */
export function validateRules(value: unknown, schema: Schema | undefined, path: string, rules: RuleHook, old?: { value: unknown }): FieldError[] {
  const errors: FieldError[] = [];
  const walk = (v: unknown, s: Schema | undefined, at: string, o: { value: unknown } | undefined) => {
    if (!s || v === null || v === undefined) return;
    const here = s['x-kubernetes-validations'];
    if (here?.length) errors.push(...rules(here, v, o?.value, o !== undefined, s, at));
    if (Array.isArray(v) && s.items) {
      const keys = s['x-kubernetes-list-type'] === 'map' ? (s['x-kubernetes-list-map-keys'] ?? []) : undefined;
      const olds = keys && o && Array.isArray(o.value) ? o.value : [];
      v.forEach((item, i) => {
        const match = keys && isObject(item) ? olds.find((x) => isObject(x) && keys.every((k) => deepEqual(x[k], item[k]))) : undefined;
        walk(item, s.items, index(at, i), match !== undefined ? { value: match } : undefined);
      });
      return;
    }
    if (!isObject(v)) return;
    const oldObj = o && isObject(o.value) ? o.value : undefined;
    for (const [key, sub] of Object.entries(v)) {
      const oldChild = oldObj && oldObj[key] !== undefined ? { value: oldObj[key] } : undefined;
      const ps = s.properties?.[key];
      if (ps) walk(sub, ps, child(at, key), oldChild);
      else if (isObject(s.additionalProperties)) walk(sub, s.additionalProperties as Schema, index(at, key), oldChild);
    }
    for (const sub of s.allOf ?? []) {
      const r = sub['x-kubernetes-validations'];
      if (r?.length) errors.push(...rules(r, v, o?.value, o !== undefined, sub, at));
    }
  };
  walk(value, schema, path, old);
  return errors;
}

function walkValidate(value: unknown, schema: Schema | undefined, path: string, errors: FieldError[]): void {
  if (!schema) return;
  if (value === null) {
    if (!schema.nullable && schema.type) errors.push(fieldError.typeInvalid(path, 'null', `${path || 'body'} in body must be of type ${schema.type}: "null"`));
    return;
  }
  if (schema['x-kubernetes-int-or-string']) {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)))) {
      errors.push(fieldError.typeInvalid(path, typeName(value), `${path} in body must be of type integer or string: "${typeName(value)}"`));
      return;
    }
  } else if (schema.type && !hasType(value, schema.type)) {
    errors.push(fieldError.typeInvalid(path, typeName(value), `${path || 'body'} in body must be of type ${schema.type}: "${typeName(value)}"`));
    return;
  }
  if (schema.enum && !schema.enum.some((e) => deepEqual(e, value))) errors.push(fieldError.notSupported(path, value, schema.enum));

  if (typeof value === 'string') {
    if (schema.minLength !== undefined && utf8Length(value) < schema.minLength)
      errors.push(fieldError.invalid(path, value, `${path} in body should be at least ${schema.minLength} chars long`));
    if (schema.maxLength !== undefined && utf8Length(value) > schema.maxLength) errors.push(fieldError.tooLong(path, schema.maxLength));
    if (schema.pattern !== undefined) {
      const re = compilePattern(schema.pattern);
      if (re && !re.test(value)) errors.push(fieldError.invalid(path, value, `${path} in body should match '${schema.pattern}'`));
    }
    const check = schema.format ? FORMATS[schema.format] : undefined;
    if (check && !check(value)) errors.push(fieldError.invalid(path, value, `${path} in body must be of type ${schema.format}: ${JSON.stringify(value)}`));
  }

  if (typeof value === 'number') {
    if (schema.minimum !== undefined) {
      if (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)
        errors.push(fieldError.invalid(path, value, `${path} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`));
    }
    if (schema.maximum !== undefined) {
      if (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)
        errors.push(fieldError.invalid(path, value, `${path} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`));
    }
    if (schema.multipleOf !== undefined && schema.multipleOf > 0 && !Number.isInteger(value / schema.multipleOf))
      errors.push(fieldError.invalid(path, value, `${path} in body should be a multiple of ${schema.multipleOf}`));
  }

  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      errors.push(fieldError.invalid(path, value.length, `${path} in body should have at least ${schema.minItems} items`));
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(fieldError.tooMany(path, value.length, schema.maxItems));
    const listType = schema['x-kubernetes-list-type'];
    if (schema.uniqueItems || listType === 'set') {
      value.forEach((item, i) => {
        if (value.slice(0, i).some((prev) => deepEqual(prev, item))) errors.push(fieldError.duplicate(index(path, i), item));
      });
    } else if (listType === 'map') {
      const keys = schema['x-kubernetes-list-map-keys'] ?? [];
      const seen: unknown[] = [];
      value.forEach((item, i) => {
        if (!isObject(item)) return;
        const key = Object.fromEntries(keys.map((k) => [k, item[k]]));
        if (seen.some((k) => deepEqual(k, key))) errors.push(fieldError.duplicate(index(path, i), key));
        seen.push(key);
      });
    }
    if (schema.items) value.forEach((item, i) => walkValidate(item, schema.items, index(path, i), errors));
  }

  if (isObject(value)) {
    for (const key of schema.required ?? []) if (value[key] === undefined) errors.push(fieldError.required(child(path, key)));
    const count = Object.keys(value).length;
    if (schema.minProperties !== undefined && count < schema.minProperties)
      errors.push(fieldError.invalid(path, count, `${path} in body should have at least ${schema.minProperties} properties`));
    if (schema.maxProperties !== undefined && count > schema.maxProperties) errors.push(fieldError.tooMany(path, count, schema.maxProperties));
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const sub = schema.properties?.[key];
      if (sub) walkValidate(v, sub, child(path, key), errors);
      else if (isObject(schema.additionalProperties)) walkValidate(v, schema.additionalProperties, index(path, key), errors);
    }
  }

  for (const sub of schema.allOf ?? []) walkValidate(value, sub, path, errors);
  if (schema.anyOf && !schema.anyOf.some((s) => validate(value, s, path).length === 0))
    errors.push(fieldError.invalid(path, typeName(value), `${path || 'body'} in body must validate at least one schema (anyOf)`));
  if (schema.oneOf && schema.oneOf.filter((s) => validate(value, s, path).length === 0).length !== 1)
    errors.push(fieldError.invalid(path, typeName(value), `${path || 'body'} in body must validate one and only one schema (oneOf)`));
  if (schema.not && validate(value, schema.not, path).length === 0)
    errors.push(fieldError.invalid(path, typeName(value), `${path || 'body'} in body must not validate the schema (not)`));

}
