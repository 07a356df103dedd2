import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRule, costMessage, declType } from './cel-check.ts';
import { crdSchemaErrors } from './crd-schema.ts';
import type { Schema } from './schema.ts';

const AT = 'spec.versions[0].schema.openAPIV3Schema';
const SPEC = `${AT}.properties[spec]`;
const root = (spec: Schema): Schema => ({ type: 'object', properties: { spec } });
const fields = (s: Schema) => crdSchemaErrors(s, AT).map((e) => `${e.field}: ${e.message.split('\n')[0]}`);

test('a sound schema with rules, defaults and list types has no errors', () => {
  const s = root({
    type: 'object',
    'x-kubernetes-validations': [
      { rule: "!has(self.endpoint) || url(self.endpoint).getScheme() == 'https'", fieldPath: '.endpoint' },
      { rule: 'self.env.all(e, e.name.size() < 40)', messageExpression: "self.env.size() > 5 ? 'names too long' : 'a name too long'" },
    ],
    properties: {
      endpoint: { type: 'string', maxLength: 200 },
      replicas: { type: 'integer', default: 2, 'x-kubernetes-validations': [{ rule: 'self > 0' }] },
      env: {
        type: 'array',
        maxItems: 10,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: { type: 'object', required: ['name'], 'x-kubernetes-validations': [{ rule: 'self.value == oldSelf.value' }], properties: { name: { type: 'string' }, value: { type: 'string' } } },
      },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
    },
  });
  assert.deepEqual(fields(s), []);
});

test('CEL: syntax errors, undeclared fields and functions, non-bool results fail compilation at their rule', () => {
  const spec = (rule: string): Schema => root({ type: 'object', 'x-kubernetes-validations': [{ rule }], properties: { name: { type: 'string' }, extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } });
  const rule = `${SPEC}.x-kubernetes-validations[0].rule`;
  assert.match(fields(spec('self.name ==')).join(), new RegExp(`^${rule.replace(/[[\]().]/g, '\\$&')}: Invalid value: \\{"Rule":"self.name ==".*compilation failed: ERROR`));
  assert.match(fields(spec('self.replicas > 0')).join(), /undefined field 'replicas'/);
  assert.match(fields(spec('has(self.extra.anything)')).join(), /undefined field 'anything'/, 'preserved unknown fields are not visible to CEL');
  assert.match(fields(spec("self.name.frobnicate() == 'x'")).join(), /undeclared reference to 'frobnicate'/);
  assert.match(fields(spec('self.name')).join(), /cel expression must evaluate to a bool$/);
  assert.deepEqual(fields(spec("isURL(self.name) && quantity('1Gi').isLessThan(quantity('2Gi'))")), [], "Kubernetes' libraries are known");
  const meta = crdSchemaErrors({ type: 'object', 'x-kubernetes-validations': [{ rule: 'has(self.metadata.labels) || self.metadata.name != ""' }] }, AT);
  assert.match(meta[0]?.message ?? '', /undefined field 'labels'/, 'at the root CEL sees metadata.name and generateName only');
});

