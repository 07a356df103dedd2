import type { KubeConfig } from '@kubernetes/client-node';
import { RegistryError, toRegistryError } from '../errors.ts';
import type { DecodedEvent } from '../events/decode.ts';
import { registriesForPush } from '../events/git-push.ts';
import { publishedEvent, sendEvent } from '../events/publish.ts';
import { createRegistryWorkloads } from '../deploy/registry-workloads.ts';
import { withWorkloadStatus } from '../deploy/status.ts';
import { createJobsHandler } from '../jobs/handler.ts';
import { setCondition, type Condition } from '../kube/conditions.ts';
import { createEventRecorder, type EventRecorder } from '../kube/events.ts';
import { MCPRegistrySyncJobSpec, type JobStatus } from '../kube/job-specs.ts';
import { createLeaseLocker, type LeaseLocker } from '../kube/lease.ts';
import { MCPRegistrySpec, type SourceSpec } from '../kube/mcpregistry-spec.ts';
import type { MCPRegistryStatus } from '../kube/mcpregistry-status.ts';
import { objectRef, type KubeObject } from '../kube/objects.ts';
import { createResourceClient, type ResourceClient } from '../kube/registry-client.ts';
import { MCP_REGISTRY, MCP_REGISTRY_SYNC_JOB } from '../kube/resources.ts';
import { createKubeSecretReader } from '../kube/secrets.ts';
import { silentLogger, type Logger } from '../log.ts';
import { isValidRef } from '../snapshots/keys.ts';
import { deleteRegistry } from '../snapshots/retention.ts';
import type { SnapshotPointer } from '../snapshots/pointer.ts';
import type { SnapshotStore } from '../snapshots/store.ts';
import { membersMoved } from '../sources/aggregate.ts';
import { aggregatesOf } from '../sources/aggregate-members.ts';
import { createSource as defaultCreateSource } from '../sources/index.ts';
import { observeSync } from '../telemetry/sync-observer.ts';
import { NO_TELEMETRY, type Telemetry } from '../telemetry/telemetry.ts';
import type { FetchPolicy, Source } from '../sources/types.ts';
import type { SyncConfig } from './config.ts';
import { createConfigMapWatch, watchedCondition, type ConfigMapWatch } from './configmap-watch.ts';
import { decide, FINALIZER, type Decision } from './decide.ts';
import { runSync, type SyncResult } from './pipeline.ts';
import { invalidSpecStatus, resultStatus, syncingStatus } from './status.ts';

/**
 * What the sync function does with each event. Events are hints: every decision is taken on
 * the object as the API server has it now (read after taking the registry's lease), so
 * duplicated, re-ordered and self-caused events do no harm.
 */

export interface ControllerDeps {
  kubeConfig: KubeConfig;
  store: SnapshotStore;
  policy: FetchPolicy;
  config: Pick<SyncConfig, 'deadlineMs' | 'concurrency' | 'leaseNamespace' | 'leaseDurationSeconds' | 'identity' | 'keepSnapshots' | 'apiBaseUrl' | 'sink' | 'eventsToken'>;
  now?: () => Date;
  random?: () => number;
  log?: Logger;
  createSource?: (spec: SourceSpec) => Source;
  /** called after a snapshot is published (local mode notifies its query function directly) */
  onPublished?: (pointer: SnapshotPointer) => void;
  /** metrics, spans and audit log (default: none) */
  telemetry?: Telemetry;
}

/** `queued`: a sync of the registry is running in this process and runs once more for this event */
export type SyncOutcome = 'published' | 'unchanged' | 'failed' | 'skipped' | 'busy' | 'queued' | 'invalid-spec' | 'cleaned-up' | 'gone';

export interface SyncSummary {
  registry: string;
  outcome: SyncOutcome;
  reason?: string;
  result?: SyncResult;
}

export interface HandleResult {
  event: string;
  registries: SyncSummary[];
}

type Via = 'event' | 'ping' | 'configmap' | 'webhook' | 'member' | 'job';

const SYNC_REASON: Partial<Record<Via, 'configmap-changed' | 'webhook' | 'member-published' | 'sync-job'>> = { configmap: 'configmap-changed', webhook: 'webhook', member: 'member-published', job: 'sync-job' };

