import { RegistryError, toRegistryError } from '../errors.ts';
import type { KubeObject } from '../kube/objects.ts';
import { ANNOTATIONS, hasRegistryLabels, LABELS, registryLabels, registryOfLabels } from './labels.ts';
import { categoriesOf } from '../filter/categories.ts';
import { MCP_REMOTE_PROXY_KIND, MCP_SERVER_KIND, planWorkload, WORKLOAD_API_VERSION, type DeployEntry, type KubeManifest, type SecretRef, type WorkloadPlan } from './workload.ts';

/**
 * The registry → workloads reconciliation, planned (pure; no I/O): the workloads of the
 * registry's namespace and the entries of its snapshot in, the actions to take out.
 *
 * - Discovery: a workload with no registry label, not opted out (annotation
 *   `toolhive.stacklok.io/registry-discovery: "false"`), whose image repository (MCPServer)
 *   or remote URL (MCPRemoteProxy) is an entry's gets the registry's labels. When several
 *   registries of the namespace carry it, the one whose name sorts first takes it: the
 *   caller says which match keys an earlier registry carries (`claimedEarlier`).
 * - Association: every workload whose labels name the registry follows its entry per
 *   `syncPolicy.onUpdate` (`update`: re-apply the managed fields; `recreate`: delete and
 *   create; `create`: leave it). It is behind when its `registry-entry-hash` differs from the
 *   entry's plan. Values the workload already has for the entry's variables are kept (a
 *   required variable has no default to re-apply; a secret variable keeps its Secret).
 * - A workload whose entry left the registry is annotated (`registry-entry-removed`), never deleted.
 */

export type OnUpdate = 'create' | 'update' | 'recreate';

export interface WorkloadRef {
  kind: string;
  namespace: string;
  name: string;
}

export type ReconcileAction =
  /** discovery: the registry labels (and nothing else) */
  | { type: 'label'; workload: WorkloadRef; server: string; apply: KubeManifest }
  /** re-apply the registry-managed fields (labels included) */
  | { type: 'update'; workload: WorkloadRef; server: string; plan: WorkloadPlan; discovered: boolean }
  /** delete (unless it is being deleted already), wait for it to go, then create from the current object with the managed fields replaced */
  | { type: 'recreate'; workload: WorkloadRef; server: string; plan: WorkloadPlan; current: KubeObject; discovered: boolean }
  /** annotate (a merge patch, outside our applied configuration): the entry is no longer in the registry */
  | { type: 'removed'; workload: WorkloadRef; server: string; annotations: Record<string, string> }
  /** the entry is back: drop the removed annotation */
  | { type: 'restored'; workload: WorkloadRef; server: string }
  /** the entry cannot be planned for this workload (e.g. a required variable without a value) */
  | { type: 'invalid'; workload: WorkloadRef; server: string; error: RegistryError };

export interface ReconcileInput {
  registry: { namespace: string; name: string };
  onUpdate: OnUpdate;
  /** hash of the snapshot the entries come from */
  snapshot: string;
  entries: readonly DeployEntry[];
  /** the workloads of the registry's namespace (both kinds) */
  workloads: readonly KubeObject[];
  /** match keys (see matchKeyOf) that a registry sorting before this one carries */
  claimedEarlier?: ReadonlySet<string>;
}

export interface ReconcilePlan {
  actions: ReconcileAction[];
  /** workloads labelled with this registry (after discovery) */
  associated: number;
  /** associated workloads whose entry changed and that this plan does not bring up to date */
  behind: number;
  /** associated workloads already up to date */
  upToDate: number;
  /** unlabelled workloads that match this registry's entries (candidates for discovery) */
  candidates: number;
}

/** `ghcr.io/org/img:tag@sha256:…` → `ghcr.io/org/img` (a registry host's port stays) */
export function imageRepository(image: string): string {
  let s = image.trim();
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > slash) s = s.slice(0, colon);
  return s.toLowerCase();
}

