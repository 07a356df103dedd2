/**
 * What the server serves: one `ResourceType` per group/resource (built-in kinds from
 * builtins.ts, custom resources from stored CRDs via crd.ts) and the registry that resolves
 * URL segments, kinds and short names to them.
 */
import type { MergeKeys } from './patch.ts';
import type { KubeObject } from './objects.ts';
import type { Schema } from './schema.ts';
import type { FieldError } from './field-errors.ts';

export interface Column {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description?: string;
  priority: number;
  /** a printer-column JSONPath such as `.status.conditions[?(@.type=="Ready")].status` */
  jsonPath?: string;
  /** computed columns of built-in kinds */
  value?: (obj: KubeObject) => unknown;
}

export interface VersionInfo {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: Schema;
  /** columns after Name; when absent, Name and Age */
  columns?: Column[];
  status: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
}

export type NameRule = 'subdomain' | 'label' | 'path';

export interface ResourceType {
  group: string;
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** all versions (served or not); storage version stores objects */
  versions: VersionInfo[];
  /** subresources besides status, e.g. serviceaccounts/token */
  extraSubresources?: { name: string; kind: string; group: string; version: string; verbs: string[] }[];
  /** metadata.generation tracks spec changes (CRDs, custom resources) */
  tracksGeneration: boolean;
  /** review kinds are answered, never stored */
  review?: boolean;
  /** strategic merge patch support (built-ins); undefined = 415 as for custom resources */
  mergeKeys?: MergeKeys;
  /** extra field selectors beyond metadata.name and metadata.namespace */
  fields?: Record<string, (obj: KubeObject) => string | undefined>;
  nameRule: NameRule;
  /** kind-specific checks beyond the schema (built-ins) */
  validate?: (obj: KubeObject, old: KubeObject | undefined) => FieldError[];
  /** adjust an object before it is stored (e.g. Secret stringData → data) */
  normalize?: (obj: KubeObject) => void;
  /** the CRD that defines this type */
  crd?: string;
}

export function storageVersion(t: ResourceType): string {
  return (t.versions.find((v) => v.storage) ?? t.versions[0]!).name;
}

export function servedVersions(t: ResourceType): VersionInfo[] {
  return t.versions.filter((v) => v.served).sort((a, b) => compareVersions(a.name, b.name));
}

export function versionInfo(t: ResourceType, version: string): VersionInfo | undefined {
  return t.versions.find((v) => v.name === version && v.served);
}

const VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/** Kubernetes version priority: GA before beta before alpha, higher numbers first, others last alphabetically. */
export function compareVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = VERSION.exec(v);
    if (!m) return [3, 0, 0];
    const stage = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return [stage, -Number(m[1]), -Number(m[3] ?? 0)];
  };
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
  return a < b ? -1 : a > b ? 1 : 0;
}

export const grKey = (group: string, resource: string) => `${group}/${resource}`;

export class ResourceRegistry {
  readonly #types = new Map<string, ResourceType>();

  add(t: ResourceType): void {
    this.#types.set(grKey(t.group, t.resource), t);
  }

  remove(group: string, resource: string): void {
    this.#types.delete(grKey(group, resource));
  }

  get(group: string, resource: string): ResourceType | undefined {
    return this.#types.get(grKey(group, resource));
  }

  /** the type serving `resource` in group/version, if that version is served */
  resolve(group: string, version: string, resource: string): ResourceType | undefined {
    const t = this.get(group, resource);
    return t && versionInfo(t, version) ? t : undefined;
  }

  byKind(group: string, kind: string): ResourceType | undefined {
    for (const t of this.#types.values()) if (t.group === group && t.kind === kind) return t;
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.#types.values()];
  }

  /** group → served versions (preferred first) → types, for discovery */
  groups(): Map<string, Map<string, ResourceType[]>> {
    const out = new Map<string, Map<string, ResourceType[]>>();
    for (const t of this.#types.values()) {
      for (const v of servedVersions(t)) {
        let g = out.get(t.group);
        if (!g) out.set(t.group, (g = new Map()));
        let list = g.get(v.name);
        if (!list) g.set(v.name, (list = []));
        list.push(t);
      }
    }
    for (const [group, versions] of out) {
      const sorted = new Map([...versions.entries()].sort(([a], [b]) => compareVersions(a, b)));
      for (const list of sorted.values()) list.sort((a, b) => (a.resource < b.resource ? -1 : 1));
      out.set(group, sorted);
    }
    return out;
  }
}