const MAX_PASSES = 3;
/** passes a registry's running sync makes for events that arrived meanwhile (a ConfigMap edited without pause cannot hold a sync forever) */
const QUEUED_PASSES = 5;
/** which of two reasons for one more pass wins: a source change forces a sync, an event only re-decides */
const QUEUE_RANK: Record<Via, number> = { ping: 0, event: 1, member: 2, configmap: 3, webhook: 3, job: 4 };

export function createSyncController(deps: ControllerDeps) {
  const now = deps.now ?? (() => new Date());
  const random = deps.random ?? Math.random;
  const log = deps.log ?? silentLogger;
  const makeSource = deps.createSource ?? ((spec: SourceSpec) => defaultCreateSource(spec));
  const tel = deps.telemetry ?? NO_TELEMETRY;
  const registries: ResourceClient = createResourceClient(deps.kubeConfig, MCP_REGISTRY.plural as 'mcpregistries');
  const jobs: ResourceClient = createResourceClient(deps.kubeConfig, MCP_REGISTRY_SYNC_JOB.plural as 'mcpregistrysyncjobs');
  const leases: LeaseLocker = createLeaseLocker(deps.kubeConfig, {
    namespace: deps.config.leaseNamespace,
    identity: deps.config.identity,
    durationSeconds: deps.config.leaseDurationSeconds,
    now,
  });
  const configMaps: ConfigMapWatch = createConfigMapWatch(deps.kubeConfig, log);
  // registries whose sync runs in this process, and the strongest reason an event that found it running gave for one more pass
  const running = new Set<string>();
  const queued = new Map<string, Via>();
  // the sync running here per registry, for a webhook that queued behind it to wait for
  const inflight = new Map<string, Promise<SyncSummary[]>>();
  const events: EventRecorder = createEventRecorder(deps.kubeConfig, 'mcp-registry-sync', now, (e) =>
    log.warn('could not record a Kubernetes Event', { error: toRegistryError(e).message }),
  );

  // import and export jobs live in lib/jobs/; the controller only dispatches to them
  const jobKinds = createJobsHandler({
    kubeConfig: deps.kubeConfig,
    store: deps.store,
    leases,
    events,
    now,
    log,
    policy: deps.policy,
    deadlineMs: deps.config.deadlineMs,
    ...(deps.createSource ? { createSource: deps.createSource } : {}),
    telemetry: tel,
    identity: deps.config.identity,
  });

  // MCPServers and MCPRemoteProxies that follow a registry live in lib/deploy/
  const workloads = createRegistryWorkloads({ kubeConfig: deps.kubeConfig, store: deps.store, events, registries, now, log, audit: tel.audit, actor: deps.config.identity });

  function apiEndpoint(ns: string, name: string): string | undefined {
    return deps.config.apiBaseUrl ? `${deps.config.apiBaseUrl}/registries/${ns}/${name}` : undefined;
  }

  /** Writes a status computed from the freshest object; re-reads and recomputes on a conflict. */
  async function writeStatus(object: KubeObject, compute: (previous: MCPRegistryStatus | undefined, o: KubeObject) => MCPRegistryStatus): Promise<KubeObject> {
    let current = object;
    for (let attempt = 0; ; attempt++) {
      try {
        return await registries.replaceStatus(current, compute(current.status as MCPRegistryStatus | undefined, current));
      } catch (e) {
        if (!(e instanceof RegistryError) || e.code !== 'conflict' || attempt >= 4) throw e;
        const fresh = await registries.get(current.metadata.namespace ?? '', current.metadata.name);
        if (!fresh) throw new RegistryError('not_found', `${objectRef(current)} was deleted while its status was being written`);
        current = fresh;
      }
    }
  }

  async function cleanup(ns: string, name: string, object: KubeObject | null): Promise<SyncSummary> {
    const ref = `${ns}/${name}`;
    const { deletedObjects } = await deleteRegistry(deps.store, { namespace: ns, name });
    log.info('registry deleted: snapshots removed', { registry: ref, objects: deletedObjects });
    await configMaps.reconcile(ns, (await registries.list(ns)).filter((r) => r.metadata.name !== name));
    tel.audit.record({ actor: deps.config.identity, action: 'snapshot.delete', resource: `snapshots/${ref}`, outcome: 'success', reason: `registry deleted; ${deletedObjects} objects removed` });
    if (object?.metadata.finalizers?.includes(FINALIZER)) {
      try {
        await registries.patchMetadata(object, { finalizers: object.metadata.finalizers.filter((f) => f !== FINALIZER) });
      } catch (e) {
        // gone already, or changed meanwhile: the next event or ping retries
        if (!(e instanceof RegistryError && (e.code === 'not_found' || e.code === 'conflict'))) throw e;
      }
    }
    return { registry: ref, outcome: 'cleaned-up' };
  }

  /**
   * The registry's Lease, with the registry counted as running here from before it is asked
   * for: a second event in this process meanwhile queues behind us instead of losing the race
   * for our own Lease. Null when another replica holds it (what queued behind us meanwhile is
   * that replica's to sync).
   */
  async function takeLease(ns: string, name: string) {
    const registry = `${ns}/${name}`;
    running.add(registry);
    let lock: Awaited<ReturnType<typeof leases.acquire>>;
    try {
      lock = await leases.acquire(ns, name);
    } catch (e) {
      running.delete(registry);
      throw e;
    }
    if (!lock) {
      running.delete(registry);
      queued.delete(registry);
      tel.metrics.leaseContention(registry);
    }
    return lock;
  }

  /**
   * A delete event is a hint like any other (and anyone who can reach the function can send
   * one): the snapshots go only when the API server says the object is gone or being deleted.
   */
  async function cleanupIfDeleted(ns: string, name: string): Promise<SyncSummary> {
    const registry = `${ns}/${name}`;
    if (running.has(registry)) {
      // the running sync reads the object again after its pass and cleans up if it is gone
      if (!queued.has(registry)) queued.set(registry, 'event');
      return { registry, outcome: 'queued', reason: 'a sync of this registry is running; it checks the object again' };
    }
    const lock = await takeLease(ns, name);
    if (!lock) return { registry, outcome: 'busy', reason: 'another sync of this registry holds its lease' };
    let cleaned = false;
    try {
      const object = await registries.get(ns, name);
      if (!object || object.metadata.deletionTimestamp) {
        const summary = await cleanup(ns, name, object);
        cleaned = true;
        return summary;
      }
      log.warn('delete event for a registry that exists and is not being deleted: ignored', { registry });
      return { registry, outcome: 'skipped', reason: 'the registry exists and is not being deleted' };
    } finally {
      try {
        await (cleaned ? lock.remove() : lock.release());
      } finally {
        running.delete(registry);
        // an event that queued behind this check is not lost
        const again = queued.get(registry);
        queued.delete(registry);
        if (again && !cleaned) void syncRegistry(ns, name, again).catch((e: unknown) => log.error('queued sync failed', { registry, error: String(e) }));
      }
    }
  }

  async function syncOnce(object: KubeObject, decision: Extract<Decision, { action: 'sync' }>, force: boolean): Promise<{ object: KubeObject; summary: SyncSummary }> {
    const ns = object.metadata.namespace ?? 'default';
    const name = object.metadata.name;
    const registry = `${ns}/${name}`;
    const generation = object.metadata.generation;
    const parsed = MCPRegistrySpec.safeParse(object.spec);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const message = `spec.${issue?.path.map(String).join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
      const updated = await writeStatus(object, (previous) => invalidSpecStatus({ previous, generation, trigger: decision.trigger, now: now() }, message));
      await events.record(object, 'Warning', 'InvalidSpec', message);
      return { object: updated, summary: { registry, outcome: 'invalid-spec', reason: message } };
    }
    const spec = parsed.data;
    const before = object.status as MCPRegistryStatus | undefined;
    const subject = {
      namespace: ns,
      name,
      sourceType: spec.source.type,
      actor: deps.config.identity,
      trigger: decision.reason,
      failuresBefore: before?.syncAttempts ?? 0,
      ...(before?.lastSyncTime ? { lastSyncTime: before.lastSyncTime } : {}),
    };
    let current = object;
    let watched: Awaited<ReturnType<typeof configMaps.ensureReader>> | undefined;
    // the sync span holds the sync's own API calls too: finalizer, status writes, ConfigMap label, workloads, Events
    return observeSync(tel, subject, async (onPhase) => {
      if (!current.metadata.finalizers?.includes(FINALIZER)) {
        current = await registries.patchMetadata(current, { finalizers: [...(current.metadata.finalizers ?? []), FINALIZER] });
      }
      current = await writeStatus(current, (previous) => syncingStatus({ previous, generation, now: now() }));
      // labelled before the fetch, so that the revision the snapshot records is the labelled one
      watched = await configMaps.ensureReader(current);
      try {
        const source: Source = makeSource(spec.source);
        return await runSync({
          ref: { namespace: ns, name },
          spec,
          store: deps.store,
          source,
          context: { secrets: createKubeSecretReader(deps.kubeConfig, ns), policy: deps.policy, kubeConfig: deps.kubeConfig },
          deadlineMs: deps.config.deadlineMs,
          force,
          now,
          log,
          keepSnapshots: deps.config.keepSnapshots,
          ...(onPhase ? { onPhase } : {}),
        });
      } catch (e) {
        // createSource refuses a spec whose block is missing; runSync itself never throws
        const error = toRegistryError(e, 'invalid_argument');
        return { outcome: 'failed', ref: { namespace: ns, name }, counts: { fetched: 0, valid: 0, invalid: 0, filteredOut: 0, published: 0, servers: 0 }, invalid: [], objectsWritten: 0, durationMs: 0, startedAt: now().toISOString(), error } satisfies SyncResult;
      }
    }, async (result) => {
      const deployed = result.outcome === 'failed' ? undefined : await workloads.afterSync(current, result.pointer);
      const finished = now();
      current = await writeStatus(current, (previous) => {
        const status = resultStatus({ previous, generation, policy: spec.syncPolicy, trigger: decision.trigger, apiEndpoint: apiEndpoint(ns, name), now: finished, random: random() }, result);
        const others = ((status.conditions ?? []) as Condition[]).filter((c) => c.type !== 'SourceWatched');
        const conditions = watched ? setCondition((status.conditions ?? []) as Condition[], { ...watchedCondition(watched.configMap, watched.state), observedGeneration: generation }, finished) : others;
        return withWorkloadStatus({ ...status, conditions: conditions as MCPRegistryStatus['conditions'] }, deployed, finished, generation);
      });
      if (result.outcome === 'published' && result.pointer) {
        await events.record(current, 'Normal', 'Synced', `published snapshot ${result.pointer.hash.slice(0, 12)} with ${result.counts.servers} servers`);
        deps.onPublished?.(result.pointer);
        if (deps.config.sink) {
          try {
            const status = await sendEvent(deps.config.sink, publishedEvent(result.pointer), { ...(deps.config.eventsToken ? { token: deps.config.eventsToken } : {}) });
            if (status >= 300) log.warn('snapshot-published event not accepted', { registry, status });
          } catch (e) {
            log.warn('could not send the snapshot-published event', { registry, error: toRegistryError(e).message });
          }
        }
      } else if (result.outcome === 'failed') {
        await events.record(current, 'Warning', 'SyncFailed', result.error?.describe() ?? 'sync failed');
      }
      log.info(`sync ${result.outcome}`, {
        registry,
        reason: decision.reason,
        servers: result.counts.servers,
        ms: result.durationMs,
        ...(result.error ? { error: result.error.describe() } : {}),
      });
      return { object: current, summary: { registry, outcome: result.outcome, reason: decision.reason, result } };
    });
  }

  /**
   * Syncs one registry if it needs it, under its lease. After a sync, the object is read
   * again: a spec change or a new trigger that arrived meanwhile is synced at once.
   */
  async function syncRegistry(ns: string, name: string, via: Via): Promise<SyncSummary[]> {
    const registry = `${ns}/${name}`;
    if (running.has(registry)) return syncRunning(ns, name, via);
    const work = syncUnderLease(ns, name, via);
    inflight.set(registry, work);
    try {
      return await work;
    } finally {
      if (inflight.get(registry) === work) inflight.delete(registry);
    }
  }

  /**
   * The registry is being synced in this process. An event is queued for one more pass (the
   * running sync may have read the source before this change); a job or ping is busy.
   */
  function syncRunning(ns: string, name: string, via: Via): SyncSummary[] {
    const registry = `${ns}/${name}`;
    if (via === 'job' || via === 'ping') {
      tel.metrics.leaseContention(registry);
      return [{ registry, outcome: 'busy', reason: 'another sync of this registry holds its lease' }];
    }
    const before = queued.get(registry);
    if (!before || QUEUE_RANK[via] > QUEUE_RANK[before]) queued.set(registry, via);
    return [{ registry, outcome: 'queued', reason: 'a sync of this registry is running; it syncs again for this event' }];
  }

  async function syncUnderLease(ns: string, name: string, via: Via): Promise<SyncSummary[]> {
    const registry = `${ns}/${name}`;
    const lock = await takeLease(ns, name);
    if (!lock) return [{ registry, outcome: 'busy', reason: 'another sync of this registry holds its lease' }];
    const summaries: SyncSummary[] = [];
    let cleaned = false;
    try {
      let mode: Via = via;
      for (let pass = 0; pass < MAX_PASSES + QUEUED_PASSES; pass++) {
        const next = queued.get(registry);
        queued.delete(registry);
        if (next && QUEUE_RANK[next] > QUEUE_RANK[mode]) mode = next;
        else if (!next && pass >= MAX_PASSES) break;
        const object = await registries.get(ns, name);
        if (!object) {
          if (pass === 0) summaries.push({ ...(await cleanup(ns, name, null)), outcome: 'gone' });
          cleaned = pass === 0;
          break;
        }
        if (object.metadata.deletionTimestamp) {
          summaries.push(await cleanup(ns, name, object));
          cleaned = true;
          break;
        }
        let decision = decide(object, mode === 'ping' ? 'ping' : 'event', now());
        const reason = SYNC_REASON[mode];
        if (reason && decision.action === 'skip') {
          const disabled = (object.spec as { syncPolicy?: { enabled?: boolean } } | undefined)?.syncPolicy?.enabled === false;
          // a ConfigMap event for the revision the snapshot was built from (e.g. our own label) brings nothing
          if (mode === 'configmap' && (await configMaps.builtFromCurrent(object))) decision = { action: 'skip', why: 'the snapshot was built from the ConfigMap as it is now' };
          else if (mode === 'job' || !disabled) decision = { action: 'sync', reason };
        }
        if (decision.action === 'cleanup') {
          summaries.push(await cleanup(ns, name, object));
          cleaned = true;
          break;
        }
        if (decision.action === 'skip') {
          if (pass === 0) summaries.push({ registry, outcome: 'skipped', reason: decision.why });
          if (queued.has(registry)) continue;
          break;
        }
        const force = decision.reason === 'manual-trigger' || decision.reason === 'sync-job';
        const { summary } = await syncOnce(object, decision, force);
        summaries.push(summary);
        // an aggregate whose member published meanwhile syncs again (its event may have found us busy)
        mode = summary.result?.members && (await membersMoved(deps.store, summary.result.members)) ? 'member' : 'event';
      }
    } finally {
      // a registry's Lease goes with its snapshots; it is let go before the registry stops
      // counting as running here, so an event in between queues instead of finding it busy
      try {
        await (cleaned ? lock.remove() : lock.release());
      } finally {
        running.delete(registry);
      }
    }
    // an event that came after the last pass (or past the pass limit) is not lost
    if (queued.has(registry) && !cleaned) {
      const again = queued.get(registry)!;
      queued.delete(registry);
      summaries.push(...(await syncRegistry(ns, name, again)));
    }
    return summaries;
  }

  async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    });
    await Promise.all(runners);
  }

  /**
   * Syncs several registries with bounded concurrency; one failing never blocks the others.
   * Returns every summary, and the first transient error, if any, for the caller to surface.
   */
  async function syncEach(objects: readonly KubeObject[], via: Via): Promise<{ summaries: SyncSummary[]; transient?: RegistryError }> {
    const summaries: SyncSummary[] = [];
    let transient: RegistryError | undefined;
    await pool(objects, deps.config.concurrency, async (o) => {
      try {
        summaries.push(...(await syncRegistry(o.metadata.namespace ?? 'default', o.metadata.name, via)));
      } catch (e) {
        const err = toRegistryError(e);
        log.error('sync failed unexpectedly', { registry: objectRef(o), error: err.describe() });
        summaries.push({ registry: objectRef(o), outcome: 'failed', reason: err.message });
        if (err.transient) transient ??= err;
      }
    });
    return transient ? { summaries, transient } : { summaries };
  }

  /**
   * The aggregates that list a registry, synced because it published (or went away). One that
   * is busy is synced again after its current sync (see syncRegistry), and the event is
   * answered as transient so that the Broker delivers it again, in case that check was early.
   */
  async function syncAggregatesOf(ns: string, name: string): Promise<SyncSummary[]> {
    const users = aggregatesOf(await registries.list(), { namespace: ns, name });
    const { summaries, transient } = await syncEach(users, 'member');
    if (transient) throw transient;
    const busy = summaries.find((s) => s.outcome === 'busy');
    if (busy) throw new RegistryError('conflict', `aggregate ${busy.registry} is being synced; deliver the event again`, { transient: true });
    return summaries;
  }

  async function runJob(job: KubeObject): Promise<SyncSummary[]> {
    const ns = job.metadata.namespace ?? 'default';
    const fresh = await jobs.get(ns, job.metadata.name);
    const status = (fresh?.status ?? {}) as JobStatus;
    if (!fresh || status.completionTime) return [];
    const parsed = MCPRegistrySyncJobSpec.safeParse(fresh.spec);
    const stamp = () => now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const finish = async (phase: 'Succeeded' | 'Failed', message: string, summary?: SyncSummary) => {
      const result = summary?.result;
      const jobStatus: JobStatus = {
        ...status,
        observedGeneration: fresh.metadata.generation,
        phase,
        startTime: status.startTime ?? stamp(),
        completionTime: stamp(),
        conditions: [
          { type: phase === 'Succeeded' ? 'Complete' : 'Failed', status: 'True', reason: phase === 'Succeeded' ? 'Synced' : 'SyncFailed', message: message.slice(0, 32768), lastTransitionTime: stamp() },
        ],
        result: {
          message: message.slice(0, 32768),
          ...(result?.counts ? { serverCount: result.counts.servers, invalidCount: result.counts.invalid } : {}),
          ...(result?.hash ? { snapshotHash: result.hash } : {}),
        },
      };
      tel.metrics.jobRun('sync', phase);
      tel.audit.record({ actor: deps.config.identity, action: 'job.run', resource: `mcpregistrysyncjobs/${ns}/${fresh.metadata.name}`, outcome: phase === 'Succeeded' ? 'success' : 'failure', reason: message.slice(0, 1024) });
      await jobs.replaceStatus(fresh, jobStatus).catch((e: unknown) => log.warn('could not write sync job status', { job: objectRef(fresh), error: toRegistryError(e).message }));
    };
    if (!parsed.success) {
      await finish('Failed', `spec: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      return [];
    }
    const target = parsed.data.registryRef.name;
    const summaries = await syncRegistry(ns, target, 'job');
    const main = summaries[0];
    if (!main || main.outcome === 'busy') {
      // another sync of that registry is running: the job stays pending; the ping retries it
      return summaries;
    }
    if (main.outcome === 'gone') await finish('Failed', `MCPRegistry ${ns}/${target} not found`, main);
    else if (main.outcome === 'published' || main.outcome === 'unchanged') await finish('Succeeded', `${main.outcome}: ${main.result?.counts.servers ?? 0} servers`, main);
    else await finish('Failed', main.result?.error?.describe() ?? main.reason ?? main.outcome, main);
    return summaries;
  }

  async function ping(): Promise<SyncSummary[]> {
    // the reads of one scheduling pass go out together: with nothing due, these lists and the
    // job sweep's are all the ping costs (no read per registry)
    const listedJobs = jobs.list();
    listedJobs.catch(() => undefined);
    const [all, labelledFirst] = await Promise.all([registries.list(), configMaps.labelledAll()]);
    const t = now();
    const due = all.filter((o) => decide(o, 'ping', t).action !== 'skip');
    const out: SyncSummary[] = [];
    // the next ping retries whatever failed here
    out.push(...(await syncEach(due, 'ping')).summaries);
    // ConfigMap edits the label did not bring (labelling forbidden, an event lost): one
    // metadata list of the labelled ConfigMaps, a read only of those not labelled
    let labelled = due.length > 0 ? await configMaps.labelledAll() : labelledFirst;
    const changed = await configMaps.changedSources(all.filter((o) => !due.includes(o)), labelled);
    out.push(...(await syncEach(changed, 'configmap')).summaries);
    if (changed.length > 0) labelled = await configMaps.labelledAll();
    const namespaces = new Set([...all.map((o) => o.metadata.namespace ?? 'default'), ...[...(labelled?.values() ?? [])].map((cm) => cm.metadata?.namespace ?? 'default')]);
    for (const ns of namespaces) await configMaps.reconcile(ns, all, labelled);
    const pending = (await listedJobs).filter((j) => !(j.status as JobStatus | undefined)?.completionTime);
    for (const job of pending) out.push(...(await runJob(job)));
    for (const j of await jobKinds.sweep()) log.debug('job swept', { job: j.job, outcome: j.outcome });
    return out;
  }

  async function handle(event: DecodedEvent): Promise<HandleResult> {
    if (event.type === 'ping') return { event: 'ping', registries: await ping() };
    if (event.type === 'git-push') {
      const users = registriesForPush(await registries.list(), event.push);
      const { summaries, transient } = await syncEach(users, 'webhook');
      if (transient) throw transient;
      return { event: `${event.push.provider} push`, registries: summaries };
    }
    if (event.type === 'published') {
      // the subject names the registry that published; events are hints, the store and the API decide
      const [ns, name, extra] = (event.subject ?? '').split('/');
      if (!ns || !name || extra !== undefined || !isValidRef({ namespace: ns, name })) return { event: 'published', registries: [] };
      return { event: 'published', registries: await syncAggregatesOf(ns, name) };
    }
    const { object, kind, action } = event;
    const ns = object.metadata.namespace ?? 'default';
    const label = `${kind} ${action}`;
    if (kind === 'MCPRegistry') {
      if (action === 'delete') return { event: label, registries: [await cleanupIfDeleted(ns, object.metadata.name), ...(await syncAggregatesOf(ns, object.metadata.name))] };
      const summaries = await syncRegistry(ns, object.metadata.name, 'event');
      // a registry that moved to another source no longer reads its old ConfigMap
      await configMaps.reconcile(ns, await registries.list(ns));
      return { event: label, registries: summaries };
    }
    if (kind === 'ConfigMap') {
      const users = (await registries.list(ns)).filter((r) => {
        const source = (r.spec as { source?: { type?: string; configMap?: { name?: string } } } | undefined)?.source;
        return source?.type === 'configmap' && source.configMap?.name === object.metadata.name;
      });
      const { summaries, transient } = await syncEach(users, 'configmap');
      // a transient failure (API server, store) makes the Broker deliver the event again
      if (transient) throw transient;
      // a sync in another replica may have read the ConfigMap before this edit
      const busy = summaries.find((s) => s.outcome === 'busy');
      if (busy) throw new RegistryError('conflict', `${busy.registry} is being synced elsewhere; deliver the event again`, { transient: true });
      return { event: label, registries: summaries };
    }
    // a deleted workload matters only when a recreate waits for it (lib/deploy decides)
    if (kind === 'MCPServer' || kind === 'MCPRemoteProxy') return { event: label, registries: (await workloads.onWorkloadEvent(ns, action === 'delete' ? object : undefined)).map((r) => ({ registry: r.registry, outcome: 'unchanged' as const, reason: 'workloads reconciled' })) };
    if (action === 'delete') return { event: label, registries: [] };
    if (jobKinds.isJobKind(kind)) {
      const j = await jobKinds.run(kind, object);
      log.debug('job handled', { job: j.job, outcome: j.outcome });
      return { event: label, registries: [] };
    }
    return { event: label, registries: await runJob(object) };
  }

  /** a source changed (webhook, git push): sync now; the first pass's outcome */
  async function syncNow(ns: string, name: string): Promise<string> {
    const summaries = await syncRegistry(ns, name, 'webhook');
    const first = summaries[0]?.outcome ?? 'skipped';
    // queued behind a sync running here: that sync makes the pass for this change; its outcome
    const running = first === 'queued' ? inflight.get(`${ns}/${name}`) : undefined;
    if (!running) return first;
    const after = await running;
    return after.findLast((s) => s.reason === 'webhook')?.outcome ?? after.at(-1)?.outcome ?? first;
  }

  return { handle, syncRegistry, syncNow, ping, getRegistry: (ns: string, name: string) => registries.get(ns, name) };
}

export type SyncController = ReturnType<typeof createSyncController>;
