import type { FilterSet, FilterSpec } from './spec.ts';
import { globsToRegExp } from './glob.ts';
import type { FilterSubject } from './subject.ts';

/**
 * Filter semantics (README.md):
 * - include: every dimension that is set must match (a dimension matches when any of the
 *   subject's values equals any of the filter's values; names match by glob);
 * - exclude: a server is dropped when any dimension that is set matches;
 * - exclude wins over include; an empty filter (or empty lists) keeps everything;
 * - every comparison is case-insensitive.
 */

interface CompiledSet {
  names?: RegExp;
  tags?: Set<string>;
  tiers?: Set<string>;
  transports?: Set<string>;
  categories?: Set<string>;
}

export interface CompiledFilter {
  include?: CompiledSet;
  exclude?: CompiledSet;
  /** true when the filter keeps everything */
  keepsAll: boolean;
}

const DIMENSIONS = ['tags', 'tiers', 'transports', 'categories'] as const;

function compileSet(set: FilterSet | undefined): CompiledSet | undefined {
  if (!set) return undefined;
  const out: CompiledSet = {};
  let any = false;
  if (set.names && set.names.length > 0) {
    out.names = globsToRegExp(set.names);
    any = true;
  }
  for (const d of DIMENSIONS) {
    const values = set[d];
    if (values && values.length > 0) {
      out[d] = new Set(values.map((v) => v.toLowerCase()));
      any = true;
    }
  }
  return any ? out : undefined;
}

export function compileFilter(spec: FilterSpec | undefined): CompiledFilter {
  const include = compileSet(spec?.include);
  const exclude = compileSet(spec?.exclude);
  const out: CompiledFilter = { keepsAll: include === undefined && exclude === undefined };
  if (include) out.include = include;
  if (exclude) out.exclude = exclude;
  return out;
}

function anyIn(values: readonly string[], set: Set<string>): boolean {
  for (const v of values) if (set.has(v)) return true;
  return false;
}

function namesMatch(names: readonly string[], re: RegExp): boolean {
  for (const n of names) if (re.test(n)) return true;
  return false;
}

export function matchesFilter(filter: CompiledFilter, subject: FilterSubject): boolean {
  if (filter.keepsAll) return true;
  const ex = filter.exclude;
  if (ex) {
    if (ex.names && namesMatch(subject.names, ex.names)) return false;
    for (const d of DIMENSIONS) {
      const set = ex[d];
      if (set && anyIn(subject[d], set)) return false;
    }
  }
  const inc = filter.include;
  if (inc) {
    if (inc.names && !namesMatch(subject.names, inc.names)) return false;
    for (const d of DIMENSIONS) {
      const set = inc[d];
      if (set && !anyIn(subject[d], set)) return false;
    }
  }
  return true;
}
