import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { RegistryError } from '../errors.ts';
import { apiError } from '../kube/registry-client.ts';
import { guessPlural } from '../kube/resources.ts';
import { FIELD_MANAGER, WORKLOAD_GROUP, WORKLOAD_VERSION, type KubeManifest, type WorkloadPlan } from './workload.ts';

/**
 * Applies a workload plan through the Kubernetes API with server-side apply under our field
 * manager (never forced: a field another manager owns is a conflict, reported, not taken).
 * A server-side dry run of the workload goes first, so that a missing CRD or a rejected spec
 * stops before the permission-profile ConfigMap is written.
 */

const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

export interface ApplyOutcome {
  workload: Record<string, unknown>;
  configMap?: Record<string, unknown>;
}

/** the CRD a kind needs, named for messages */
export function crdNameOf(kind: string): string {
  return `${guessPlural(kind)}.${WORKLOAD_GROUP}`;
}

function missingCrd(kind: string): RegistryError {
  return new RegistryError('not_found', `the ${kind} CRD (${crdNameOf(kind)}) is not installed on this cluster; ToolHive's operator installs it`);
}

export async function applyWorkload(kubeConfig: KubeConfig, plan: WorkloadPlan, options: { fieldManager?: string } = {}): Promise<ApplyOutcome> {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const fieldManager = options.fieldManager ?? FIELD_MANAGER;
  const w = plan.workload;
  const ref = `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`;
  const patchWorkload = (dryRun: boolean) =>
    custom.patchNamespacedCustomObject(
      { group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: guessPlural(w.kind), namespace: w.metadata.namespace, name: w.metadata.name, body: w, fieldManager, ...(dryRun ? { dryRun: 'All' } : {}) },
      apply,
    ) as Promise<Record<string, unknown>>;
  try {
    await patchWorkload(true);
  } catch (e) {
    throw workloadError(e, w, `apply ${ref}`);
  }
  let configMap: Record<string, unknown> | undefined;
  if (plan.configMap) {
    const cm: KubeManifest = plan.configMap;
    try {
      configMap = (await core.patchNamespacedConfigMap({ name: cm.metadata.name, namespace: cm.metadata.namespace, body: cm, fieldManager }, apply)) as unknown as Record<string, unknown>;
    } catch (e) {
      throw apiError(e, `apply ConfigMap ${cm.metadata.namespace}/${cm.metadata.name}`);
    }
  }
  try {
    const workload = await patchWorkload(false);
    return configMap ? { workload, configMap } : { workload };
  } catch (e) {
    throw workloadError(e, w, `apply ${ref}`);
  }
}

/** a 404 on an apply means the kind is unknown (an apply creates missing objects) */
export function workloadError(e: unknown, w: { kind: string }, what: string): RegistryError {
  const status = (e as { code?: unknown }).code;
  if (status === 404) return missingCrd(w.kind);
  if (status === 409) {
    const err = apiError(e, what);
    return new RegistryError('conflict', `${what}: ${detail(e) ?? 'another field manager owns a field the registry manages'}`, { cause: err });
  }
  return apiError(e, what);
}

function detail(e: unknown): string | undefined {
  const body = (e as { body?: unknown }).body;
  try {
    const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string } | undefined;
    return parsed?.message ? parsed.message.replace(/\s+/g, ' ').slice(0, 500) : undefined;
  } catch {
    return undefined;
  }
}
