import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { RegistryError, toRegistryError } from '../errors.ts';
import type { ToolhiveRegistry } from '../formats/toolhive-schema.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { KubeObject } from '../kube/objects.ts';
import { apiError } from '../kube/registry-client.ts';
import { guessPlural } from '../kube/resources.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { AuditAction, AuditLog } from '../telemetry/audit.ts';
import { outgoing } from '../telemetry/outgoing.ts';
import { tracedApi } from '../kube/traced-api.ts';
import type { SnapshotPointer } from '../snapshots/pointer.ts';
import { readSnapshotFile } from '../snapshots/read.ts';
import type { SnapshotStore } from '../snapshots/store.ts';
import { workloadError } from './apply.ts';
import { describeRef, matchKeyOf, matchKeyOfEntry, missingKindsError, planReconcile, recreatedObject, type OnUpdate, type ReconcileAction, type WorkloadRef } from './reconcile-plan.ts';
import { discoverable } from './reconcile-plan.ts';
import { ANNOTATIONS } from './labels.ts';
import { FIELD_MANAGER, fromToolhive, MCP_SERVER_KIND, WORKLOAD_GROUP, WORKLOAD_VERSION, type DeployEntry, type KubeManifest } from './workload.ts';
import { listWorkloads } from './workloads.ts';

/**
 * I/O of the registry → workloads reconciliation: one list of the namespace's workloads (per
 * kind), the snapshot's entries from the store, then one server-side apply (field manager
 * `mcp-registry`, never forced) per workload that changes. One workload that fails (forbidden,
 * a conflict with another field manager, deleted meanwhile) is reported and retried at the
 * next sync; the others go on.
 */

const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const CONCURRENCY = 8;

export interface WorkloadFailure {
  workload: string;
  message: string;
}

export interface WorkloadReport {
  /** off: no workload CRD is installed (or another reason); nothing was reconciled */
  off?: RegistryError;
  /** kinds whose CRD is missing (the other kind is still reconciled) */
  missingKinds: string[];
  associated: number;
  behind: number;
  upToDate: number;
  discovered: number;
  updated: number;
  recreated: number;
  removed: number;
  failures: WorkloadFailure[];
  /** API requests made (lists, reads, writes; events not counted) */
  requests: number;
  /** writes to workloads (and their ConfigMaps) */
  writes: number;
}

export interface ReconcileDeps {
  kubeConfig: KubeConfig;
  store: SnapshotStore;
  events: EventRecorder;
  log?: Logger;
  /** a workload.* audit line per workload written (or that could not be) */
  audit?: AuditLog;
  /** the identity the writes are made as (audit actor) */
  actor?: string;
  /** how long `recreate` waits for a deleted workload's finalizers before it reports and leaves it to a later sync (default 30 s) */
  recreateWaitMs?: number;
}

const RECREATE_WAIT_MS = 30_000;

/** the workload was deleted or replaced (another uid) between the list and our write */
class WorkloadGone extends Error {}

function isGone(e: unknown): boolean {
  if (e instanceof WorkloadGone) return true;
  const code = (e as { code?: unknown }).code;
  return code === 404 || (code === 409 && /uid|precondition/i.test(String((e as { body?: unknown }).body ?? '')));
}

export interface RegistryInfo {
  object: KubeObject;
  onUpdate: OnUpdate;
  pointer: SnapshotPointer | undefined;
}

