import { ApiException, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import type { Condition } from '../kube/conditions.ts';
import type { KubeObject } from '../kube/objects.ts';
import { REGISTRY_SOURCE_LABEL } from '../kube/resources.ts';
import { silentLogger, type Logger } from '../log.ts';
import { configMapRevision, planReaders, READERS_ANNOTATION, withReader, type ConfigMapMeta } from './configmap-readers.ts';

/**
 * Makes ConfigMap sources immediate without the user labelling them: the ConfigMap a registry
 * reads is labelled (and annotated with its readers, configmap-readers.ts) before each sync,
 * and unlabelled when no registry reads it any more. Needs `patch` on ConfigMaps; without it
 * (or when the user set the label to something else) the registry says so in its
 * SourceWatched condition, and the per-minute ping's resourceVersion check
 * (`changedSources`) still notices edits. Never throws: labelling is an optimisation.
 */

export type WatchState =
  | { watched: true; reason: 'Labelled' | 'LabelledByUser'; message: string }
  | { watched: false; reason: 'LabelForbidden' | 'LabelConflict' | 'LabelFailed'; message: string };

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** metadata only: a ConfigMap holds up to 1 MiB of data, the ping needs its labels, annotations and resourceVersion */
const metadataOnly = setHeaderOptions('Accept', 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json');

/**
 * The labelled ConfigMaps of the whole cluster by `namespace/name`, metadata only (one list
 * call), or undefined when they could not be listed (the callers then read per namespace and
 * per ConfigMap, as without it).
 */
export type LabelledConfigMaps = Map<string, V1ConfigMap>;
const metadataOnlyOne = setHeaderOptions('Accept', 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json');
const ATTEMPTS = 4;

interface ConfigMapRef {
  name: string;
  key?: string | undefined;
}

function configMapOf(registry: KubeObject): ConfigMapRef | undefined {
  const source = (registry.spec as { source?: { type?: unknown; configMap?: { name?: unknown; key?: unknown } } } | undefined)?.source;
  if (source?.type !== 'configmap' || typeof source.configMap?.name !== 'string') return undefined;
  return { name: source.configMap.name, ...(typeof source.configMap.key === 'string' ? { key: source.configMap.key } : {}) };
}

function code(e: unknown): number | undefined {
  return e instanceof ApiException ? e.code : undefined;
}

/** SourceWatched, from what labelling found */
export function watchedCondition(configMap: string, state: WatchState): Pick<Condition, 'type' | 'status' | 'reason' | 'message'> {
  return { type: 'SourceWatched', status: state.watched ? 'True' : 'False', reason: state.reason, message: `ConfigMap ${configMap}: ${state.message}` };
}

export function createConfigMapWatch(kubeConfig: KubeConfig, log: Logger = silentLogger) {
  const core = kubeConfig.makeApiClient(CoreV1Api);

  /** re-reads and re-plans on a conflict; `readers` computes who reads it from its current metadata */
  async function apply(namespace: string, name: string, readers: (meta: ConfigMapMeta) => string[], initial?: V1ConfigMap): Promise<WatchState | undefined> {
    let cm = initial;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        cm ??= await core.readNamespacedConfigMap({ name, namespace });
      } catch (e) {
        // a missing ConfigMap fails the sync itself, saying so
        if (code(e) === 404) return undefined;
        return { watched: false, reason: 'LabelFailed', message: `could not be read to label it (${code(e) ? `HTTP ${code(e)}` : 'API server unreachable'}); edits are noticed by the per-minute revision check` };
      }
      const meta: ConfigMapMeta = { labels: cm.metadata?.labels, annotations: cm.metadata?.annotations };
      const plan = planReaders(meta, readers(meta));
      if (plan.kind === 'conflict') return { watched: false, reason: 'LabelConflict', message: `${plan.message}; edits are noticed by the per-minute revision check` };
      const state: WatchState = plan.userLabel
        ? { watched: true, reason: 'LabelledByUser', message: `labelled ${REGISTRY_SOURCE_LABEL}; edits sync at once` }
        : { watched: true, reason: 'Labelled', message: `labelled ${REGISTRY_SOURCE_LABEL} by the sync function; edits sync at once` };
      if (plan.kind === 'none') return state;
      try {
        await core.patchNamespacedConfigMap({ name, namespace, body: { metadata: { ...plan.patch, resourceVersion: cm.metadata?.resourceVersion } } }, mergePatch);
        return state;
      } catch (e) {
        const status = code(e);
        if (status === 409) {
          cm = undefined;
          continue;
        }
        if (status === 404) return undefined;
        const message =
          status === 403
            ? `the sync function may not patch ConfigMaps in ${namespace} (RBAC: patch on configmaps); edits are noticed by the per-minute revision check`
            : `could not be labelled (${status ? `HTTP ${status}` : 'API server unreachable'}); edits are noticed by the per-minute revision check`;
        log.warn('could not label a registry ConfigMap', { configMap: `${namespace}/${name}`, status: status ?? 'unreachable' });
        return { watched: false, reason: status === 403 ? 'LabelForbidden' : 'LabelFailed', message };
      }
    }
    return { watched: false, reason: 'LabelConflict', message: `kept changing while it was labelled; edits are noticed by the per-minute revision check` };
  }

  /** records `registry` as a reader of its ConfigMap source and labels it; undefined for other source types */
  async function ensureReader(registry: KubeObject): Promise<{ configMap: string; state: WatchState } | undefined> {
    const ref = configMapOf(registry);
    if (!ref) return undefined;
    const ns = registry.metadata.namespace ?? 'default';
    const state = await apply(ns, ref.name, (meta) => withReader(meta, registry.metadata.name, true));
    return state ? { configMap: ref.name, state } : undefined;
  }

  /**
   * Brings the readers of the labelled ConfigMaps of a namespace in line with `registries`
   * (the namespace's registries now): a ConfigMap no registry reads loses what we added.
   */
  async function reconcile(namespace: string, registries: readonly KubeObject[], all?: LabelledConfigMaps): Promise<void> {
    const readers = new Map<string, string[]>();
    for (const r of registries) {
      const ref = configMapOf(r);
      if (!ref || r.metadata.deletionTimestamp || (r.metadata.namespace ?? 'default') !== namespace) continue;
      readers.set(ref.name, [...(readers.get(ref.name) ?? []), r.metadata.name]);
    }
    let labelled: V1ConfigMap[];
    if (all) labelled = [...all.values()].filter((cm) => cm.metadata?.namespace === namespace);
    else {
      try {
        labelled = (await core.listNamespacedConfigMap({ namespace, labelSelector: `${REGISTRY_SOURCE_LABEL}=true` }, metadataOnly)).items;
      } catch (e) {
        log.warn('could not list registry ConfigMaps', { namespace, status: code(e) ?? 'unreachable' });
        return;
      }
    }
    for (const cm of labelled) {
      const name = cm.metadata?.name;
      if (!name || cm.metadata?.annotations?.[READERS_ANNOTATION] === undefined) continue;
      await apply(namespace, name, () => readers.get(name) ?? [], cm);
    }
  }

  /**
   * The second line behind the label: registries whose ConfigMap's resourceVersion is not the
   * one their snapshot was built from (status.snapshot.revision). The resourceVersion comes
   * from `labelled` when the ConfigMap is there; one read per ConfigMap that is not.
   */
  async function changedSources(registries: readonly KubeObject[], labelled?: LabelledConfigMaps): Promise<KubeObject[]> {
    const byConfigMap = new Map<string, Array<{ registry: KubeObject; key: string | undefined; revision: string }>>();
    for (const r of registries) {
      const ref = configMapOf(r);
      const revision = (r.status as { snapshot?: { revision?: unknown } } | undefined)?.snapshot?.revision;
      if (!ref || typeof revision !== 'string' || r.metadata.deletionTimestamp) continue;
      const at = `${r.metadata.namespace ?? 'default'}/${ref.name}`;
      byConfigMap.set(at, [...(byConfigMap.get(at) ?? []), { registry: r, key: ref.key, revision }]);
    }
    const changed: KubeObject[] = [];
    for (const [at, users] of byConfigMap) {
      const [namespace, name] = at.split('/') as [string, string];
      let resourceVersion: string | undefined = labelled?.get(at)?.metadata?.resourceVersion;
      try {
        resourceVersion ??= (await core.readNamespacedConfigMap({ name, namespace }, metadataOnlyOne)).metadata?.resourceVersion;
      } catch (e) {
        // gone or unreadable: the registry's own schedule reports it
        if (code(e) !== 404) log.warn('could not read a registry ConfigMap for its revision', { configMap: at, status: code(e) ?? 'unreachable' });
        continue;
      }
      if (!resourceVersion) continue;
      for (const u of users) if (configMapRevision(resourceVersion, u.key) !== u.revision) changed.push(u.registry);
    }
    return changed;
  }

  /**
   * True when the registry's snapshot was built from its ConfigMap as the API server has it
   * now (same resourceVersion, status.snapshot.revision): a ConfigMap event for it (the label
   * this module added, a replayed or late event) has nothing to bring. False when the
   * ConfigMap differs, is gone or cannot be read, or the registry has no snapshot: then the
   * sync runs and says what it found. One read.
   */
  async function builtFromCurrent(registry: KubeObject): Promise<boolean> {
    const ref = configMapOf(registry);
    const revision = (registry.status as { snapshot?: { revision?: unknown } } | undefined)?.snapshot?.revision;
    if (!ref || typeof revision !== 'string') return false;
    try {
      const resourceVersion = (await core.readNamespacedConfigMap({ name: ref.name, namespace: registry.metadata.namespace ?? 'default' })).metadata?.resourceVersion;
      return resourceVersion !== undefined && configMapRevision(resourceVersion, ref.key) === revision;
    } catch {
      return false;
    }
  }


  /** every labelled ConfigMap of the cluster, metadata only; undefined when they cannot be listed cluster-wide */
  async function labelledAll(): Promise<LabelledConfigMaps | undefined> {
    try {
      const list = await core.listConfigMapForAllNamespaces({ labelSelector: `${REGISTRY_SOURCE_LABEL}=true` }, metadataOnly);
      return new Map(list.items.map((cm) => [`${cm.metadata?.namespace ?? ''}/${cm.metadata?.name ?? ''}`, cm]));
    } catch (e) {
      log.debug('could not list registry ConfigMaps cluster-wide; reading them per namespace', { status: code(e) ?? 'unreachable' });
      return undefined;
    }
  }

  return { ensureReader, reconcile, changedSources, builtFromCurrent, labelledAll };
}

export type ConfigMapWatch = ReturnType<typeof createConfigMapWatch>;
