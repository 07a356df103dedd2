import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateRules, unsupportedRules } from './cel.ts';
import { applyDefaults, prune, RULES_NOT_CHECKED, validate, validateRules, type Schema } from './schema.ts';

const schema: Schema = {
  type: 'object',
  properties: {
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['source'],
      properties: {
        source: {
          type: 'object',
          required: ['type'],
          'x-kubernetes-validations': [{ rule: "self.type != 'url' || has(self.url)", message: 'url must be set when type is url', fieldPath: '.url' }],
          properties: {
            type: { type: 'string', enum: ['configmap', 'url'] },
            url: { type: 'string', minLength: 8, format: 'uuid' },
          },
        },
        interval: { type: 'string', default: '1h', pattern: '^[0-9]+[smh]$' },
        replicas: { type: 'integer', minimum: 1, maximum: 5, exclusiveMaximum: true },
        weight: { type: 'number', multipleOf: 0.5 },
        items: { type: 'array', minItems: 1, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, on: { type: 'boolean', default: true } } } },
        labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 3 } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        port: { 'x-kubernetes-int-or-string': true },
        opt: { type: 'string', nullable: true },
      },
    },
  },
};

test('prune removes undeclared fields (not metadata, not preserved subtrees) and reports their paths', () => {
  const obj = { apiVersion: 'a/v1', kind: 'K', metadata: { name: 'x', labels: { a: 'b' } }, spec: { source: { type: 'url', extra: 1 }, free: { any: { thing: true } }, items: [{ name: 'a', junk: 2 }], labels: { k: 'v' } }, bogus: 1 };
  const removed = prune(obj, schema);
  assert.deepEqual(removed.sort(), ['bogus', 'spec.items[0].junk', 'spec.source.extra']);
  assert.deepEqual(obj.metadata, { name: 'x', labels: { a: 'b' } });
  assert.deepEqual(obj.spec.free, { any: { thing: true } });
});

test('defaults fill absent fields, also inside list items; nulls the schema does not allow are dropped', () => {
  const obj: Record<string, any> = { spec: { source: { type: 'configmap' }, items: [{ name: 'a' }, { name: 'b', on: false }], opt: null, replicas: null } };
  applyDefaults(obj, schema);
  assert.equal(obj.spec.interval, '1h');
  assert.deepEqual(obj.spec.items, [{ name: 'a', on: true }, { name: 'b', on: false }]);
  assert.equal(obj.spec.opt, null, 'nullable keeps null');
  assert.equal('replicas' in obj.spec, false);
});

test('validation reports each violation at its path with the Kubernetes wording', () => {
  const obj = {
    spec: {
      source: { type: 'ftp' },
      interval: '10 minutes',
      replicas: 5,
      weight: 0.3,
      items: [{ name: 'a' }, { name: 'a' }],
      labels: { k: 'long' },
      port: true,
    },
  };
  const errs = validate(obj, schema, '', evaluateRules);
  const by = Object.fromEntries(errs.map((e) => [e.field, `${e.type} ${e.message}`]));
  assert.equal(by['spec.source.type'], 'FieldValueNotSupported Unsupported value: "ftp": supported values: "configmap", "url"');
  assert.match(by['spec.interval']!, /^FieldValueInvalid Invalid value: "10 minutes": spec.interval in body should match/);
  assert.match(by['spec.replicas']!, /should be less than 5$/);
  assert.match(by['spec.weight']!, /should be a multiple of 0.5/);
  assert.match(by['spec.items[1]']!, /^FieldValueDuplicate/);
  assert.equal(by['spec.labels[k]'], 'FieldValueTooLong Too long: may not be more than 3 bytes');
  assert.match(by['spec.port']!, /^FieldValueTypeInvalid Invalid value: "boolean": spec.port in body must be of type integer or string/);
  assert.deepEqual(validate({ spec: {} }, schema, ''), [{ type: 'FieldValueRequired', field: 'spec.source', message: 'Required value' }]);
  assert.equal(validate({ spec: { source: { type: 'url' }, port: 'http' } }, schema, '', evaluateRules)[0]?.message, 'Invalid value: "object": url must be set when type is url');
  assert.equal(validate({ spec: { source: { type: 'url' } } }, schema, '', evaluateRules)[0]?.field, 'spec.source.url');
  assert.deepEqual(validate({ spec: { source: { type: 'url', url: '123e4567-e89b-12d3-a456-426614174000' }, port: 8080 } }, schema, '', evaluateRules), []);
});

