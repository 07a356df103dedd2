import { GROUP, REGISTRY_SOURCE_LABEL } from '../kube/resources.ts';

/**
 * Which registries read a ConfigMap, kept on the ConfigMap itself. Pure.
 *
 * A ConfigMap that a registry names gets the registry-source label (so that the
 * ApiServerSource's selector streams its edits) and this annotation:
 * `{"readers":["a","b"],"labelAdded":true}` — the registries of its namespace that read it,
 * and whether the label was added by us. When no registry reads it any more, the annotation
 * goes, and the label too only when we added it: a label the user set stays.
 */

export const READERS_ANNOTATION = `${GROUP}/registry-readers`;

export interface Readers {
  readers: string[];
  labelAdded: boolean;
}

export interface ConfigMapMeta {
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
}

/** a JSON merge patch of `metadata` (null removes a key) */
export interface MetadataPatch {
  labels?: Record<string, string | null>;
  annotations?: Record<string, string | null>;
}

export function parseReaders(value: string | undefined): Readers | undefined {
  if (value === undefined) return undefined;
  try {
    const v = JSON.parse(value) as { readers?: unknown; labelAdded?: unknown };
    if (!Array.isArray(v.readers) || !v.readers.every((r) => typeof r === 'string')) return undefined;
    return { readers: v.readers as string[], labelAdded: v.labelAdded === true };
  } catch {
    return undefined;
  }
}

function formatReaders(r: Readers): string {
  return JSON.stringify({ readers: [...new Set(r.readers)].sort(), labelAdded: r.labelAdded });
}

export type ReadersPlan =
  | { kind: 'none'; userLabel: boolean }
  | { kind: 'patch'; patch: MetadataPatch; userLabel: boolean }
  /** the label is set to another value than "true": the user's choice, left alone */
  | { kind: 'conflict'; message: string };

/** The patch that makes `meta` say that exactly `readers` read it. */
export function planReaders(meta: ConfigMapMeta, readers: readonly string[]): ReadersPlan {
  const label = meta.labels?.[REGISTRY_SOURCE_LABEL];
  const raw = meta.annotations?.[READERS_ANNOTATION];
  const current = parseReaders(raw);
  const labelAdded = current?.labelAdded === true;
  if (readers.length === 0) {
    if (raw === undefined) return { kind: 'none', userLabel: label !== undefined };
    const patch: MetadataPatch = { annotations: { [READERS_ANNOTATION]: null } };
    if (labelAdded && label === 'true') patch.labels = { [REGISTRY_SOURCE_LABEL]: null };
    return { kind: 'patch', patch, userLabel: !labelAdded && label !== undefined };
  }
  if (label !== undefined && label !== 'true') {
    return { kind: 'conflict', message: `its label ${REGISTRY_SOURCE_LABEL} is ${JSON.stringify(label)}, not "true"; it is left as set` };
  }
  // a label present without our record of adding it is the user's
  const ours = label === undefined || labelAdded;
  const desired = formatReaders({ readers: [...readers], labelAdded: ours });
  const patch: MetadataPatch = {};
  if (label === undefined) patch.labels = { [REGISTRY_SOURCE_LABEL]: 'true' };
  if (raw !== desired) patch.annotations = { [READERS_ANNOTATION]: desired };
  if (!patch.labels && !patch.annotations) return { kind: 'none', userLabel: !ours };
  return { kind: 'patch', patch, userLabel: !ours };
}

/** the readers after adding (or removing) one registry */
export function withReader(meta: ConfigMapMeta, name: string, reads: boolean): string[] {
  const current = parseReaders(meta.annotations?.[READERS_ANNOTATION])?.readers ?? [];
  const rest = current.filter((r) => r !== name);
  return reads ? [...rest, name] : rest;
}

/** `<resourceVersion>/<key>`, the configmap source's revision (lib/sources/configmap.ts) */
export function configMapRevision(resourceVersion: string, key: string | undefined): string {
  return `${resourceVersion}/${key ?? 'registry.json'}`;
}
