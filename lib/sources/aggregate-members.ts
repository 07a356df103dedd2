/**
 * Which registries an aggregate may read, and who aggregates whom. Pure, except that cycle
 * detection walks the graph through a lookup the caller supplies (the Kubernetes API, or a map
 * in tests).
 */
import type { KubeObject } from '../kube/objects.ts';
import { AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION, type AggregateSource } from '../kube/mcpregistry-spec.ts';
import type { MemberRef } from './aggregate-merge.ts';

export const refText = (r: MemberRef) => `${r.namespace}/${r.name}`;

/** the members in priority order, namespaces filled in, each once (a repeat could only ever be shadowed) */
export function memberRefs(spec: AggregateSource, aggregatorNamespace: string): MemberRef[] {
  const seen = new Set<string>();
  const out: MemberRef[] = [];
  for (const m of spec.registries) {
    const ref = { namespace: m.namespace ?? aggregatorNamespace, name: m.name };
    if (seen.has(refText(ref))) continue;
    seen.add(refText(ref));
    out.push(ref);
  }
  return out;
}

/** the members an MCPRegistry object aggregates (its spec unparsed), or undefined when it is no aggregate */
export function aggregateMembersOf(o: KubeObject): MemberRef[] | undefined {
  const source = (o.spec as { source?: { type?: unknown; aggregate?: { registries?: unknown } } } | undefined)?.source;
  if (source?.type !== 'aggregate' || !Array.isArray(source.aggregate?.registries)) return undefined;
  const ns = o.metadata.namespace ?? 'default';
  const out: MemberRef[] = [];
  for (const m of source.aggregate.registries as Array<{ name?: unknown; namespace?: unknown }>) {
    if (typeof m?.name !== 'string') continue;
    out.push({ namespace: typeof m.namespace === 'string' && m.namespace ? m.namespace : ns, name: m.name });
  }
  return out;
}

/** the aggregates among `registries` that list `member` */
export function aggregatesOf(registries: readonly KubeObject[], member: MemberRef): KubeObject[] {
  return registries.filter((o) => aggregateMembersOf(o)?.some((m) => m.namespace === member.namespace && m.name === member.name));
}

/** the namespaces a registry's annotation lets aggregate it (`*`: any) */
export function allowedNamespaces(o: KubeObject): string[] {
  const value = o.metadata.annotations?.[AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION];
  if (!value) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** undefined when an aggregate in `aggregatorNamespace` may read `member`, else why not */
export function aggregationRefusal(member: KubeObject, aggregatorNamespace: string): string | undefined {
  const ns = member.metadata.namespace ?? 'default';
  if (ns === aggregatorNamespace) return undefined;
  const allowed = allowedNamespaces(member);
  if (allowed.includes('*') || allowed.includes(aggregatorNamespace)) return undefined;
  return allowed.length === 0
    ? `it is in another namespace and has no ${AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION} annotation allowing ${aggregatorNamespace}`
    : `its ${AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION} annotation does not list ${aggregatorNamespace} (it lists ${allowed.join(', ')})`;
}

/** how far cycle detection follows aggregates of aggregates */
export const MAX_AGGREGATE_DEPTH = 16;

/**
 * A path `self → member → … → self` when `member` (directly or through aggregates it
 * aggregates) aggregates `self`; undefined when there is none within MAX_AGGREGATE_DEPTH.
 * Each registry is looked up at most once.
 */
export async function findCycle(self: MemberRef, member: MemberRef, lookup: (ref: MemberRef) => Promise<KubeObject | null>): Promise<MemberRef[] | undefined> {
  const same = (a: MemberRef, b: MemberRef) => a.namespace === b.namespace && a.name === b.name;
  if (same(self, member)) return [self, self];
  const visited = new Set<string>();
  const walk = async (at: MemberRef, path: MemberRef[]): Promise<MemberRef[] | undefined> => {
    if (path.length > MAX_AGGREGATE_DEPTH || visited.has(refText(at))) return undefined;
    visited.add(refText(at));
    const object = await lookup(at);
    const next = object ? aggregateMembersOf(object) : undefined;
    for (const m of next ?? []) {
      if (same(m, self)) return [...path, at, self];
      const found = await walk(m, [...path, at]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(member, [self]);
}