test('CEL: transition rules need an old value, unknown functions are skipped and reported', () => {
  const s: Schema = {
    type: 'object',
    properties: { n: { type: 'integer' } },
    'x-kubernetes-validations': [
      { rule: 'self.n >= oldSelf.n', message: 'n may not shrink' },
      { rule: 'quantity(self.q).isGreaterThan(quantity("1"))' },
      { rule: 'size(self) < 3 && self.n < 100' },
    ],
  };
  assert.deepEqual(validate({ n: 1 }, s, 'spec', evaluateRules), [], 'no oldSelf on create; unsupported rule skipped');
  assert.equal(validate({ n: 1 }, s, 'spec', evaluateRules, { value: { n: 2 } })[0]?.message, 'Invalid value: "object": n may not shrink');
  assert.match(validate({ n: 200 }, s, 'spec', evaluateRules)[0]?.message ?? '', /failed rule: size\(self\) < 3 && self.n < 100/);
  const skipped = unsupportedRules(s);
  assert.equal(skipped.length, 1);
  assert.match(skipped[0]!.rule, /^quantity/);
});

test('CEL after schema errors: enum, required, length, item-count and type errors block every rule; other errors do not', () => {
  const s: Schema = {
    type: 'object',
    required: ['mode'],
    'x-kubernetes-validations': [{ rule: "self.mode != 'safe' || self.replicas <= 3", message: 'at most 3', fieldPath: '.replicas' }],
    properties: {
      mode: { type: 'string', enum: ['fast', 'safe'] },
      replicas: { type: 'integer' },
      name: { type: 'string', maxLength: 8, pattern: '^[a-z]+$', 'x-kubernetes-validations': [{ rule: "self != 'admin'", message: 'reserved' }] },
      tags: { type: 'array', maxItems: 2, items: { type: 'string' } },
    },
  };
  const at = (v: unknown) => validate(v, s, 'spec', evaluateRules).map((e) => `${e.field}: ${e.message}`);
  // a failing rule below does not keep the rule above from running
  assert.deepEqual(at({ mode: 'safe', replicas: 5, name: 'admin' }), ['spec.replicas: Invalid value: "object": at most 3', 'spec.name: Invalid value: "string": reserved']);
  assert.deepEqual(at({ mode: 'safe', replicas: 5, name: 'Admin' }), [`spec.name: Invalid value: "Admin": spec.name in body should match '^[a-z]+$'`, 'spec.replicas: Invalid value: "object": at most 3']);
  const notChecked = `${RULES_NOT_CHECKED.field}: ${RULES_NOT_CHECKED.message}`;
  for (const bad of [{ mode: 'turbo' }, { replicas: 5 }, { mode: 'safe', name: 'abcdefghij' }, { mode: 'safe', tags: ['a', 'b', 'c'] }, { mode: 'safe', tags: [1] }]) {
    const errs = at({ replicas: 5, name: 'admin', ...bad });
    assert.equal(errs.length, 2, errs.join('\n'));
    assert.equal(errs[1], notChecked);
  }
});

test('CEL transition rules: list-map items meet their old item by key, atomic list items none', () => {
  const item: Schema = { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.v == oldSelf.v', message: 'immutable' }], properties: { k: { type: 'string' }, v: { type: 'string' } } };
  const s: Schema = { type: 'object', properties: { m: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'], items: item } } };
  const old = { value: { m: [{ k: 'a', v: '1' }, { k: 'b', v: '2' }] } };
  assert.deepEqual(validateRules({ m: [{ k: 'b', v: '2' }, { k: 'a', v: '1' }, { k: 'c', v: '3' }] }, s, 'spec', evaluateRules, old), [], 'reordered and added items');
  assert.deepEqual(
    validateRules({ m: [{ k: 'b', v: '9' }] }, s, 'spec', evaluateRules, old).map((e) => e.field),
    ['spec.m[0]'],
  );
});
