import type { z } from 'zod';
import { util } from 'zod/v4/core';

/**
 * A yes-or-don't-know check generated from a zod schema, for validating many entries fast:
 * `true` means the schema accepts the value; `false` means "ask the schema" (it may still
 * accept it: a string whose length in code points is in doubt, say). The schema's own parser
 * stays the judge of everything this does not pass, and the source of every error message
 * and issue path; this only spares it the common, valid case.
 *
 * Why not zod's compiled fast path alone: it generates one function per schema with a closure
 * per optional field, too large for V8 to optimise, and slow on a cold process (the sync
 * function's first document) — several times JSON.parse of the same bytes. Here each object
 * schema becomes a small function of its own (shared where schemas are), of plain
 * comparisons.
 *
 * Only what our schemas use is modelled: objects (loose, stripping: unknown keys pass; strict
 * ones are not modelled), strings with length and regex checks, numbers with integer and
 * bound checks, booleans, enums, literals, arrays, string-keyed records, discriminated unions
 * on a literal, optional and unknown. Anything else throws `UnsupportedSchema` at generation,
 * and the caller falls back to zod's own paths.
 */

export class UnsupportedSchema extends Error {}

type Check = (value: unknown) => boolean;

interface Def {
  type: string;
  [key: string]: unknown;
}

function defOf(schema: unknown): Def {
  return (schema as { _zod: { def: Def } })._zod.def;
}

class Generator {
  readonly functions: string[] = [];
  readonly constants: unknown[] = [];
  readonly #ids = new Map<unknown, number>();

  constant(value: unknown): string {
    this.constants.push(value);
    return `k[${this.constants.length - 1}]`;
  }

  /** the name of a generated function checking `schema` whole */
  functionFor(schema: unknown): string {
    let id = this.#ids.get(schema);
    if (id === undefined) {
      id = this.functions.length;
      this.#ids.set(schema, id);
      this.functions.push(''); // reserved: a schema may refer to itself
      const body: string[] = [];
      this.statements(schema, 'v', body, 0);
      this.functions[id] = `function f${id}(v) {\n${body.join('\n')}\nreturn true;\n}`;
    }
    return `f${id}`;
  }

  /** statements that `return false` unless `value` (a variable name) passes `schema` */
  statements(schema: unknown, value: string, out: string[], depth: number): void {
    const def = defOf(schema);
    const no = (condition: string) => out.push(`if (${condition}) return false;`);
    switch (def.type) {
      case 'unknown':
      case 'any':
        return;
      case 'optional': {
        const inner: string[] = [];
        this.statements(def.innerType, value, inner, depth);
        if (inner.length > 0) out.push(`if (${value} !== undefined) {`, ...inner, '}');
        return;
      }
      case 'string':
        no(`typeof ${value} !== "string"`);
        this.checks(def, value, out, 'string');
        return;
      case 'number':
        no(`typeof ${value} !== "number" || !Number.isFinite(${value})`);
        this.checks(def, value, out, 'number');
        return;
      case 'boolean':
        no(`typeof ${value} !== "boolean"`);
        this.checks(def, value, out, 'boolean');
        return;
      case 'literal': {
        const values = def.values as unknown[];
        if (!values.every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) throw new UnsupportedSchema('literal');
        no(values.map((v) => `${value} !== ${JSON.stringify(v)}`).join(' && '));
        return;
      }
      case 'enum': {
        const values = Object.values(def.entries as Record<string, unknown>);
        if (!values.every((v) => typeof v === 'string')) throw new UnsupportedSchema('enum of non-strings');
        no(values.map((v) => `${value} !== ${JSON.stringify(v)}`).join(' && '));
        return;
      }
      case 'object':
      case 'array':
      case 'record':
      case 'union':
        if (depth === 0 && value === 'v') {
          this.body(def, schema, out);
          return;
        }
        no(`!${this.functionFor(schema)}(${value})`);
        return;
      default:
        throw new UnsupportedSchema(def.type);
    }
  }