test('CEL: oldSelf inside the items of a list that is not a list-map, and fieldPath outside the schema', () => {
  const items: Schema = { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.name == oldSelf.name' }], properties: { name: { type: 'string', maxLength: 63 } } };
  assert.deepEqual(fields(root({ type: 'object', properties: { items: { type: 'array', maxItems: 10, items } } })), [
    `${SPEC}.properties[items].items.x-kubernetes-validations[0].rule: Invalid value: "self.name == oldSelf.name": oldSelf cannot be used on the uncorrelatable portion of the schema within ${SPEC}.properties[items]`,
  ]);
  assert.deepEqual(fields(root({ type: 'object', 'x-kubernetes-validations': [{ rule: 'true', fieldPath: '.nmae' }], properties: { name: { type: 'string' } } })), [
    `${SPEC}.x-kubernetes-validations[0].fieldPath: Invalid value: ".nmae": must be a valid path`,
  ]);
});

test('CEL: a quadratic rule over unbounded lists is far over the cost budget; bounding the list brings it under', () => {
  const tags = (maxItems?: number): Schema =>
    root({ type: 'object', properties: { tags: { type: 'array', ...(maxItems ? { maxItems } : {}), 'x-kubernetes-validations': [{ rule: 'self.all(a, self.all(b, a == b || !a.startsWith(b)))' }], items: { type: 'string', ...(maxItems ? { maxLength: 10 } : {}) } } } });
  const errs = fields(tags());
  assert.ok(errs.includes(`${SPEC}.properties[tags].x-kubernetes-validations[0].rule: Forbidden: ${costMessage('estimated rule cost', 1e12, 1e7)}`), errs.join('\n'));
  assert.ok(errs.some((e) => e.startsWith(`${AT}: Forbidden: x-kubernetes-validations estimated rule cost total`)));
  assert.deepEqual(fields(tags(10)), []);
  assert.ok(checkRule({ rule: 'self.all(a, a.size() < 5)' }, declType({ type: 'array', items: { type: 'string' } }, false)!, 1).cost < 1e7, 'a linear rule is within budget');
});

test('CEL: a messageExpression concatenating a converted value has no size bound, so it is over budget', () => {
  const spec = (messageExpression: string) => root({ type: 'object', 'x-kubernetes-validations': [{ rule: 'self.n <= 10', messageExpression }], properties: { n: { type: 'integer' } } });
  const errs = fields(spec("'at most 10, not ' + string(self.n)"));
  assert.ok(errs.includes(`${SPEC}.x-kubernetes-validations[0].messageExpression: Forbidden: ${costMessage('estimated messageExpression cost', 1e12, 1e7)}`), errs.join('\n'));
  assert.deepEqual(fields(spec("self.n > 20 ? 'more than 20' : 'more than 10'")), []);
});

test('rule values in messages are Go JSON (<, > and & escaped), never cut short', () => {
  const rule = `self.n > 0 && ${'self.n < 100 && '.repeat(20)}true`;
  const [e] = crdSchemaErrors(root({ type: 'object', 'x-kubernetes-validations': [{ rule: `${rule} &&` }], properties: { n: { type: 'integer' } } }), AT);
  assert.ok(e?.message.startsWith(`Invalid value: {"Rule":"${rule.replaceAll('>', '\\u003e').replaceAll('<', '\\u003c').replaceAll('&', '\\u0026')} \\u0026\\u0026","Message":""`), e?.message);
});

test('defaults must be pruned, valid against their own schema and pass their rules', () => {
  assert.deepEqual(fields(root({ type: 'object', properties: { mode: { type: 'string', enum: ['fast', 'safe'], default: 'quick' } } })), [
    `${SPEC}.properties[mode].default: Unsupported value: "quick": supported values: "fast", "safe"`,
  ]);
  assert.deepEqual(fields(root({ type: 'object', properties: { r: { type: 'object', default: { a: 1, b: 2 }, properties: { a: { type: 'integer' } } } } })), [
    `${SPEC}.properties[r].default: Invalid value: {"a":1,"b":2}: must not have unknown fields`,
  ]);
  assert.deepEqual(fields(root({ type: 'object', properties: { n: { type: 'integer', default: 0, 'x-kubernetes-validations': [{ rule: 'self > 0', message: 'must be positive' }] } } })), [
    `${SPEC}.properties[n].default: Invalid value: "integer": must be positive`,
  ]);
  assert.deepEqual(fields({ type: 'object', properties: { metadata: { type: 'object', properties: { name: { type: 'string', default: 'x' } } } } }), [
    `${AT}.properties[metadata].properties[name].default: Forbidden: must not be set in top-level metadata`,
  ]);
});

test('list-map keys, properties with additionalProperties, root metadata, uniqueItems, preserve-unknown-fields false', () => {
  const env = (items: Schema, keys = ['name']): Schema => root({ type: 'object', properties: { env: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys, items } } });
  const ENV = `${SPEC}.properties[env]`;
  assert.deepEqual(fields(env({ type: 'object', properties: { name: { type: 'string' } } })), [
    `${ENV}.items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`,
  ]);
  assert.deepEqual(fields(env({ type: 'object', required: ['name'], properties: { name: { type: 'string' } } }, ['id'])), [`${ENV}.x-kubernetes-list-map-keys: Invalid value: ["id"]: entries must all be names of item properties`]);
  assert.deepEqual(fields(env({ type: 'object', required: ['name'], properties: { name: { type: 'string', nullable: true } } })), [
    `${ENV}.items.properties[name].nullable: Forbidden: this property is in x-kubernetes-list-map-keys, so it cannot be nullable`,
  ]);
  assert.deepEqual(fields(root({ type: 'object', properties: { l: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } } } })), [
    `${SPEC}.properties[l].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
  ]);
  assert.deepEqual(fields({ type: 'object', properties: { metadata: { type: 'object', properties: { name: { type: 'string' }, labels: { type: 'object' } } } } }), [
    `${AT}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
  ]);
  assert.deepEqual(fields({ type: 'object', properties: { metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 20 } } } } }), [], 'name alone may be restricted');
  assert.deepEqual(fields(root({ type: 'array', uniqueItems: true, items: { type: 'string' } })), [`${SPEC}.uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`]);
  assert.deepEqual(fields(root({ type: 'object', 'x-kubernetes-preserve-unknown-fields': false })), [`${SPEC}.x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`]);
  assert.deepEqual(fields({ type: 'object', additionalProperties: { type: 'string' } }), [`${AT}.additionalProperties: Forbidden: must not be used at the root`]);
});

