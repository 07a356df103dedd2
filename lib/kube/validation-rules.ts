import type { z } from 'zod';

/**
 * Cross-field rules that a structural schema cannot express. Each rule is written twice on
 * purpose, once in CEL for the API server (`x-kubernetes-validations` in the CRD) and once
 * in TypeScript for zod, and the CRD tests evaluate both on the same inputs so that they
 * cannot drift. Rules run after defaulting in both places.
 */

export const CEL_RULES_KEY = 'x-kubernetes-validations';

/** One `x-kubernetes-validations` entry as the CRD carries it. */
export interface CelRule {
  /** CEL over `self` (the object the rule sits on) */
  rule: string;
  message: string;
  /** where the API server reports the error, relative to `self`, e.g. `.configMap` */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface Rule<T> extends CelRule {
  /** the same rule in TypeScript: true when `value` is valid */
  check: (value: T) => boolean;
}

/** Attaches the rules to a schema: as zod refinements and as CRD metadata. */
export function withRules<S extends z.ZodType>(schema: S, rules: readonly Rule<z.output<S>>[]): S {
  const refined = schema.superRefine((value, ctx) => {
    for (const r of rules) {
      if (r.check(value as z.output<S>)) continue;
      ctx.addIssue({ code: 'custom', message: r.message, path: r.fieldPath ? r.fieldPath.slice(1).split('.') : [] });
    }
  });
  return refined.meta({ [CEL_RULES_KEY]: rules.map(({ check: _check, ...cel }) => cel) }) as S;
}

/** The CEL rules attached to a schema by `withRules`, if any. */
export function celRulesOf(schema: z.ZodType): CelRule[] {
  const meta = schema.meta() as Record<string, unknown> | undefined;
  const rules = meta?.[CEL_RULES_KEY];
  return Array.isArray(rules) ? (rules as CelRule[]) : [];
}

/** Counts how many of the values are present (CEL: `(has(a) ? 1 : 0) + …`). */
export function countSet(...values: unknown[]): number {
  return values.filter((v) => v !== undefined).length;
}
