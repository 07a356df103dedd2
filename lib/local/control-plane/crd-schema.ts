/**
 * The checks kube-apiserver makes of a CRD version's `openAPIV3Schema` before it stores the CRD
 * (k8s.io/apiextensions-apiserver validation), in its order and wording:
 *
 * 1. structural: every node typed, arrays with items, no additionalProperties at the root, a
 *    root `metadata` that restricts nothing but name and generateName, patterns that compile;
 * 2. only if structural: every `default` is pruned (no undeclared fields), valid against its own
 *    schema and passes its node's CEL rules;
 * 3. always: no uniqueItems, properties and additionalProperties not together, no defaults in
 *    the top-level metadata, list and map types on the right node types, list-map keys that are
 *    item properties, scalar, required or defaulted and not nullable, rule fields (`fieldPath`
 *    naming a field of the node), and, when the schema is otherwise sound, each CEL rule's
 *    compilation (cel-check.ts), cost and use of `oldSelf` where old and new values cannot be
 *    correlated (inside the items of a list that is not a list-map).
 */
import { checkRule, costMessage, declType, PER_CRD_COST_LIMIT, PER_RULE_COST_LIMIT, type CelType } from './cel-check.ts';
import { evaluateRules } from './cel.ts';
import { fieldError, goJson, type FieldError } from './field-errors.ts';
import { deepEqual, isObject } from './objects.ts';
import { compilePattern, prune, validate, validateRules, type Schema, type ValidationRule } from './schema.ts';

const child = (path: string, key: string) => `${path}.${key}`;
const isSchema = (s: unknown): s is Schema => isObject(s);
const prop = (path: string, key: string) => `${path}.properties[${key}]`;

/** An invalid rule, its value the internal ValidationRule as kube-apiserver prints it (Go field names, no omissions, Go's JSON). */
function invalidRule(field: string, r: ValidationRule, detail: string): FieldError {
  const value = { Rule: r.rule ?? '', Message: r.message ?? '', MessageExpression: r.messageExpression ?? '', Reason: r.reason ?? null, FieldPath: r.fieldPath ?? '', OptionalOldSelf: r.optionalOldSelf ?? null };
  return { type: 'FieldValueInvalid', field, message: `Invalid value: ${goJson(value)}: ${detail}` };
}

// ---- 1. structural ----------------------------------------------------------------------