/** a remote URL compared without case in scheme and host, and without a trailing slash */
export function remoteKey(url: string): string {
  try {
    const u = new URL(url.trim());
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}${u.search}`;
  } catch {
    return url.trim().replace(/\/+$/, '');
  }
}

/** what discovery matches an entry and a workload by */
export function matchKeyOfEntry(e: DeployEntry): string {
  return e.kind === 'image' ? `image:${imageRepository(e.entry.image)}` : `remote:${remoteKey(e.entry.url)}`;
}

export function matchKeyOf(w: KubeObject): string | undefined {
  const spec = (w.spec ?? {}) as { image?: unknown; remoteUrl?: unknown };
  if (w.kind === MCP_SERVER_KIND && typeof spec.image === 'string' && spec.image) return `image:${imageRepository(spec.image)}`;
  if (w.kind === MCP_REMOTE_PROXY_KIND && typeof spec.remoteUrl === 'string' && spec.remoteUrl) return `remote:${remoteKey(spec.remoteUrl)}`;
  return undefined;
}

function refOf(w: KubeObject): WorkloadRef {
  return { kind: w.kind, namespace: w.metadata.namespace ?? 'default', name: w.metadata.name };
}

function kindOf(e: DeployEntry): string {
  return e.kind === 'image' ? MCP_SERVER_KIND : MCP_REMOTE_PROXY_KIND;
}

/** whether a workload may be discovered at all */
export function discoverable(w: KubeObject): boolean {
  if (w.metadata.deletionTimestamp) return false;
  if (hasRegistryLabels(w.metadata.labels)) return false;
  return w.metadata.annotations?.[ANNOTATIONS.discovery]?.toLowerCase() !== 'false';
}

/** the names of the `registry-user-values` annotation */
export function userValueNames(w: KubeObject): Set<string> {
  const text = w.metadata.annotations?.[ANNOTATIONS.userValues] ?? '';
  return new Set(text.split(',').map((n) => n.trim()).filter((n) => n !== ''));
}

/**
 * The values a workload already has for the entry's variables (and headers), to keep on
 * update: those the user gave (named in `registry-user-values`, declared by the entry or
 * not, overriding a default or not), and values of declared variables without a default.
 * `userValues` are the annotation's names still present on the workload.
 */
function currentValues(w: KubeObject, e: DeployEntry): { env: Record<string, string>; secrets: Record<string, SecretRef>; userValues: string[] } {
  const spec = (w.spec ?? {}) as Record<string, unknown>;
  const env: Record<string, string> = {};
  const secrets: Record<string, SecretRef> = {};
  const user = userValueNames(w);
  const kept = new Set<string>();
  if (e.kind === 'image') {
    const declared = new Map((e.entry.env_vars ?? []).map((v) => [v.name, v] as const));
    for (const item of Array.isArray(spec.env) ? (spec.env as { name?: unknown; value?: unknown }[]) : []) {
      if (typeof item.name !== 'string' || typeof item.value !== 'string') continue;
      const v = declared.get(item.name);
      if (v?.secret) continue;
      if (user.has(item.name)) {
        env[item.name] = item.value;
        kept.add(item.name);
      }
      // a default is the registry's to re-apply; a value with no default is the user's
      else if (v && v.default === undefined) env[v.name] = item.value;
    }
    for (const item of Array.isArray(spec.secrets) ? (spec.secrets as { name?: unknown; key?: unknown; targetEnvName?: unknown }[]) : []) {
      const target = typeof item.targetEnvName === 'string' ? item.targetEnvName : typeof item.key === 'string' ? item.key : undefined;
      if (!target || typeof item.name !== 'string' || typeof item.key !== 'string') continue;
      if (user.has(target)) kept.add(target);
      if (declared.has(target) || user.has(target)) secrets[target] = { name: item.name, key: item.key };
    }
  } else {
    const declared = new Map((e.entry.headers ?? []).map((h) => [h.name, h] as const));
    const hf = (spec.headerForward ?? {}) as { addPlaintextHeaders?: Record<string, unknown>; addHeadersFromSecret?: { headerName?: unknown; valueSecretRef?: { name?: unknown; key?: unknown } }[] };
    for (const [name, value] of Object.entries(hf.addPlaintextHeaders ?? {})) {
      if (typeof value !== 'string') continue;
      const h = declared.get(name);
      if (h?.secret) continue;
      if (user.has(name)) {
        env[name] = value;
        kept.add(name);
      } else if (h && h.default === undefined) env[name] = value;
    }
    for (const item of hf.addHeadersFromSecret ?? []) {
      const ref = item.valueSecretRef;
      if (typeof item.headerName !== 'string' || typeof ref?.name !== 'string' || typeof ref.key !== 'string') continue;
      if (user.has(item.headerName)) kept.add(item.headerName);
      if (declared.has(item.headerName) || user.has(item.headerName)) secrets[item.headerName] = { name: ref.name, key: ref.key };
    }
  }
  return { env, secrets, userValues: [...kept] };
}

function labelsOnly(w: KubeObject, e: DeployEntry, registry: { namespace: string; name: string }): KubeManifest {
  const { labels, annotations } = registryLabels({
    registry,
    serverName: e.name,
    tier: typeof e.entry.tier === 'string' ? e.entry.tier : undefined,
    category: categoriesOf(e.entry.custom_metadata, e.entry.tags ?? [])[0],
  });
  return {
    apiVersion: WORKLOAD_API_VERSION,
    kind: w.kind,
    metadata: { name: w.metadata.name, namespace: w.metadata.namespace ?? 'default', labels, annotations: { ...annotations, [ANNOTATIONS.upstreamName]: e.upstreamName } },
  };
}

export function planReconcile(input: ReconcileInput): ReconcilePlan {
  const { registry } = input;
  const byName = new Map<string, DeployEntry>();
  const byKey = new Map<string, DeployEntry>();
  for (const e of input.entries) {
    byName.set(e.name, e);
    byName.set(e.upstreamName, e);
    const key = matchKeyOfEntry(e);
    // two entries with one image: the first by name (entries come sorted) is the match
    if (!byKey.has(key)) byKey.set(key, e);
  }
  const actions: ReconcileAction[] = [];
  let associated = 0;
  let behind = 0;
  let upToDate = 0;
  let candidates = 0;
  const workloads = [...input.workloads].sort((a, b) => (a.kind + '/' + a.metadata.name < b.kind + '/' + b.metadata.name ? -1 : 1));
  for (const w of workloads) {
    // a workload being deleted is left alone, unless `recreate` deleted it and waits to create it again
    const terminating = w.metadata.deletionTimestamp !== undefined && w.metadata.deletionTimestamp !== null;
    if (terminating && w.metadata.annotations?.[ANNOTATIONS.recreating] === undefined) continue;
    const ref = refOf(w);
    let entry: DeployEntry | undefined;
    let discovered = false;
    const labelled = registryOfLabels(w.metadata);
    if (labelled) {
      if (labelled.name !== registry.name || (labelled.namespace || ref.namespace) !== registry.namespace) continue;
      associated++;
      const server = labelled.serverName;
      entry = server !== undefined ? byName.get(server) : undefined;
      if (terminating && (!entry || kindOf(entry) !== w.kind)) continue;
      if (!entry || kindOf(entry) !== w.kind) {
        const name = server ?? '(no server-name label)';
        if (w.metadata.annotations?.[ANNOTATIONS.entryRemoved] === undefined) {
          actions.push({
            type: 'removed',
            workload: ref,
            server: name,
            annotations: { [ANNOTATIONS.entryRemoved]: input.snapshot },
          });
        }
        behind++;
        continue;
      }
    } else {
      if (!discoverable(w)) continue;
      const key = matchKeyOf(w);
      entry = key !== undefined ? byKey.get(key) : undefined;
      if (!entry || kindOf(entry) !== w.kind) continue;
      candidates++;
      if (key !== undefined && input.claimedEarlier?.has(key)) continue;
      discovered = true;
      associated++;
    }
    let plan: WorkloadPlan;
    try {
      const values = currentValues(w, entry);
      plan = planWorkload(entry, { registry, namespace: ref.namespace, workloadName: ref.name, env: values.env, secrets: values.secrets, snapshot: input.snapshot, userValues: values.userValues });
    } catch (e) {
      actions.push({ type: 'invalid', workload: ref, server: entry.name, error: toRegistryError(e, 'invalid_argument') });
      behind++;
      continue;
    }
    if (terminating) {
      // deleted by a recreate whose wait ran out: wait for it to go and create it
      actions.push({ type: 'recreate', workload: ref, server: entry.name, plan, current: w, discovered: false });
      continue;
    }
    const current = w.metadata.annotations?.[ANNOTATIONS.entryHash];
    if (w.metadata.annotations?.[ANNOTATIONS.entryRemoved] !== undefined && (current === plan.entryHash || input.onUpdate === 'create')) actions.push({ type: 'restored', workload: ref, server: entry.name });
    if (current === plan.entryHash && !discovered) {
      upToDate++;
      continue;
    }
    if (input.onUpdate === 'update') actions.push({ type: 'update', workload: ref, server: entry.name, plan, discovered });
    else if (input.onUpdate === 'recreate') actions.push({ type: 'recreate', workload: ref, server: entry.name, plan, current: w, discovered });
    else {
      if (discovered) actions.push({ type: 'label', workload: ref, server: entry.name, apply: labelsOnly(w, entry, registry) });
      if (current === plan.entryHash) upToDate++;
      else behind++;
    }
  }
  return { actions, associated, behind, upToDate, candidates };
}

/** the object `recreate` creates: the current one with the managed fields replaced and the server-set metadata dropped */
export function recreatedObject(current: KubeObject, plan: WorkloadPlan): Record<string, unknown> {
  const spec = { ...((current.spec ?? {}) as Record<string, unknown>) };
  const managedKeys = current.kind === MCP_SERVER_KIND ? ['image', 'transport', 'proxyPort', 'mcpPort', 'args', 'env', 'secrets', 'permissionProfile'] : ['remoteUrl', 'transport', 'proxyPort', 'headerForward'];
  const userEnv = (Array.isArray(spec.env) ? (spec.env as { name?: string }[]) : []).filter((i) => !((plan.workload.spec?.env as { name: string }[] | undefined) ?? []).some((p) => p.name === i.name));
  for (const k of managedKeys) delete spec[k];
  Object.assign(spec, plan.workload.spec);
  if (userEnv.length > 0 && current.kind === MCP_SERVER_KIND) spec.env = [...((plan.workload.spec?.env as unknown[]) ?? []), ...userEnv];
  const m = current.metadata;
  const annotations = { ...(m.annotations ?? {}), ...(plan.workload.metadata.annotations ?? {}) };
  delete annotations[ANNOTATIONS.entryRemoved];
  delete annotations[ANNOTATIONS.recreating];
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  return {
    apiVersion: plan.workload.apiVersion,
    kind: plan.workload.kind,
    metadata: { name: m.name, namespace: m.namespace, labels: { ...(m.labels ?? {}), ...(plan.workload.metadata.labels ?? {}) }, annotations },
    spec,
  };
}

export function describeRef(r: WorkloadRef): string {
  return `${r.kind} ${r.namespace}/${r.name}`;
}

/** the error for a workload kind whose CRD is missing */
export function missingKindsError(missing: readonly string[]): RegistryError {
  return new RegistryError('not_found', `workload CRD${missing.length > 1 ? 's' : ''} not installed (${missing.join(', ')}): deploy, discovery and updates of ${missing.join(' and ')} are off; ToolHive's operator installs them`);
}

export { LABELS };