test('value validations (anyOf, allOf, oneOf, not) only validate: no types, descriptions or rules; the root ones name declared fields only', () => {
  const PORT = `${SPEC}.properties[port]`;
  assert.deepEqual(fields(root({ type: 'object', properties: { port: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^[a-z]+$' }] } } })).sort(), [
    `${PORT}.anyOf[0].type: Forbidden: must be empty to be structural`,
    `${PORT}.anyOf[1].type: Forbidden: must be empty to be structural`,
    `${PORT}.type: Required value: must not be empty for specified object fields`,
  ]);
  assert.deepEqual(fields(root({ type: 'object', properties: { port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } } })), [], 'the int-or-string pattern');
  assert.deepEqual(fields(root({ type: 'string', allOf: [{ description: 'doc', minLength: 1 }] })), [`${SPEC}.allOf[0].description: Forbidden: must be empty to be structural`]);
  assert.deepEqual(fields(root({ type: 'object', oneOf: [{ 'x-kubernetes-validations': [{ rule: 'true' }] }] })), [`${SPEC}.oneOf[0].x-kubernetes-validations: Forbidden: must be empty to be structural`]);
  assert.deepEqual(fields({ type: 'object', properties: { spec: { type: 'object' } }, anyOf: [{ properties: { status: { maxProperties: 1 } } }] }), [
    `${AT}.properties[status]: Required value: because it is defined in ${AT}.anyOf[0].properties[status]`,
  ]);
  assert.deepEqual(fields(root({ type: 'object', anyOf: [{ properties: { undeclared: { minLength: 1 } } }] })), [], 'below the root, as kube-apiserver, not checked');
});

test('CEL: operands of different types fail compilation; int and double may be ordered', () => {
  const spec = (rule: string) => fields(root({ type: 'object', 'x-kubernetes-validations': [{ rule }], properties: { name: { type: 'string' }, n: { type: 'integer' }, r: { type: 'number' }, on: { type: 'boolean' } } }));
  assert.match(spec('self.name == 1').join(), /found no matching overload for '_==_' applied to '\(string, int\)'/);
  assert.match(spec("self.n > 'a'").join(), /'_>_' applied to '\(int, string\)'/);
  assert.match(spec('self.n + 1.0 > 2.0').join(), /'_\+_' applied to '\(int, double\)'/);
  assert.match(spec('self.name.startsWith(1)').join(), /'startsWith' applied to 'string.\(int\)'/);
  assert.match(spec("self.on == 'true'").join(), /'\(bool, string\)'/);
  for (const ok of ['self.name.size() > 1.5', 'self.r > 1', "self.name + 'x' == 'ax'", 'self.n % 2 == 0', "dyn(self.n) == 'a' || true"]) assert.deepEqual(spec(ok), [], ok);
});

test('JSON Schema CRDs do not support ($ref, definitions, patternProperties, tuple items, type null, unknown types) is named, and nothing structural is reported beside it', () => {
  assert.deepEqual(fields(root({ $ref: '#/definitions/Spec' } as Schema)), [`${SPEC}.$ref: Forbidden: $ref is not supported`], 'no "type must not be empty": kube-apiserver cannot build the structural schema');
  assert.deepEqual(fields({ type: 'object', definitions: { S: { type: 'object' } }, properties: { spec: { type: 'object' } } } as Schema), [`${AT}.definitions: Forbidden: definitions is not supported`]);
  assert.deepEqual(fields(root({ type: 'object', patternProperties: { '^x-': { type: 'string' } } } as Schema)), [`${SPEC}.patternProperties: Forbidden: patternProperties is not supported`]);
  assert.deepEqual(fields(root({ type: 'array', items: [{ type: 'string' }] } as unknown as Schema)), [`${SPEC}.items: Forbidden: items must be a schema object and not an array`]);
  assert.deepEqual(fields(root({ type: 'null' } as unknown as Schema)).sort(), [
    `${SPEC}.type: Forbidden: type cannot be set to null, use nullable as an alternative`,
    `${SPEC}.type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string"`,
  ]);
  assert.deepEqual(fields(root({ type: 'object', 'x-kubernetes-embedded-resource': true })), [
    `${SPEC}.properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`,
  ]);
});

test('with a status subresource the root may say only what still applies once status is cut out', () => {
  const s: Schema = { type: 'object', minProperties: 1, properties: { spec: { type: 'object' }, status: { type: 'object' } } };
  assert.match(crdSchemaErrors(s, AT, { statusSubresource: true })[0]?.message ?? '', /only \[Description Type .* XValidations\] fields are allowed at the root of the schema if the status subresource is enabled$/);
  assert.deepEqual(crdSchemaErrors(s, AT), []);
  assert.deepEqual(crdSchemaErrors({ ...s, minProperties: undefined, description: 'd', required: ['spec'] } as Schema, AT, { statusSubresource: true }), []);
});