/** the deployable entries of a snapshot (its toolhive.json), sorted by name */
export async function snapshotEntries(store: SnapshotStore, pointer: SnapshotPointer): Promise<DeployEntry[]> {
  const object = await readSnapshotFile(store, pointer, 'toolhive');
  const doc = JSON.parse(new TextDecoder().decode(object.body)) as ToolhiveRegistry;
  const out: DeployEntry[] = [];
  for (const [key, entry] of Object.entries(doc.servers ?? {})) if (entry && typeof (entry as { image?: unknown }).image === 'string') out.push(fromToolhive(key, 'image', entry as never));
  for (const [key, entry] of Object.entries((doc as { remote_servers?: Record<string, unknown> }).remote_servers ?? {})) if (entry && typeof (entry as { url?: unknown }).url === 'string') out.push(fromToolhive(key, 'remote', entry as never));
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function emptyReport(): WorkloadReport {
  return { missingKinds: [], associated: 0, behind: 0, upToDate: 0, discovered: 0, updated: 0, recreated: 0, removed: 0, failures: [], requests: 0, writes: 0 };
}

/**
 * Reconciles the workloads of one registry's namespace with its current snapshot.
 * `others` are the other registries of the namespace (for the discovery tie-break: the
 * registry whose name sorts first takes a workload several registries carry).
 */
export async function reconcileRegistryWorkloads(deps: ReconcileDeps, registry: RegistryInfo, others: () => Promise<readonly RegistryInfo[]> = async () => [], gone: readonly KubeObject[] = []): Promise<WorkloadReport> {
  const ref = `${registry.object.metadata.namespace ?? 'default'}/${registry.object.metadata.name}`;
  return outgoing().child('workloads.reconcile', { 'mcpreg.registry': ref }, (span) => reconcileIn(deps, registry, others, gone, span.traceId));
}

/** the audit action of a reconcile action */
const AUDIT_ACTION: Record<ReconcileAction['type'], AuditAction> = {
  label: 'workload.label',
  update: 'workload.update',
  invalid: 'workload.update',
  recreate: 'workload.recreate',
  removed: 'workload.annotate',
  restored: 'workload.annotate',
};

/**
 * `gone`: workloads deleted since (from their delete events, as they were); one that is not
 * listed (under its name) and that a recreate was waiting for is created again.
 */
async function reconcileIn(deps: ReconcileDeps, registry: RegistryInfo, others: () => Promise<readonly RegistryInfo[]>, gone: readonly KubeObject[], traceId: string | undefined): Promise<WorkloadReport> {
  const log = deps.log ?? silentLogger;
  const report = emptyReport();
  const ns = registry.object.metadata.namespace ?? 'default';
  const ref = { namespace: ns, name: registry.object.metadata.name };
  if (!registry.pointer) return report;
  let listing;
  try {
    listing = await listWorkloads(deps.kubeConfig, { namespace: ns });
  } catch (e) {
    report.off = toRegistryError(e);
    return report;
  }
  report.requests += 2;
  report.missingKinds = listing.missing;
  if (listing.missing.length === 2) {
    report.off = missingKindsError(listing.missing);
    return report;
  }
  const entries = await snapshotEntries(deps.store, registry.pointer);
  report.requests++;
  const listed = new Set(listing.items.map((w) => `${w.kind}/${w.metadata.name}`));
  const items = [...listing.items, ...gone.filter((g) => (g.metadata.namespace ?? 'default') === ns && !listed.has(`${g.kind}/${g.metadata.name}`))];
  const claimedEarlier = await claimedByEarlier(deps, ref.name, others, items, entries);
  const plan = planReconcile({ registry: ref, onUpdate: registry.onUpdate, snapshot: registry.pointer.hash, entries, workloads: items, claimedEarlier });
  report.associated = plan.associated;
  report.behind = plan.behind;
  report.upToDate = plan.upToDate;

  const custom = tracedApi(deps.kubeConfig.makeApiClient(CustomObjectsApi), 'workloads');
  const core = tracedApi(deps.kubeConfig.makeApiClient(CoreV1Api), 'configmaps');
  const regName = `${ns}/${ref.name}`;
  const audit = (a: ReconcileAction, outcome: 'success' | 'failure', reason: string) =>
    deps.audit?.record({
      actor: deps.actor ?? 'unknown',
      action: AUDIT_ACTION[a.type],
      resource: `${guessPlural(a.workload.kind)}/${a.workload.namespace}/${a.workload.name}`,
      outcome,
      reason: `registry ${regName}, server ${a.server}: ${reason}`,
      ...(traceId ? { traceId } : {}),
    });
  const changes: string[] = [];
  const byRef = new Map(items.map((w) => [`${w.kind}/${w.metadata.name}`, w] as const));
  const applyObject = async (body: KubeManifest, w: WorkloadRef) => {
    const current = byRef.get(`${w.kind}/${w.name}`);
    const owner = current ? otherApplier(current, Object.keys(body.spec ?? {})) : undefined;
    if (owner) throw new RegistryError('conflict', `${describeRef(w)}: field spec.${owner.field} is applied by field manager "${owner.manager}"; the registry does not take it over (remove it from that manager's configuration, or label the workload off the registry)`);
    report.requests++;
    report.writes++;
    // the uid of the workload listed is a precondition: an apply would create a workload deleted
    // since the list (and change one created again under its name); the API refuses both (409)
    const uid = current?.metadata.uid;
    const guarded = uid ? { ...body, metadata: { ...body.metadata, uid } } : body;
    // fields the user set by create/edit (Update operations) that the registry manages are taken over;
    // another applier's are a conflict (above)
    return custom.patchNamespacedCustomObject({ group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: guessPlural(w.kind), namespace: w.namespace, name: w.name, body: guarded, fieldManager: FIELD_MANAGER, force: true }, apply) as Promise<KubeObject>;
  };
  const waitMs = deps.recreateWaitMs ?? RECREATE_WAIT_MS;
  /** waits for the workload of `uid` to be gone (its finalizers lifted); throws when it outlasts the wait, or another took its name */
  const waitGone = async (w: WorkloadRef, uid: string | undefined) => {
    const until = Date.now() + waitMs;
    for (;;) {
      let current: KubeObject;
      report.requests++;
      try {
        current = (await custom.getNamespacedCustomObject({ group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: guessPlural(w.kind), namespace: w.namespace, name: w.name })) as KubeObject;
      } catch (e) {
        if ((e as { code?: unknown }).code === 404) return;
        throw e;
      }
      if (current.metadata.uid !== uid) throw new WorkloadGone(`${describeRef(w)} was created again by someone else`);
      const left = until - Date.now();
      if (left <= 0) {
        const finalizers = current.metadata.finalizers ?? [];
        throw new RegistryError(
          'conflict',
          `${describeRef(w)} is being deleted (syncPolicy.onUpdate: recreate) and its finalizers (${finalizers.join(', ') || 'none'}) still hold it after ${Math.round(waitMs / 1000)} s; it is created again from the entry once it is gone (retried at the next sync)`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(250, left)));
    }
  };
  const annotate = async (w: WorkloadRef, annotations: Record<string, string | null>) => {
    report.requests++;
    report.writes++;
    await custom.patchNamespacedCustomObject({ group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: guessPlural(w.kind), namespace: w.namespace, name: w.name, body: { metadata: { annotations } }, fieldManager: FIELD_MANAGER }, mergePatch);
  };
  const applyConfigMap = async (cm: KubeManifest | undefined) => {
    if (!cm) return;
    report.requests++;
    report.writes++;
    try {
      await core.patchNamespacedConfigMap({ name: cm.metadata.name, namespace: cm.metadata.namespace, body: cm, fieldManager: FIELD_MANAGER, force: true }, apply);
    } catch (e) {
      throw apiError(e, `apply ConfigMap ${cm.metadata.namespace}/${cm.metadata.name}`);
    }
  };
  const uids = new Map(items.map((w) => [`${w.kind}/${w.metadata.name}`, w.metadata.uid] as const));
  const uidOf = (w: WorkloadRef) => uids.get(`${w.kind}/${w.name}`);

  async function run(a: ReconcileAction): Promise<void> {
    const what = describeRef(a.workload);
    const target = { apiVersion: `${WORKLOAD_GROUP}/${WORKLOAD_VERSION}`, kind: a.workload.kind, metadata: { name: a.workload.name, namespace: a.workload.namespace, uid: uidOf(a.workload) } } as KubeObject;
    try {
      switch (a.type) {
        case 'invalid':
          throw a.error;
        case 'label': {
          await applyObject(a.apply, a.workload);
          report.discovered++;
          await deps.events.record(target, 'Normal', 'RegistryDiscovered', `labelled as server ${a.server} of registry ${regName} (its image or URL is the entry's)`);
          changes.push(`discovered ${what}`);
          audit(a, 'success', 'labelled (discovered by its image or URL)');
          return;
        }
        case 'restored': {
          await annotate(a.workload, { [ANNOTATIONS.entryRemoved]: null });
          changes.push(`entry of ${what} back`);
          audit(a, 'success', `removed ${ANNOTATIONS.entryRemoved} (the entry is back)`);
          return;
        }
        case 'removed': {
          await annotate(a.workload, a.annotations);
          report.removed++;
          await deps.events.record(target, 'Warning', 'RegistryEntryRemoved', `server ${a.server} is no longer in registry ${regName}; the workload is left as it is (nothing is deleted)`);
          changes.push(`entry of ${what} removed`);
          audit(a, 'success', `annotated ${ANNOTATIONS.entryRemoved} (the entry left the registry; nothing deleted)`);
          return;
        }
        case 'update': {
          await applyConfigMap(a.plan.configMap);
          await applyObject(a.plan.workload, a.workload);
          report.updated++;
          if (a.discovered) report.discovered++;
          await deps.events.record(target, 'Normal', a.discovered ? 'RegistryDiscovered' : 'RegistryUpdated', `${a.discovered ? 'labelled as server ' + a.server + ' of registry ' + regName + ' and ' : ''}updated to the entry of snapshot ${a.plan.workload.metadata.annotations?.['toolhive.stacklok.io/registry-snapshot']?.slice(0, 12) ?? ''} (registry-managed fields only)`);
          changes.push(`updated ${what}`);
          audit(a, 'success', `${a.discovered ? 'labelled (discovered) and ' : ''}registry-managed fields applied from snapshot ${registry.pointer?.hash.slice(0, 12) ?? ''}`);
          return;
        }
        case 'recreate': {
          await applyConfigMap(a.plan.configMap);
          const uid = a.current.metadata.uid;
          if (!a.current.metadata.deletionTimestamp) {
            // finalizers may hold it past this sync: the annotation tells a later one to finish the recreate
            if ((a.current.metadata.finalizers ?? []).length > 0) await annotate(a.workload, { [ANNOTATIONS.recreating]: a.plan.entryHash });
            report.requests++;
            report.writes++;
            await custom.deleteNamespacedCustomObject({ group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: guessPlural(a.workload.kind), namespace: a.workload.namespace, name: a.workload.name, body: { preconditions: { uid } } });
          }
          await waitGone(a.workload, uid);
          report.requests++;
          report.writes++;
          const created = (await custom.createNamespacedCustomObject({ group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: guessPlural(a.workload.kind), namespace: a.workload.namespace, body: recreatedObject(a.current, a.plan), fieldManager: FIELD_MANAGER })) as KubeObject;
          report.recreated++;
          if (a.discovered) report.discovered++;
          await deps.events.record(created, 'Normal', 'RegistryRecreated', `deleted and created again from the entry of server ${a.server} (syncPolicy.onUpdate: recreate)`);
          changes.push(`recreated ${what}`);
          audit(a, 'success', `deleted and created again from snapshot ${registry.pointer?.hash.slice(0, 12) ?? ''} (new uid ${created.metadata.uid ?? ''})`);
          return;
        }
      }
    } catch (e) {
      const err = e instanceof RegistryError ? e : workloadError(e, a.workload, `${a.type} ${what}`);
      const gone = isGone(e);
      const message = gone ? `${what} was deleted or replaced meanwhile; retried at the next sync` : err.message;
      report.failures.push({ workload: what, message });
      audit(a, 'failure', message);
      // the plan counted invalid, removed and label-only workloads already
      if (a.type === 'update' || a.type === 'recreate') report.behind++;
      log.warn('workload not reconciled', { registry: regName, workload: what, error: message });
      if (!gone) await deps.events.record(target, 'Warning', 'RegistryUpdateFailed', message);
    }
  }

  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, plan.actions.length) }, async () => {
      while (next < plan.actions.length) await run(plan.actions[next++]!);
    }),
  );
  // a discovered workload is associated; one labelled but not updated (create) is counted by the plan
  if (changes.length > 0 || report.failures.length > 0) {
    const head = changes.slice(0, 20).join('; ') + (changes.length > 20 ? `; and ${changes.length - 20} more` : '');
    if (changes.length > 0) await deps.events.record(registry.object, 'Normal', 'WorkloadsReconciled', `${changes.length} workload change${changes.length === 1 ? '' : 's'}: ${head}`);
    if (report.failures.length > 0) {
      const f = report.failures.slice(0, 10).map((x) => `${x.workload}: ${x.message}`).join('; ');
      await deps.events.record(registry.object, 'Warning', 'WorkloadsFailed', `${report.failures.length} workload${report.failures.length === 1 ? '' : 's'} not reconciled (retried at the next sync): ${f}`);
    }
  }
  if (listing.missing.length > 0) log.warn('workload CRD missing', { registry: regName, kinds: listing.missing.join(',') });
  return report;
}

