import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { SchemaConversionError, toStructuralSchema } from './crd-schema.ts';
import { celRulesOf, withRules } from './validation-rules.ts';

describe('toStructuralSchema', () => {
  it('maps types, defaults, enums, bounds and patterns; optional and defaulted fields are not required', () => {
    const schema = z
      .object({
        name: z.string().min(1).max(10).regex(/^[a-z]+$/).describe('a name'),
        count: z.number().int().min(0).default(3),
        ratio: z.number().gt(0),
        mode: z.enum(['a', 'b']).optional(),
        tags: z.array(z.string()).max(4).optional(),
        labels: z.record(z.string(), z.string()).optional(),
        when: z.iso.datetime().optional(),
        fixed: z.literal('v1'),
      });
    assert.deepEqual(toStructuralSchema(schema), {
      type: 'object',
      properties: {
        name: { description: 'a name', type: 'string', pattern: '^[a-z]+$', minLength: 1, maxLength: 10 },
        count: { type: 'integer', default: 3, minimum: 0 },
        ratio: { type: 'number', minimum: 0, exclusiveMinimum: true },
        mode: { type: 'string', enum: ['a', 'b'] },
        tags: { type: 'array', maxItems: 4, items: { type: 'string' } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        when: { type: 'string', format: 'date-time' },
        fixed: { type: 'string', enum: ['v1'] },
      },
      required: ['name', 'ratio', 'fixed'],
    });
    // an object whose fields all have defaults defaults to {}, so the API server fills them in
    const policy = z.object({ retry: z.object({ max: z.number().int().default(3) }).prefault({}) });
    assert.deepEqual(toStructuralSchema(policy).properties, {
      retry: { type: 'object', default: {}, properties: { max: { type: 'integer', default: 3 } } },
    });
  });

  it('carries CEL rules from withRules into x-kubernetes-validations', () => {
    const schema = withRules(z.object({ a: z.string().optional(), b: z.string().optional() }), [
      { rule: 'has(self.a) != has(self.b)', message: 'set a or b', check: (v) => (v.a === undefined) !== (v.b === undefined) },
    ]);
    assert.deepEqual(toStructuralSchema(schema)['x-kubernetes-validations'], [{ rule: 'has(self.a) != has(self.b)', message: 'set a or b' }]);
    assert.deepEqual(celRulesOf(schema), [{ rule: 'has(self.a) != has(self.b)', message: 'set a or b' }]);
    assert.equal(schema.safeParse({}).success, false);
    assert.equal(schema.safeParse({ a: 'x' }).success, true);
  });

  it('refuses constructs without a faithful structural equivalent, naming the field', () => {
    const cases: [z.ZodType, RegExp][] = [
      [z.object({ spec: z.object({ v: z.union([z.string(), z.number()]) }) }), /^\.spec\.v: every node needs a single type/],
      [z.object({ open: z.looseObject({ a: z.string() }) }), /^\.open: /],
      [z.object({ any: z.record(z.string(), z.unknown()) }), /^\.any: open objects need x-kubernetes-preserve-unknown-fields/],
      [z.object({ pair: z.tuple([z.string(), z.number()]) }), /^\.pair: /],
      [z.object({ mail: z.string().regex(/x/).meta({ format: 'idn-email' }) }), /^\.mail: format "idn-email" is not validated by Kubernetes/],
    ];
    for (const [schema, message] of cases) {
      assert.throws(() => toStructuralSchema(schema), (e: unknown) => e instanceof SchemaConversionError && message.test(e.message));
    }
  });
});
