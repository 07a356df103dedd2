import { createHash } from 'node:crypto';
import { canonicalJson } from '../formats/canonical-json.ts';
import type { FilterSet, FilterSpec } from './spec.ts';

/**
 * A filter in normal form: values lower-cased (matching is case-insensitive), de-duplicated and
 * sorted; empty lists and empty sides dropped. Two filters that select the same way by
 * construction have the same normal form, hence the same hash.
 */
export function normalizeFilter(spec: FilterSpec | undefined): FilterSpec {
  const out: FilterSpec = {};
  const include = normalizeSet(spec?.include);
  const exclude = normalizeSet(spec?.exclude);
  if (include) out.include = include;
  if (exclude) out.exclude = exclude;
  return out;
}

const KEYS = ['names', 'tags', 'tiers', 'transports', 'categories'] as const;

function normalizeSet(set: FilterSet | undefined): FilterSet | undefined {
  if (!set) return undefined;
  const out: FilterSet = {};
  let any = false;
  for (const k of KEYS) {
    const values = set[k];
    if (!values || values.length === 0) continue;
    out[k] = [...new Set(values.map((v) => v.toLowerCase()))].sort();
    any = true;
  }
  return any ? out : undefined;
}

/** sha256 (hex) of the canonical JSON of the normal form; `{}` for a filter that keeps everything */
export function filterHash(spec: FilterSpec | undefined): string {
  return createHash('sha256').update(canonicalJson(normalizeFilter(spec))).digest('hex');
}
