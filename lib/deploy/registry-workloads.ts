import type { KubeConfig } from '@kubernetes/client-node';
import { RegistryError, toRegistryError } from '../errors.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { MCPRegistryStatus } from '../kube/mcpregistry-status.ts';
import { objectRef, type KubeObject } from '../kube/objects.ts';
import type { ResourceClient } from '../kube/registry-client.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { AuditLog } from '../telemetry/audit.ts';
import type { SnapshotPointer } from '../snapshots/pointer.ts';
import { readPointer } from '../snapshots/read.ts';
import type { SnapshotStore } from '../snapshots/store.ts';
import type { OnUpdate } from './reconcile-plan.ts';
import { reconcileRegistryWorkloads, type RegistryInfo, type WorkloadReport } from './reconcile.ts';
import { withWorkloadStatus } from './status.ts';
import { ANNOTATIONS } from './labels.ts';

/**
 * What the sync controller calls for the registry → workloads side: after a registry's sync
 * (`afterSync`, whose report goes into the status the sync writes), and when an MCPServer or
 * MCPRemoteProxy is created or changed (`onWorkloadEvent`: every registry of its namespace
 * reconciles against the snapshot it serves, and writes its status only when the counts move).
 */

export interface RegistryWorkloadsDeps {
  kubeConfig: KubeConfig;
  store: SnapshotStore;
  events: EventRecorder;
  registries: ResourceClient;
  now: () => Date;
  log?: Logger;
  /** see ReconcileDeps.recreateWaitMs */
  recreateWaitMs?: number;
  /** workload.* audit lines (default: none) */
  audit?: AuditLog;
  /** the identity the sync function acts as (audit actor) */
  actor?: string;
}

function onUpdateOf(o: KubeObject): OnUpdate {
  const v = (o.spec as { syncPolicy?: { onUpdate?: unknown } } | undefined)?.syncPolicy?.onUpdate;
  return v === 'create' || v === 'recreate' ? v : 'update';
}

export function createRegistryWorkloads(deps: RegistryWorkloadsDeps) {
  const log = deps.log ?? silentLogger;
  const rdeps = {
    kubeConfig: deps.kubeConfig,
    store: deps.store,
    events: deps.events,
    log,
    ...(deps.recreateWaitMs !== undefined ? { recreateWaitMs: deps.recreateWaitMs } : {}),
    ...(deps.audit ? { audit: deps.audit } : {}),
    ...(deps.actor !== undefined ? { actor: deps.actor } : {}),
  };

  async function pointerOf(o: KubeObject): Promise<SnapshotPointer | undefined> {
    try {
      return (await readPointer(deps.store, { namespace: o.metadata.namespace ?? 'default', name: o.metadata.name }))?.pointer;
    } catch {
      return undefined;
    }
  }

  /** the other registries of a namespace, with the snapshots they serve (read only when discovery needs them) */
  function othersIn(namespace: string, except: string): () => Promise<RegistryInfo[]> {
    return async () => {
      const list = (await deps.registries.list(namespace)).filter((o) => o.metadata.name !== except && !o.metadata.deletionTimestamp);
      return Promise.all(list.map(async (o) => ({ object: o, onUpdate: onUpdateOf(o), pointer: await pointerOf(o) })));
    };
  }

  async function reconcile(object: KubeObject, pointer: SnapshotPointer | undefined, gone: readonly KubeObject[] = []): Promise<WorkloadReport | undefined> {
    if (!pointer) return undefined;
    try {
      return await reconcileRegistryWorkloads(rdeps, { object, onUpdate: onUpdateOf(object), pointer }, othersIn(object.metadata.namespace ?? 'default', object.metadata.name), gone);
    } catch (e) {
      // the registry syncs and serves whatever happens to its workloads
      const error = toRegistryError(e);
      log.warn('workload reconciliation failed', { registry: objectRef(object), error: error.describe() });
      return { off: error, missingKinds: [], associated: 0, behind: 0, upToDate: 0, discovered: 0, updated: 0, recreated: 0, removed: 0, failures: [], requests: 0, writes: 0 };
    }
  }

  /** after a sync that left `pointer` serving */
  async function afterSync(object: KubeObject, pointer: SnapshotPointer | undefined): Promise<WorkloadReport | undefined> {
    return reconcile(object, pointer);
  }

  /**
   * An MCPServer or MCPRemoteProxy of `namespace` was created or changed, or `deleted`. A
   * deletion matters only when it ends a `recreate` whose wait ran out (the workload carries
   * `registry-recreating`): the registry creates it again from the object as it was; any other
   * deletion changes nothing.
   */
  async function onWorkloadEvent(namespace: string, deleted?: KubeObject): Promise<{ registry: string; report?: WorkloadReport }[]> {
    const out: { registry: string; report?: WorkloadReport }[] = [];
    if (deleted && deleted.metadata.annotations?.[ANNOTATIONS.recreating] === undefined) return out;
    const gone = deleted ? [{ ...deleted, metadata: { ...deleted.metadata, deletionTimestamp: deleted.metadata.deletionTimestamp ?? deps.now().toISOString() } }] : [];
    const registries = (await deps.registries.list(namespace)).filter((o) => !o.metadata.deletionTimestamp).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    for (const object of registries) {
      const report = await reconcile(object, await pointerOf(object), gone);
      out.push(report ? { registry: objectRef(object), report } : { registry: objectRef(object) });
      if (!report) continue;
      try {
        await writeIfChanged(object, report);
      } catch (e) {
        log.warn('could not write the workload counts', { registry: objectRef(object), error: toRegistryError(e).message });
      }
    }
    return out;
  }

  async function writeIfChanged(object: KubeObject, report: WorkloadReport): Promise<void> {
    let current = object;
    for (let attempt = 0; attempt < 5; attempt++) {
      const previous = (current.status ?? {}) as MCPRegistryStatus;
      const next = withWorkloadStatus(previous, report, deps.now(), previous.observedGeneration);
      if (JSON.stringify(next.workloads) === JSON.stringify(previous.workloads) && JSON.stringify(next.conditions) === JSON.stringify(previous.conditions)) return;
      try {
        await deps.registries.replaceStatus(current, next);
        return;
      } catch (e) {
        if (!(e instanceof RegistryError) || e.code !== 'conflict') throw e;
        const fresh = await deps.registries.get(current.metadata.namespace ?? 'default', current.metadata.name);
        if (!fresh) return;
        current = fresh;
      }
    }
  }

  return { afterSync, onWorkloadEvent };
}

export type RegistryWorkloads = ReturnType<typeof createRegistryWorkloads>;