function structuralErrors(root: Schema, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const walk = (s: Schema, at: string, level: 'root' | 'items' | 'field', depth: number) => {
    if (depth > 64) return void errs.push(fieldError.forbidden(at, 'schema nesting is deeper than 64 levels'));
    if (!isSchema(s)) return void errs.push(fieldError.typeInvalid(at, s, 'must be a schema object'));
    if (s.type === 'array' && !s.items) errs.push(fieldError.required(child(at, 'items'), 'must be specified'));
    if (s.items) walk(s.items, child(at, 'items'), 'items', depth + 1);
    for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub, prop(at, k), 'field', depth + 1);
    if (s.additionalProperties !== undefined && s.additionalProperties !== null) {
      if (level === 'root') errs.push(fieldError.forbidden(child(at, 'additionalProperties'), 'must not be used at the root'));
      if (isObject(s.additionalProperties)) walk(s.additionalProperties as Schema, child(at, 'additionalProperties'), 'field', depth + 1);
    }
    errs.push(...valueValidationErrors(s, at, isIntOrStringAnyOf(s), isIntOrStringAllOf(s)));
    const embedded = s['x-kubernetes-embedded-resource'] === true;
    if (embedded && s.type !== 'object') {
      if (!s.type) errs.push(fieldError.required(child(at, 'type'), 'must be object if x-kubernetes-embedded-resource is true'));
      else errs.push(fieldError.invalid(child(at, 'type'), s.type, 'must be object if x-kubernetes-embedded-resource is true'));
    } else if (!s.type && !s['x-kubernetes-int-or-string'] && !s['x-kubernetes-preserve-unknown-fields']) {
      const where = { root: 'at the root', items: 'for specified array items', field: 'for specified object fields' }[level];
      errs.push(fieldError.required(child(at, 'type'), `must not be empty ${where}`));
    }
    if (embedded && s.additionalProperties !== undefined && s.additionalProperties !== null) errs.push(fieldError.forbidden(child(at, 'additionalProperties'), 'must not be used if x-kubernetes-embedded-resource is set'));
    if (s['x-kubernetes-int-or-string'] && s['x-kubernetes-preserve-unknown-fields']) errs.push(fieldError.invalid(child(at, 'x-kubernetes-preserve-unknown-fields'), true, 'must be false if x-kubernetes-int-or-string is true'));
    if (s['x-kubernetes-int-or-string'] && embedded) errs.push(fieldError.invalid(child(at, 'x-kubernetes-embedded-resource'), true, 'must be false if x-kubernetes-int-or-string is true'));
    if (embedded && !s['x-kubernetes-preserve-unknown-fields'] && Object.keys(s.properties ?? {}).length === 0)
      errs.push(fieldError.required(child(at, 'properties'), 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
    if (level === 'root' && s.type && s.type !== 'object') errs.push(fieldError.invalid(child(at, 'type'), s.type, 'must be object at the root'));
    const checkMeta = level === 'root' || embedded;
    for (const k of ['kind', 'apiVersion'] as const) {
      const p = s.properties?.[k];
      if (p && checkMeta && p.type !== 'string') errs.push(fieldError.invalid(child(prop(at, k), 'type'), p.type ?? '', 'must be string'));
    }
    const meta = s.properties?.metadata;
    if (isSchema(meta)) {
      const at2 = prop(at, 'metadata');
      if (checkMeta && meta.type !== 'object') errs.push(fieldError.invalid(child(at2, 'type'), meta.type ?? '', 'must be object'));
      if (level === 'root') {
        const keys = Object.keys(meta.properties ?? {});
        const onlyNames = keys.every((k) => k === 'name' || k === 'generateName');
        const rest = Object.keys(meta).filter((k) => k !== 'type' && k !== 'default' && !(k === 'properties' && onlyNames));
        if (rest.length > 0) errs.push(fieldError.forbidden(at2, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
      }
    }
    return undefined;
  };
  walk(root, path, 'root', 0);
  errs.push(...completenessErrors(root, root, path, path));
  return errs;
}

const INT_OR_STRING_ANY_OF = [{ type: 'integer' }, { type: 'string' }];
const isIntOrStringAnyOf = (s: Schema) => deepEqual(s.anyOf, INT_OR_STRING_ANY_OF);
const isIntOrStringAllOf = (s: Schema) => (s.allOf?.length ?? 0) >= 1 && deepEqual(s.allOf![0]!.anyOf, INT_OR_STRING_ANY_OF);

/** What the value validations (anyOf, allOf, oneOf, not) of a node may not say: they validate, never declare. */
function valueValidationErrors(s: Schema, at: string, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (typeof s.pattern === 'string' && compilePattern(s.pattern) === null) errs.push(fieldError.invalid(child(at, 'pattern'), s.pattern, 'must be a valid regular expression'));
  if (!skipAnyOf) (s.anyOf ?? []).forEach((v, i) => errs.push(...nestedErrors(v, `${at}.anyOf[${i}]`, false)));
  (s.allOf ?? []).forEach((v, i) => errs.push(...nestedErrors(v, `${at}.allOf[${i}]`, skipFirstAllOfAnyOf && i === 0)));
  (s.oneOf ?? []).forEach((v, i) => errs.push(...nestedErrors(v, `${at}.oneOf[${i}]`, false)));
  if (s.not) errs.push(...nestedErrors(s.not, child(at, 'not'), false));
  return errs;
}

const NESTED_FORBIDDEN: [keyof Schema | 'title', (v: unknown) => boolean, string][] = [
  ['type', (v) => typeof v === 'string' && v !== '', 'must be empty to be structural'],
  ['additionalProperties', (v) => v !== undefined && v !== null, 'must be undefined to be structural'],
  ['default', (v) => v !== undefined && v !== null, 'must be undefined to be structural'],
  ['title', (v) => typeof v === 'string' && v !== '', 'must be empty to be structural'],
  ['description', (v) => typeof v === 'string' && v !== '', 'must be empty to be structural'],
  ['nullable', (v) => v === true, 'must be false to be structural'],
  ['x-kubernetes-preserve-unknown-fields', (v) => v === true, 'must be false to be structural'],
  ['x-kubernetes-embedded-resource', (v) => v === true, 'must be false to be structural'],
  ['x-kubernetes-int-or-string', (v) => v === true, 'must be false to be structural'],
  ['x-kubernetes-list-map-keys', (v) => Array.isArray(v) && v.length > 0, 'must be empty to be structural'],
  ['x-kubernetes-list-type', (v) => v !== undefined && v !== null, 'must be undefined to be structural'],
  ['x-kubernetes-map-type', (v) => v !== undefined && v !== null, 'must be undefined to be structural'],
  ['x-kubernetes-validations', (v) => Array.isArray(v) && v.length > 0, 'must be empty to be structural'],
];

function nestedErrors(v: Schema, at: string, skipAnyOf: boolean): FieldError[] {
  if (!isSchema(v)) return [fieldError.typeInvalid(at, v, 'must be a schema object')];
  const errs = valueValidationErrors(v, at, skipAnyOf, false);
  if (v.items) errs.push(...nestedErrors(v.items, child(at, 'items'), false));
  for (const [k, sub] of Object.entries(v.properties ?? {})) errs.push(...nestedErrors(sub, prop(at, k), false));
  const raw = v as Record<string, unknown>;
  for (const [key, present, message] of NESTED_FORBIDDEN) if (present(raw[key])) errs.push(fieldError.forbidden(child(at, key), message));
  if (v.properties?.metadata !== undefined) errs.push(fieldError.forbidden(prop(at, 'metadata'), 'must not be specified in a nested context'));
  return errs;
}

/**
 * Every property and items a value validation names must be declared by the schema itself.
 * kube-apiserver checks this from the root's value validations down (not those of nested nodes).
 */
function completenessErrors(v: Schema, s: Schema, sPath: string, vPath: string): FieldError[] {
  const nested = (n: Schema, target: Schema | undefined, tp: string, np: string): FieldError[] => {
    if (!isSchema(n)) return [];
    if (!target) return [fieldError.required(tp, `because it is defined in ${np}`)];
    return [
      ...completenessErrors(n, target, tp, np),
      ...(n.items ? nested(n.items, target.items, child(tp, 'items'), child(np, 'items')) : []),
      ...Object.entries(n.properties ?? {}).flatMap(([k, sub]) => nested(sub, target.properties?.[k], prop(tp, k), prop(np, k))),
    ];
  };
  return [
    ...(v.not ? nested(v.not, s, sPath, child(vPath, 'not')) : []),
    ...(v.allOf ?? []).flatMap((n, i) => nested(n, s, sPath, `${vPath}.allOf[${i}]`)),
    ...(v.anyOf ?? []).flatMap((n, i) => nested(n, s, sPath, `${vPath}.anyOf[${i}]`)),
    ...(v.oneOf ?? []).flatMap((n, i) => nested(n, s, sPath, `${vPath}.oneOf[${i}]`)),
  ];
}

// ---- 2. defaults --------------------------------------------------------------------------

function defaultErrors(root: Schema, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const walk = (s: Schema, at: string, insideMeta: boolean) => {
    if (s.default !== undefined && !insideMeta) {
      const d = s.default;
      const at2 = child(at, 'default');
      const pruned = structuredClone(d);
      prune(pruned, s, '', false);
      const before = errs.length;
      if (!deepEqual(pruned, d)) errs.push(fieldError.invalid(at2, d, 'must not have unknown fields'));
      const schemaErrs = validate(structuredClone(d), s, at2);
      if (schemaErrs.length) errs.push(...schemaErrs);
      else if (errs.length === before) errs.push(...validateRules(structuredClone(d), s, at2, evaluateRules, { value: structuredClone(d) }));
    }
    // additionalProperties are not followed: defaults there are forbidden
    if (s.items) walk(s.items, child(at, 'items'), insideMeta);
    for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub, prop(at, k), insideMeta || (at === path && (k === 'metadata' || k === 'apiVersion' || k === 'kind')));
  };
  walk(root, path, false);
  return errs;
}

// ---- 3. the OpenAPI walk, with CEL ---------------------------------------------------------

const OPENAPI_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const UNSUPPORTED: [string, string][] = [
  ['id', 'id is not supported'],
  ['additionalItems', 'additionalItems is not supported'],
  ['patternProperties', 'patternProperties is not supported'],
  ['definitions', 'definitions is not supported'],
  ['dependencies', 'dependencies is not supported'],
  ['$ref', '$ref is not supported'],
];

/** JSON Schema that CRDs do not support (kube-apiserver's per-node OpenAPI v3 check). */
function unsupportedKeywords(s: Schema, at: string): FieldError[] {
  const errs: FieldError[] = [];
  const raw = s as Record<string, unknown>;
  if (typeof s.type === 'string' && (s.type as string) !== '' && !OPENAPI_TYPES.includes(s.type)) errs.push(fieldError.notSupported(child(at, 'type'), s.type, OPENAPI_TYPES));
  for (const [key, message] of UNSUPPORTED) {
    const v = raw[key];
    const present = key === 'patternProperties' || key === 'definitions' ? isObject(v) && Object.keys(v).length > 0 : v !== undefined && v !== null && v !== '';
    if (present) errs.push(fieldError.forbidden(child(at, key), message));
  }
  if ((s.type as string) === 'null') errs.push(fieldError.forbidden(child(at, 'type'), 'type cannot be set to null, use nullable as an alternative'));
  if (Array.isArray(raw.items)) errs.push(fieldError.forbidden(child(at, 'items'), 'items must be a schema object and not an array'));
  return errs;
}

/** Whether kube-apiserver can build its structural schema at all (else it checks neither structure, defaults nor CEL). */
function structurable(s: unknown): boolean {
  if (!isSchema(s)) return true;
  const raw = s as Record<string, unknown>;
  if (['id', '$schema', '$ref', 'patternProperties', 'dependencies', 'additionalItems', 'definitions'].some((k) => raw[k] !== undefined && raw[k] !== null && raw[k] !== '')) return false;
  if (Array.isArray(raw.items) || s['x-kubernetes-preserve-unknown-fields'] === false) return false;
  const children = [s.items, s.not, ...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? []), ...Object.values(s.properties ?? {}), isObject(s.additionalProperties) ? s.additionalProperties : undefined];
  return children.every(structurable);
}

const LIST_TYPES = ['atomic', 'set', 'map'];
const REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];

