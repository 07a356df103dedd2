/**
 * `x-kubernetes-validations` rules, evaluated with a real CEL implementation
 * (@marcbachmann/cel-js) and `self` / `oldSelf` bound as kube-apiserver binds them.
 *
 * Kubernetes adds its own CEL libraries (url(), quantity(), ip(), authz, …). Rules that use
 * something this evaluator does not know fail its type check; such rules are skipped (never
 * a crash, never a false rejection) and listed by `unsupportedRules` so that the server can
 * warn once per CRD. Transition rules (those that mention `oldSelf`) run on updates only.
 */
import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import { child, fieldError, type FieldError } from './field-errors.ts';
import { isObject } from './objects.ts';
import { typeName, type RuleHook, type Schema, type ValidationRule } from './schema.ts';

const env = new Environment({
  homogeneousAggregateLiterals: false,
  enableOptionalTypes: true,
  limits: { maxAstNodes: 5000, maxDepth: 50, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 32 },
})
  .registerVariable('self', 'dyn')
  .registerVariable('oldSelf', 'dyn')
  // two of Kubernetes' string-library functions that CRDs commonly use
  .registerFunction('string.replace(string, string): string', (s: string, a: string, b: string) => s.split(a).join(b))
  .registerFunction('isURL(string): bool', (s: string) => URL.canParse(s));

type Compiled = { ok: true; program: ParseResult; transition: boolean } | { ok: false; reason: string };
const compiled = new Map<string, Compiled>();

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

export function compileRule(rule: string): Compiled {
  let c = compiled.get(rule);
  if (!c) {
    try {
      const program = env.parse(rule);
      const check = program.check();
      c = check.valid ? { ok: true, program, transition: /\boldSelf\b/.test(rule) } : { ok: false, reason: firstLine(check.error) };
    } catch (e) {
      c = { ok: false, reason: firstLine(e) };
    }
    if (compiled.size > 2000) compiled.clear();
    compiled.set(rule, c);
  }
  return c;
}

/** Rules in a schema tree that this evaluator cannot run, with why (for warnings and the README). */
export function unsupportedRules(schema: Schema | undefined, path = ''): { path: string; rule: string; reason: string }[] {
  const out: { path: string; rule: string; reason: string }[] = [];
  const walk = (s: Schema | undefined, at: string) => {
    if (!s) return;
    for (const r of s['x-kubernetes-validations'] ?? []) {
      const c = compileRule(r.rule);
      if (!c.ok) out.push({ path: at, rule: r.rule, reason: c.reason });
    }
    for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub, child(at, k));
    if (isObject(s.additionalProperties)) walk(s.additionalProperties as Schema, `${at}[*]`);
    walk(s.items, `${at}[*]`);
    for (const sub of [...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? [])]) walk(sub, at);
  };
  walk(schema, path);
  return out;
}

/** JSON → CEL values: integers become int (bigint) where the schema says integer or says nothing. */
export function toCel(value: unknown, schema: Schema | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => toCel(v, schema?.items));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const sub = schema?.properties?.[k] ?? (isObject(schema?.additionalProperties) ? (schema.additionalProperties as Schema) : undefined);
      out[k] = toCel(v, sub);
    }
    return out;
  }
  if (typeof value === 'number' && Number.isInteger(value) && schema?.type !== 'number') return BigInt(value);
  return value;
}

function failure(rule: ValidationRule, path: string, value: unknown, message: string): FieldError {
  const at = rule.fieldPath ? path + (rule.fieldPath.startsWith('.') || rule.fieldPath.startsWith('[') ? rule.fieldPath : `.${rule.fieldPath}`) : path;
  const field = at.startsWith('.') ? at.slice(1) : at;
  switch (rule.reason) {
    case 'FieldValueRequired':
      return fieldError.required(field, message);
    case 'FieldValueForbidden':
      return fieldError.forbidden(field, message);
    case 'FieldValueDuplicate':
      return { ...fieldError.duplicate(field, typeName(value)), message: `Duplicate value: ${JSON.stringify(typeName(value))}: ${message}` };
    default:
      return fieldError.invalid(field, typeName(value), message);
  }
}

export const evaluateRules: RuleHook = (rules, self, oldSelf, hasOld, schema, path) => {
  const errors: FieldError[] = [];
  const context = { self: toCel(self, schema), oldSelf: hasOld ? toCel(oldSelf, schema) : null };
  for (const rule of rules) {
    const c = compileRule(rule.rule);
    if (!c.ok) continue;
    if (c.transition && !hasOld) continue;
    let result: unknown;
    try {
      result = c.program(context);
    } catch (e) {
      errors.push(failure(rule, path, self, `${firstLine(e)} evaluating rule: ${rule.rule}`));
      continue;
    }
    if (result === true) continue;
    if (result !== false) {
      errors.push(failure(rule, path, self, `rule did not evaluate to a bool: ${rule.rule}`));
      continue;
    }
    let message = rule.message || `failed rule: ${rule.rule}`;
    if (rule.messageExpression) {
      const m = compileRule(rule.messageExpression);
      if (m.ok) {
        try {
          const text = m.program(context);
          if (typeof text === 'string' && text.trim()) message = text;
        } catch {
          // keep the static message, as kube-apiserver does when messageExpression fails
        }
      }
    }
    errors.push(failure(rule, path, self, message));
  }
  return errors;
};
