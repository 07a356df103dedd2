/**
 * CustomResourceDefinitions: their validation, the status the server gives them
 * (Established, NamesAccepted, storedVersions) and the ResourceType that serves their
 * custom resources as soon as they are stored.
 */
import { unsupportedRules } from './cel.ts';
import { child, fieldError, index, type FieldError } from './field-errors.ts';
import { dns1123Label, dns1123Subdomain } from './names.ts';
import { deepEqual, isObject, nowTimestamp, type KubeObject } from './objects.ts';
import type { Column, ResourceType, VersionInfo } from './resources.ts';
import { crdSchemaErrors } from './crd-schema.ts';
import type { Schema } from './schema.ts';

export interface CrdNames {
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames: string[];
  categories: string[];
}

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema?: { openAPIV3Schema?: Schema };
  subresources?: { status?: unknown; scale?: unknown };
  additionalPrinterColumns?: { name: string; type: Column['type']; format?: string; description?: string; priority?: number; jsonPath: string }[];
}

interface CrdSpec {
  group: string;
  names: Partial<CrdNames>;
  scope: 'Namespaced' | 'Cluster';
  versions: CrdVersion[];
}

const specOf = (crd: KubeObject) => crd.spec as CrdSpec;

export function crdNames(crd: KubeObject): CrdNames {
  const n = specOf(crd).names;
  const kind = n.kind ?? '';
  return {
    plural: n.plural ?? '',
    singular: n.singular || kind.toLowerCase(),
    kind,
    listKind: n.listKind || `${kind}List`,
    shortNames: n.shortNames ?? [],
    categories: n.categories ?? [],
  };
}

/** Checks beyond the CRD's own schema (which builtins.ts applies first). */
export function validateCrd(crd: KubeObject, others: readonly ResourceType[]): FieldError[] {
  const errs: FieldError[] = [];
  const spec = specOf(crd);
  if (!isObject(spec) || !isObject(spec.names) || !Array.isArray(spec.versions)) return errs;
  const names = crdNames(crd);
  const expected = `${names.plural}.${spec.group}`;
  if (crd.metadata.name !== expected) errs.push(fieldError.invalid('metadata.name', crd.metadata.name, `must be spec.names.plural+"."+spec.group`));
  if (dns1123Subdomain(spec.group).length > 0 || !spec.group.includes('.')) errs.push(fieldError.invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
  for (const [field, value] of [
    ['plural', names.plural],
    ['singular', names.singular],
  ] as const) {
    if (dns1123Label(value).length > 0) errs.push(fieldError.invalid(`spec.names.${field}`, value, dns1123Label(value).join('; ')));
  }
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(names.kind)) errs.push(fieldError.invalid('spec.names.kind', names.kind, 'must be a valid kind name (letters and digits, starting with a letter)'));
  names.shortNames.forEach((s, i) => {
    if (dns1123Label(s).length > 0) errs.push(fieldError.invalid(index('spec.names.shortNames', i), s, dns1123Label(s).join('; ')));
  });

  if (spec.versions.length === 0) errs.push(fieldError.required('spec.versions', 'must have at least one version'));
  const seen = new Set<string>();
  // kube-apiserver validates a schema all versions share once, as spec.validation (its internal form)
  const shared = spec.versions.length > 0 && spec.versions.every((v) => deepEqual(v.schema, spec.versions[0]!.schema));
  if (shared) {
    const root = spec.versions[0]!.schema?.openAPIV3Schema;
    const statusSubresource = spec.versions.some((v) => isObject(v.subresources) && v.subresources.status !== undefined && v.subresources.status !== null);
    if (root) errs.push(...crdSchemaErrors(root, 'spec.validation.openAPIV3Schema', { statusSubresource }));
  }
  spec.versions.forEach((v, i) => {
    const at = index('spec.versions', i);
    if (seen.has(v.name)) errs.push(fieldError.duplicate(child(at, 'name'), v.name));
    seen.add(v.name);
    if (dns1123Label(v.name).length > 0) errs.push(fieldError.invalid(child(at, 'name'), v.name, 'must be a DNS-1035 label'));
    const root = v.schema?.openAPIV3Schema;
    if (!root) errs.push(fieldError.required(`${at}.schema.openAPIV3Schema`, 'schemas are required'));
    else if (!shared) errs.push(...crdSchemaErrors(root, `${at}.schema.openAPIV3Schema`, { statusSubresource: isObject(v.subresources) && v.subresources.status !== undefined && v.subresources.status !== null }));
    (v.additionalPrinterColumns ?? []).forEach((c, j) => {
      if (typeof c.jsonPath === 'string' && !c.jsonPath.startsWith('.'))
        errs.push(fieldError.invalid(`${at}.additionalPrinterColumns[${j}].jsonPath`, c.jsonPath, 'must be a simple json path starting with .'));
    });
  });
  const storage = spec.versions.filter((v) => v.storage).length;
  if (spec.versions.length > 0 && storage !== 1) errs.push(fieldError.invalid('spec.versions', storage, 'must have exactly one version marked as storage version'));
  if (spec.versions.length > 0 && !spec.versions.some((v) => v.served)) errs.push(fieldError.invalid('spec.versions', spec.versions.length, 'must have at least one served version'));

  for (const t of others) {
    if (t.crd === crd.metadata.name || t.group !== spec.group) continue;
    if (t.kind === names.kind) errs.push(fieldError.invalid('spec.names.kind', names.kind, `is already in use by ${t.crd ?? 'a built-in resource'}`));
    if (t.resource === names.plural) errs.push(fieldError.invalid('spec.names.plural', names.plural, `is already in use by ${t.crd ?? 'a built-in resource'}`));
  }
  return errs;
}