/** the first of `fields` (top-level spec keys) that a server-side applier other than ours owns */
export function otherApplier(w: KubeObject, fields: readonly string[]): { manager: string; field: string } | undefined {
  const managed = (w.metadata as { managedFields?: { manager?: string; operation?: string; fieldsV1?: { 'f:spec'?: Record<string, unknown> } }[] }).managedFields ?? [];
  for (const m of managed) {
    if (m.operation !== 'Apply' || m.manager === FIELD_MANAGER) continue;
    const spec = m.fieldsV1?.['f:spec'] ?? {};
    const field = fields.find((f) => `f:${f}` in spec);
    if (field) return { manager: m.manager ?? '(unnamed)', field };
  }
  return undefined;
}

/** match keys of this namespace's discoverable workloads that a registry sorting before `name` carries */
async function claimedByEarlier(deps: ReconcileDeps, name: string, othersOf: () => Promise<readonly RegistryInfo[]>, workloads: readonly KubeObject[], entries: readonly DeployEntry[]): Promise<Set<string>> {
  const claimed = new Set<string>();
  const mine = new Set(entries.map(matchKeyOfEntry));
  const wanted = new Set<string>();
  for (const w of workloads) {
    const key = discoverable(w) ? matchKeyOf(w) : undefined;
    if (key && mine.has(key)) wanted.add(key);
  }
  if (wanted.size === 0) return claimed;
  for (const o of await othersOf()) {
    if (o.object.metadata.name >= name || !o.pointer) continue;
    try {
      for (const e of await snapshotEntries(deps.store, o.pointer)) {
        const key = matchKeyOfEntry(e);
        if (wanted.has(key)) claimed.add(key);
      }
    } catch {
      // an unreadable snapshot claims nothing
    }
  }
  return claimed;
}

export { MCP_SERVER_KIND };