  /** the body of the function for a composite schema, checking `v` */
  body(def: Def, schema: unknown, out: string[]): void {
    const no = (condition: string) => out.push(`if (${condition}) return false;`);
    switch (def.type) {
      case 'object': {
        const catchall = def.catchall === undefined ? undefined : defOf(def.catchall).type;
        if (catchall !== undefined && catchall !== 'unknown' && catchall !== 'any') throw new UnsupportedSchema(`object with a ${catchall} catchall`);
        this.checks(def, 'v', out, 'object');
        no('typeof v !== "object" || v === null || Array.isArray(v)');
        const shape = def.shape as Record<string, unknown>;
        let i = 0;
        for (const key of Object.keys(shape)) {
          const variable = `p${i++}`;
          out.push(`const ${variable} = v[${JSON.stringify(key)}];`);
          this.statements(shape[key], variable, out, 1);
        }
        return;
      }
      case 'array': {
        this.checks(def, 'v', out, 'array');
        no('!Array.isArray(v)');
        const inner: string[] = [];
        this.statements(def.element, 'e', inner, 1);
        if (inner.length > 0) out.push('for (let i = 0; i < v.length; i++) {', 'const e = v[i];', ...inner, '}');
        return;
      }
      case 'record': {
        this.checks(def, 'v', out, 'record');
        const key = defOf(def.keyType);
        if (key.type !== 'string' || ((key.checks as unknown[] | undefined) ?? []).length > 0 || def.mode !== undefined) throw new UnsupportedSchema('record keyed other than by any string');
        no('typeof v !== "object" || v === null || Array.isArray(v)');
        const inner: string[] = [];
        this.statements(def.valueType, 'e', inner, 1);
        if (inner.length > 0) out.push('for (const key of Object.keys(v)) {', 'const e = v[key];', ...inner, '}');
        return;
      }
      case 'union': {
        // a discriminated union on literals: the option is picked by the discriminator, as zod does
        const discriminator = def.discriminator;
        if (typeof discriminator !== 'string') throw new UnsupportedSchema('union without a discriminator');
        this.checks(def, 'v', out, 'union');
        no('typeof v !== "object" || v === null || Array.isArray(v)');
        out.push(`const d = v[${JSON.stringify(discriminator)}];`);
        const seen = new Set<unknown>();
        for (const option of def.options as unknown[]) {
          const optionDef = defOf(option);
          const field = optionDef.type === 'object' ? (optionDef.shape as Record<string, unknown>)[discriminator] : undefined;
          const fieldDef = field === undefined ? undefined : defOf(field);
          if (fieldDef?.type !== 'literal' || ((fieldDef.checks as unknown[] | undefined) ?? []).length > 0) throw new UnsupportedSchema('union option without a literal discriminator');
          const values = fieldDef.values as unknown[];
          if (values.length !== 1 || typeof values[0] !== 'string' || seen.has(values[0])) throw new UnsupportedSchema('union discriminator values');
          seen.add(values[0]);
          out.push(`if (d === ${JSON.stringify(values[0])}) return ${this.functionFor(option)}(v);`);
        }
        out.push('return false;');
        return;
      }
      default:
        throw new UnsupportedSchema(def.type);
    }
  }

  checks(def: Def, value: string, out: string[], kind: 'string' | 'number' | 'boolean' | 'object' | 'array' | 'record' | 'union'): void {
    const no = (condition: string) => out.push(`if (${condition}) return false;`);
    for (const check of (def.checks as { _zod: { def: Record<string, unknown> } }[] | undefined) ?? []) {
      const c = check._zod.def;
      const kindOf = c.check;
      if (c.when !== undefined && kindOf !== 'min_length' && kindOf !== 'max_length') throw new UnsupportedSchema(`check ${String(kindOf)} with a condition`);
      if (kind === 'string' && kindOf === 'min_length' && typeof c.minimum === 'number') {
        // in code points, as zod counts them; the count is only needed when it can matter
        no(`${value}.length < ${c.minimum * 2} && (${value}.length < ${c.minimum} || ${this.constant(util.codePointLength)}(${value}) < ${c.minimum})`);
      } else if (kind === 'string' && kindOf === 'max_length' && typeof c.maximum === 'number') {
        no(`${value}.length > ${c.maximum} && ${this.constant(util.codePointLength)}(${value}) > ${c.maximum}`);
      } else if (kind === 'string' && kindOf === 'string_format' && c.format === 'regex' && c.pattern instanceof RegExp) {
        const pattern = c.pattern;
        // a global or sticky pattern's lastIndex carries state; zod resets it: so does this
        const regex = this.constant(pattern);
        if (pattern.global || pattern.sticky) out.push(`${regex}.lastIndex = 0;`);
        no(`!${regex}.test(${value})`);
      } else if (kind === 'number' && kindOf === 'number_format' && c.format === 'safeint') {
        no(`!Number.isSafeInteger(${value})`);
      } else if (kind === 'number' && (kindOf === 'greater_than' || kindOf === 'less_than') && typeof c.value === 'number' && typeof c.inclusive === 'boolean') {
        const op = kindOf === 'greater_than' ? (c.inclusive ? '<' : '<=') : c.inclusive ? '>' : '>=';
        no(`${value} ${op} ${c.value}`);
      } else {
        throw new UnsupportedSchema(`check ${String(kindOf)} on ${kind}`);
      }
    }
  }
}

/**
 * The check for `schema`: true when it certainly accepts the value. Throws UnsupportedSchema for
 * a schema using anything this does not model.
 */
export function fastCheck(schema: z.ZodType): Check {
  const gen = new Generator();
  const root = gen.functionFor(schema);
  const source = `"use strict";\n${gen.functions.join('\n')}\nreturn ${root};`;
  return new Function('k', source)(gen.constants) as Check;
}
