import { createHash } from 'node:crypto';

/**
 * The registry labels and annotations on ToolHive workloads, and label-value sanitising.
 * Pure: no I/O.
 *
 * A label value is at most 63 characters of `[A-Za-z0-9._-]`, beginning and ending with an
 * alphanumeric character (or empty). A value that is already valid is used as is. Anything
 * else is rewritten deterministically: accents are dropped (`é` → `e`), characters outside the set (other unicode, `/`, `@`, spaces,
 * …) become `-`, runs of separators collapse, the ends are trimmed to alphanumerics, and —
 * because that rewriting is lossy — a `-` and the first 10 hex digits of the SHA-256 of the
 * original value are appended (the whole value cut to fit 63 characters). The full value
 * is always kept in an annotation as well (`…/<label>-full`), so nothing is lost.
 */

export const LABEL_PREFIX = 'toolhive.stacklok.io';

export const LABELS = {
  registryName: `${LABEL_PREFIX}/registry-name`,
  registryNamespace: `${LABEL_PREFIX}/registry-namespace`,
  serverName: `${LABEL_PREFIX}/server-name`,
  tier: `${LABEL_PREFIX}/tier`,
  category: `${LABEL_PREFIX}/category`,
} as const;

export const REGISTRY_LABEL_KEYS = Object.values(LABELS);

export const ANNOTATIONS = {
  /** the entry's version, as the registry's upstream view has it */
  version: `${LABEL_PREFIX}/registry-entry-version`,
  /** the snapshot the workload was last applied from */
  snapshot: `${LABEL_PREFIX}/registry-snapshot`,
  /** a hash of what the registry manages, to tell whether the workload is behind its entry */
  entryHash: `${LABEL_PREFIX}/registry-entry-hash`,
  /** the spec fields the registry manages, comma-separated */
  managedFields: `${LABEL_PREFIX}/registry-managed-fields`,
  /** set when the entry is no longer in the registry (nothing is deleted) */
  entryRemoved: `${LABEL_PREFIX}/registry-entry-removed`,
  /** "false": discovery leaves the workload alone */
  discovery: `${LABEL_PREFIX}/registry-discovery`,
  /** the upstream (reverse-DNS) name of the entry */
  upstreamName: `${LABEL_PREFIX}/registry-upstream-name`,
  /** the variables (and headers) whose values the user gave (`mcpreg deploy --env/--secret`), comma-separated: updates keep them */
  userValues: `${LABEL_PREFIX}/registry-user-values`,
  /** set before `recreate` deletes a workload that has finalizers: a later sync creates it again if the deletion outlasts this one */
  recreating: `${LABEL_PREFIX}/registry-recreating`,
} as const;

/** the annotation holding a label's unshortened value */
export function fullValueAnnotation(labelKey: string): string {
  return `${labelKey}-full`;
}

const MAX = 63;
const VALID = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;
const HASH_LENGTH = 10;

export function isValidLabelValue(value: string): boolean {
  return value.length <= MAX && VALID.test(value);
}

/** A label value for `value`: itself when valid, else a deterministic shortened form with a hash suffix. */
export function sanitizeLabelValue(value: string): string {
  if (isValidLabelValue(value)) return value;
  const hash = createHash('sha256').update(value, 'utf8').digest('hex').slice(0, HASH_LENGTH);
  const cleaned = value
    .normalize('NFKD')
    // the accents decomposition splits off go (é → e), not into a separator
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/([._-])[._-]+/g, '$1');
  const room = MAX - HASH_LENGTH - 1;
  const head = trimEnds(trimEnds(cleaned).slice(0, room));
  return head ? `${head}-${hash}` : hash;
}

function trimEnds(s: string): string {
  return s.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
}

export interface RegistryLabelInput {
  registry: { namespace: string; name: string };
  /** the entry's ToolHive name (`github`) */
  serverName: string;
  tier?: string | undefined;
  category?: string | undefined;
}

/** The five registry labels (tier and category when the entry has them), and the full values of any that were shortened. */
export function registryLabels(input: RegistryLabelInput): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const set = (key: string, value: string | undefined) => {
    if (value === undefined || value === '') return;
    const v = sanitizeLabelValue(value);
    labels[key] = v;
    if (v !== value) annotations[fullValueAnnotation(key)] = value;
  };
  set(LABELS.registryName, input.registry.name);
  set(LABELS.registryNamespace, input.registry.namespace);
  set(LABELS.serverName, input.serverName);
  set(LABELS.tier, input.tier);
  set(LABELS.category, input.category);
  return { labels, annotations };
}

/** the registry a workload's labels name, if they name one (the full values when shortened) */
export function registryOfLabels(metadata: { labels?: Record<string, string> | undefined; annotations?: Record<string, string> | undefined }): { namespace: string; name: string; serverName?: string } | undefined {
  const labels = metadata.labels ?? {};
  const annotations = metadata.annotations ?? {};
  const full = (key: string) => annotations[fullValueAnnotation(key)] ?? labels[key];
  const name = full(LABELS.registryName);
  if (!name) return undefined;
  const serverName = full(LABELS.serverName);
  return { namespace: full(LABELS.registryNamespace) ?? '', name, ...(serverName ? { serverName } : {}) };
}

/** whether a workload carries any registry label */
export function hasRegistryLabels(labels: Record<string, string> | undefined): boolean {
  return REGISTRY_LABEL_KEYS.some((k) => labels?.[k] !== undefined);
}