/** The status a freshly stored CRD gets (the names are accepted at once). */
export function crdStatus(crd: KubeObject, previous?: KubeObject): Record<string, unknown> {
  const names = crdNames(crd);
  const spec = specOf(crd);
  const storage = spec.versions.find((v) => v.storage)?.name;
  const prevStatus = (previous?.status ?? {}) as { storedVersions?: string[]; conditions?: { type: string; lastTransitionTime?: string }[] };
  const stored = [...(prevStatus.storedVersions ?? [])];
  if (storage && !stored.includes(storage)) stored.push(storage);
  const since = (type: string) => prevStatus.conditions?.find((c) => c.type === type)?.lastTransitionTime ?? nowTimestamp();
  return {
    conditions: [
      { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: since('NamesAccepted') },
      { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: since('Established') },
    ],
    acceptedNames: { plural: names.plural, singular: names.singular, kind: names.kind, listKind: names.listKind, ...(names.shortNames.length ? { shortNames: names.shortNames } : {}), ...(names.categories.length ? { categories: names.categories } : {}) },
    storedVersions: stored,
  };
}

export function crdToType(crd: KubeObject): ResourceType {
  const spec = specOf(crd);
  const names = crdNames(crd);
  const versions: VersionInfo[] = spec.versions.map((v) => ({
    name: v.name,
    served: v.served,
    storage: v.storage,
    ...(v.schema?.openAPIV3Schema ? { schema: v.schema.openAPIV3Schema } : {}),
    status: isObject(v.subresources) && v.subresources.status !== undefined && v.subresources.status !== null,
    ...(v.additionalPrinterColumns?.length
      ? {
          columns: v.additionalPrinterColumns.map((c) => ({
            name: c.name,
            type: c.type,
            ...(c.format ? { format: c.format } : {}),
            ...(c.description ? { description: c.description } : {}),
            priority: c.priority ?? 0,
            jsonPath: c.jsonPath,
          })),
        }
      : {}),
    ...(v.deprecated ? { deprecated: true } : {}),
    ...(v.deprecationWarning ? { deprecationWarning: v.deprecationWarning } : {}),
  }));
  return {
    group: spec.group,
    resource: names.plural,
    singular: names.singular,
    kind: names.kind,
    listKind: names.listKind,
    namespaced: spec.scope !== 'Cluster',
    shortNames: names.shortNames,
    categories: names.categories,
    verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
    versions,
    tracksGeneration: true,
    nameRule: 'subdomain',
    crd: crd.metadata.name!,
  };
}

/** CEL rules of a CRD that are skipped here, for a warning when the CRD is stored. */
export function skippedRules(crd: KubeObject): string[] {
  const out: string[] = [];
  for (const v of specOf(crd).versions ?? []) {
    for (const r of unsupportedRules(v.schema?.openAPIV3Schema)) out.push(`${v.name} ${r.path || '<root>'}: rule ${JSON.stringify(r.rule)} not evaluated (${r.reason})`);
  }
  return out;
}