/** Whether `fieldPath` (`.a.b`, `['a']`, `[0]`) names a field under the schema node. */
function fieldPathValid(s: Schema, fieldPath: string): boolean {
  const tokens = fieldPath.match(/'(?:[^'\\]|\\.)*'|[.[\]]|[^.[\]']+/g) ?? [];
  let node: Schema | undefined = s;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '.') continue;
    if (t === '[') {
      const key = tokens[++i];
      if (tokens[++i] !== ']' || key === undefined) return false;
      if (/^'.*'$/.test(key)) {
        const name = key.slice(1, -1);
        if (isObject(node?.additionalProperties)) node = node.additionalProperties as Schema;
        else if (node?.properties?.[name]) node = node.properties[name];
        else return false;
      } else if (/^\d+$/.test(key) && node?.items) node = node.items;
      else return false;
      continue;
    }
    if (t === ']') return false;
    if (!node?.properties?.[t]) return false;
    node = node.properties[t];
  }
  return true;
}

interface RuleCost {
  field: string;
  cost: number;
}

function openApiErrors(root: Schema, path: string, celEnabled: boolean): { errors: FieldError[]; costs: RuleCost[] } {
  const costs: RuleCost[] = [];
  const cel: FieldError[] = [];
  /** returns the schema errors at this node and below; CEL errors go to `cel` */
  const walk = (s: Schema, at: string, opts: { root: boolean; insideMeta: boolean; noDefaults?: string; uncorrelatable?: string; cardinality: number; type: CelType | undefined; noCel?: boolean }): FieldError[] => {
    const errs: FieldError[] = [];
    if (!isSchema(s)) return errs;
    errs.push(...unsupportedKeywords(s, at));
    if (s.default !== undefined && opts.noDefaults) errs.push(fieldError.forbidden(child(at, 'default'), `must not be set ${opts.noDefaults}`));
    if (s.uniqueItems === true) errs.push(fieldError.forbidden(child(at, 'uniqueItems'), 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
    const ap = s.additionalProperties;
    if (ap !== undefined && ap !== null) {
      if (Object.keys(s.properties ?? {}).length > 0 && ap !== true) errs.push(fieldError.forbidden(child(at, 'additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
      if (isObject(ap)) {
        const type = opts.type?.kind === 'map' ? opts.type.elem : undefined;
        errs.push(...walk(ap as Schema, child(at, 'additionalProperties'), { ...opts, root: false, ...(opts.insideMeta ? { noDefaults: 'inside additionalProperties applying to object metadata' } : {}), cardinality: opts.cardinality * (opts.type?.maxElements ?? 1), type }));
      }
    }
    for (const [k, sub] of Object.entries(s.properties ?? {})) {
      const meta = (opts.root || s['x-kubernetes-embedded-resource'] === true) && ['metadata', 'kind', 'apiVersion'].includes(k);
      const uncorrelatable = opts.uncorrelatable ?? (s['x-kubernetes-map-type'] === 'atomic' ? at : undefined);
      errs.push(
        ...walk(sub, prop(at, k), {
          root: false,
          insideMeta: opts.insideMeta || meta,
          ...(meta && opts.root ? { noDefaults: `in top-level ${k}` } : opts.noDefaults ? { noDefaults: opts.noDefaults } : {}),
          ...(uncorrelatable ? { uncorrelatable } : {}),
          cardinality: opts.cardinality,
          type: opts.type?.kind === 'object' ? opts.type.fields?.[k] : undefined,
        }),
      );
    }
    // value validations are walked too, without CEL (rules there are a structural error)
    const nested = { ...opts, root: false, noCel: true, type: undefined };
    if (s.not) errs.push(...walk(s.not, child(at, 'not'), nested));
    for (const [k, list] of [['allOf', s.allOf], ['oneOf', s.oneOf], ['anyOf', s.anyOf]] as const) (list ?? []).forEach((v, i) => errs.push(...walk(v, `${at}.${k}[${i}]`, nested)));
    if (isSchema(s.items)) {
      const uncorrelatable = opts.uncorrelatable ?? (s['x-kubernetes-list-type'] !== 'map' ? at : undefined);
      errs.push(...walk(s.items, child(at, 'items'), { ...opts, root: false, ...(uncorrelatable ? { uncorrelatable } : {}), cardinality: opts.cardinality * (opts.type?.maxElements ?? 1), type: opts.type?.kind === 'list' ? opts.type.elem : undefined }));
    }
    if (s['x-kubernetes-preserve-unknown-fields'] === false) errs.push(fieldError.invalid(child(at, 'x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
    const mapType = s['x-kubernetes-map-type'];
    if (mapType !== undefined && s.type !== 'object') {
      if (!s.type) errs.push(fieldError.required(child(at, 'type'), 'must be object if x-kubernetes-map-type is specified'));
      else errs.push(fieldError.invalid(child(at, 'type'), s.type, 'must be object if x-kubernetes-map-type is specified'));
    }
    if (mapType !== undefined && mapType !== 'atomic' && mapType !== 'granular') errs.push(fieldError.notSupported(child(at, 'x-kubernetes-map-type'), mapType, ['atomic', 'granular']));
    const listType = s['x-kubernetes-list-type'];
    const keys = s['x-kubernetes-list-map-keys'] ?? [];
    if (listType !== undefined && s.type !== 'array') {
      if (!s.type) errs.push(fieldError.required(child(at, 'type'), 'must be array if x-kubernetes-list-type is specified'));
      else errs.push(fieldError.invalid(child(at, 'type'), s.type, 'must be array if x-kubernetes-list-type is specified'));
    }
    if (listType !== undefined && !LIST_TYPES.includes(listType)) errs.push(fieldError.notSupported(child(at, 'x-kubernetes-list-type'), listType, LIST_TYPES));
    if (keys.length > 0) {
      if (listType === undefined) errs.push(fieldError.required(child(at, 'x-kubernetes-list-type'), 'must be map if x-kubernetes-list-map-keys is non-empty'));
      else if (listType !== 'map') errs.push(fieldError.invalid(child(at, 'x-kubernetes-list-type'), listType, 'must be map if x-kubernetes-list-map-keys is non-empty'));
    }
    const items = s.items;
    if (listType === 'map') {
      if (keys.length === 0) errs.push(fieldError.required(child(at, 'x-kubernetes-list-map-keys'), 'must not be empty if x-kubernetes-list-type is map'));
      if (!items) errs.push(fieldError.required(child(at, 'items'), 'must have a schema if x-kubernetes-list-type is map'));
      if (items && items.type !== 'object') errs.push(fieldError.invalid(child(child(at, 'items'), 'type'), items.type ?? '', "must be object if parent array's x-kubernetes-list-type is map"));
      if (items?.type === 'object') {
        const seen = new Set<string>();
        for (const k of keys) {
          const p = items.properties?.[k];
          if (p) {
            if (p.type === 'array' || p.type === 'object') errs.push(fieldError.invalid(child(prop(child(at, 'items'), k), 'type'), items.type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
          } else errs.push(fieldError.invalid(child(at, 'x-kubernetes-list-map-keys'), keys, 'entries must all be names of item properties'));
          if (seen.has(k)) errs.push(fieldError.invalid(child(at, 'x-kubernetes-list-map-keys'), keys, 'must not contain duplicate entries'));
          seen.add(k);
        }
      }
    }
    if (items && (listType === 'set' || listType === 'map')) {
      if (items.nullable) errs.push(fieldError.forbidden(child(child(at, 'items'), 'nullable'), `cannot be nullable when x-kubernetes-list-type is ${listType}`));
      if (listType === 'map') {
        for (const k of keys) {
          const p = items.properties?.[k];
          if (!p) continue;
          if (!(items.required ?? []).includes(k) && p.default === undefined)
            errs.push(fieldError.required(child(prop(child(at, 'items'), k), 'default'), 'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property'));
          if (p.nullable) errs.push(fieldError.forbidden(child(prop(child(at, 'items'), k), 'nullable'), 'this property is in x-kubernetes-list-map-keys, so it cannot be nullable'));
        }
      }
    }
    const rules = s['x-kubernetes-validations'] ?? [];
    rules.forEach((r, i) => {
      const at2 = `${at}.x-kubernetes-validations[${i}]`;
      const rule = (r.rule ?? '').trim();
      const message = (r.message ?? '').trim();
      if (!rule) errs.push(fieldError.required(child(at2, 'rule'), 'rule is not specified'));
      else if (r.message && !message) errs.push(fieldError.invalid(child(at2, 'message'), r.message, 'must be non-empty if specified'));
      else if (/[\n\r]/.test(message)) errs.push(fieldError.invalid(child(at2, 'message'), r.message, 'must not contain line breaks'));
      else if (/[\n\r]/.test(rule) && !message) errs.push(fieldError.required(child(at2, 'message'), 'message must be specified if rule contains line breaks'));
      if (r.messageExpression && !r.messageExpression.trim()) errs.push(fieldError.required(child(at2, 'messageExpression'), 'messageExpression must be non-empty if specified'));
      if (r.reason !== undefined && !REASONS.includes(r.reason)) errs.push(fieldError.notSupported(child(at2, 'reason'), r.reason, REASONS));
      if (r.fieldPath !== undefined && r.fieldPath !== '') {
        if (!r.fieldPath.trim()) errs.push(fieldError.invalid(child(at2, 'fieldPath'), r.fieldPath, 'must be non-empty if specified'));
        if (/[\n\r]/.test(r.fieldPath)) errs.push(fieldError.invalid(child(at2, 'fieldPath'), r.fieldPath, 'must not contain line breaks'));
        if (!fieldPathValid(s, r.fieldPath)) errs.push(fieldError.invalid(child(at2, 'fieldPath'), r.fieldPath, 'must be a valid path'));
      }
    });
    // CEL is compiled only where the schema at this level and below is sound
    if (rules.length > 0 && errs.length === 0 && celEnabled && !opts.noCel) {
      const self = opts.type ?? declType(s, opts.root);
      rules.forEach((r, i) => {
        const at2 = `${at}.x-kubernetes-validations[${i}]`;
        if (!self || !(r.rule ?? '').trim()) return;
        const check = checkRule(r, self, opts.cardinality);
        if (check.cost > PER_CRD_COST_LIMIT * 100) cel.push(fieldError.forbidden(child(at2, 'rule'), costMessage('estimated rule cost', check.cost, PER_RULE_COST_LIMIT)));
        costs.push({ field: child(at2, 'rule'), cost: check.cost });
        if (check.ruleError) cel.push(invalidRule(child(at2, 'rule'), r, check.ruleError));
        if (check.messageExpressionError) cel.push(invalidRule(child(at2, 'messageExpression'), r, check.messageExpressionError));
        else if (r.messageExpression) {
          if (check.messageExpressionCost > PER_CRD_COST_LIMIT * 100)
            cel.push(fieldError.forbidden(child(at2, 'messageExpression'), costMessage('estimated messageExpression cost', check.messageExpressionCost, PER_RULE_COST_LIMIT)));
          costs.push({ field: child(at2, 'messageExpression'), cost: check.messageExpressionCost });
        }
        if (check.usesOldSelf) {
          if (opts.uncorrelatable) cel.push(fieldError.invalid(child(at2, 'rule'), r.rule, `oldSelf cannot be used on the uncorrelatable portion of the schema within ${opts.uncorrelatable}`));
        } else if (r.optionalOldSelf !== undefined) cel.push(fieldError.invalid(child(at2, 'optionalOldSelf'), r.optionalOldSelf, 'may not be set if oldSelf is not used in rule'));
      });
    }
    return errs;
  };
  const errors = walk(root, path, { root: true, insideMeta: false, cardinality: 1, type: celEnabled ? declType(root, true) : undefined });
  return { errors: [...errors, ...cel], costs };
}

/** The root of a schema whose status is a subresource may say only what still applies once status is cut out. */
const ROOT_WITH_STATUS: [string, string][] = [
  ['description', 'Description'], ['type', 'Type'], ['format', 'Format'], ['title', 'Title'], ['maximum', 'Maximum'], ['exclusiveMaximum', 'ExclusiveMaximum'],
  ['minimum', 'Minimum'], ['exclusiveMinimum', 'ExclusiveMinimum'], ['maxLength', 'MaxLength'], ['minLength', 'MinLength'], ['pattern', 'Pattern'],
  ['maxItems', 'MaxItems'], ['minItems', 'MinItems'], ['uniqueItems', 'UniqueItems'], ['multipleOf', 'MultipleOf'], ['required', 'Required'], ['items', 'Items'],
  ['properties', 'Properties'], ['externalDocs', 'ExternalDocs'], ['example', 'Example'], ['x-kubernetes-preserve-unknown-fields', 'XPreserveUnknownFields'], ['x-kubernetes-validations', 'XValidations'],
];

function statusRootErrors(root: Schema, path: string): FieldError[] {
  const raw = root as Record<string, unknown>;
  const zero = (v: unknown) => v === undefined || v === null || v === false || v === '' || v === 0 || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
  if (root.type !== undefined && root.type !== 'object') return [fieldError.invalid(`${path}.type`, root.type, 'only "object" is allowed as the type at the root of the schema if the status subresource is enabled')];
  const allowed = new Set(ROOT_WITH_STATUS.map(([k]) => k));
  if (Object.entries(raw).some(([k, v]) => !allowed.has(k) && !zero(v))) {
    // the value is kube-apiserver's internal schema struct, which only the real server can print
    return [{ type: 'FieldValueInvalid', field: path, message: `Invalid value: …: only [${ROOT_WITH_STATUS.map(([, g]) => g).join(' ')}] fields are allowed at the root of the schema if the status subresource is enabled` }];
  }
  return [];
}

/** Every error kube-apiserver reports for one version's schema at `path` (…schema.openAPIV3Schema). */
export function crdSchemaErrors(root: Schema, path: string, options: { statusSubresource?: boolean } = {}): FieldError[] {
  const errs: FieldError[] = [];
  if (!isSchema(root)) return [fieldError.required(path, 'schemas are required')];
  if (options.statusSubresource) errs.push(...statusRootErrors(root, path));
  if (root.nullable) errs.push(fieldError.forbidden(child(path, 'nullable'), 'nullable cannot be true at the root'));
  const canStructure = structurable(root);
  const structural = canStructure ? structuralErrors(root, path) : [];
  errs.push(...structural);
  let celEnabled = false;
  if (canStructure && structural.length === 0) {
    const defaults = defaultErrors(root, path);
    errs.push(...defaults);
    celEnabled = defaults.length === 0;
  }
  const { errors, costs } = openApiErrors(root, path, celEnabled);
  errs.push(...errors);
  const total = costs.reduce((s, c) => s + c.cost, 0);
  // only far over the limit: this estimate is coarser than kube-apiserver's (cel-check.ts)
  if (total > PER_CRD_COST_LIMIT * 100) {
    const expensive = costs.filter((c) => c.cost >= PER_CRD_COST_LIMIT / 100).sort((a, b) => b.cost - a.cost).slice(0, 4);
    for (const e of expensive) errs.push(fieldError.forbidden(e.field, 'contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema'));
    errs.push(fieldError.forbidden(path, costMessage('x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema', total, PER_CRD_COST_LIMIT)));
  }
  return errs;
}
