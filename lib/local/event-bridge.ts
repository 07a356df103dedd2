import { randomUUID } from 'node:crypto';
import { CloudEvent } from 'cloudevents';
import { KubernetesObjectApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { EVENT_TYPES } from '../events/decode.ts';
import { API_VERSION, guessPlural, REGISTRY_SOURCE_LABEL } from '../kube/resources.ts';
import { silentLogger, type Logger } from '../log.ts';
import { ADAPTER_DELIVERY, deliver, type DeliveryPolicy } from './deliver.ts';

/**
 * Local mode's stand-in for Knative Eventing: watches the control plane and POSTs the
 * CloudEvents that an ApiServerSource in Resource mode and a PingSource would send
 * (reference/knative.md §2.1, §2.2) to one sink, the sync function.
 *
 * Like the ApiServerSource adapter, it sends nothing for objects that already exist when a
 * watch starts (the initial list, and any re-list after a 410, produce no events); only
 * changes seen on the watch do. The resync tick is the safety net, as in a cluster: one is
 * sent when asked (`ping()`, local mode does so at start-up) and then every interval.
 *
 * It also stands in for the Broker's Trigger that routes the sync function's own
 * `io.toolhive.registry.snapshot.published` events back to it (knative/triggers.yaml,
 * `mcp-registry-sync-snapshots`): `relay(event)` queues such an event for the sink, so that
 * aggregates re-sync when a member publishes.
 *
 * Delivery: binary mode, Knative's adapter retry policy (deliver.ts). Events of one object
 * are delivered in order, one at a time; different objects (and ticks) concurrently, up to
 * a limit. A failed delivery is logged and dropped, as the adapter does. An object that cannot
 * be turned into an event is logged and skipped; nothing here throws into the watch.
 */

export interface WatchedResource {
  apiVersion: string;
  kind: string;
  /** a label selector, applied server-side (as `resources[].selector` of an ApiServerSource) */
  labelSelector?: string;
}

/** The `resources` of knative/apiserversource.yaml (a test keeps the two equal). */
export const REGISTRY_RESOURCES: readonly WatchedResource[] = [
  { apiVersion: API_VERSION, kind: 'MCPRegistry' },
  { apiVersion: API_VERSION, kind: 'MCPRegistrySyncJob' },
  { apiVersion: API_VERSION, kind: 'MCPRegistryImportJob' },
  { apiVersion: API_VERSION, kind: 'MCPRegistryExportJob' },
  { apiVersion: 'v1', kind: 'ConfigMap', labelSelector: `${REGISTRY_SOURCE_LABEL}=true` },
];

/**
 * The `resources` of knative/apiserversource-workloads.yaml: ToolHive's workloads, whose
 * changes wake the registries of their namespace (discovery and association). A source of
 * its own, so that a cluster without ToolHive's CRDs loses only this one.
 */
export const WORKLOAD_RESOURCES: readonly WatchedResource[] = [
  { apiVersion: 'toolhive.stacklok.dev/v1beta1', kind: 'MCPServer' },
  { apiVersion: 'toolhive.stacklok.dev/v1beta1', kind: 'MCPRemoteProxy' },
];

/** The PingSource of knative/pingsource.yaml (namespace mcp-registry, name mcp-registry-resync). */
export const RESYNC_PING = {
  source: '/apis/v1/namespaces/mcp-registry/pingsources/mcp-registry-resync',
  data: { reason: 'periodic-resync' } as unknown,
};

export type ResourceAction = 'add' | 'update' | 'delete';

interface WatchedObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; resourceVersion?: unknown };
}

/** `/apis/<group>/<version>/<plural>` or `/api/v1/<plural>` (all namespaces). */
export function collectionPath(resource: WatchedResource): string {
  const plural = guessPlural(resource.kind);
  return resource.apiVersion.includes('/') ? `/apis/${resource.apiVersion}/${plural}` : `/api/${resource.apiVersion}/${plural}`;
}

/**
 * The subject the adapter sets: a self-link-like path, `/apis/<apiVersion>/namespaces/<ns>/<plural>/<name>`
 * (also `/apis/v1/…` for the core group; an empty namespace segment for cluster-scoped objects).
 */
export function subjectOf(apiVersion: string, kind: string, namespace: string, name: string): string {
  return `/apis/${apiVersion}/namespaces/${namespace}/${guessPlural(kind)}/${name}`;
}

/**
 * The ApiServerSource (Resource mode) event for one watch event: type
 * `dev.knative.apiserver.resource.<action>`, source = the API server's URL, subject as above,
 * extensions kind, name, namespace, apiversion, data = the object as the watch delivered it.
 */
export function resourceEvent(action: ResourceAction, object: unknown, resource: WatchedResource, apiServerUrl: string): CloudEvent<unknown> {
  if (!object || typeof object !== 'object' || Array.isArray(object)) throw new Error('the watch delivered something that is not an object');
  const o = object as WatchedObject;
  const name = typeof o.metadata?.name === 'string' ? o.metadata.name : '';
  if (!name) throw new Error('the object has no metadata.name');
  const namespace = typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : '';
  const apiVersion = typeof o.apiVersion === 'string' && o.apiVersion ? o.apiVersion : resource.apiVersion;
  const kind = typeof o.kind === 'string' && o.kind ? o.kind : resource.kind;
  return new CloudEvent<unknown>({
    id: randomUUID(),
    type: `dev.knative.apiserver.resource.${action}`,
    source: apiServerUrl,
    subject: subjectOf(apiVersion, kind, namespace, name),
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: object,
    kind,
    name,
    ...(namespace ? { namespace } : {}),
    apiversion: apiVersion,
  });
}

/** A PingSource tick: type `dev.knative.sources.ping`, its source path, JSON data. */
export function pingEvent(ping: { source: string; data?: unknown } = RESYNC_PING): CloudEvent<unknown> {
  return new CloudEvent<unknown>({
    id: randomUUID(),
    type: EVENT_TYPES.ping,
    source: ping.source,
    time: new Date().toISOString(),
    ...(ping.data !== undefined ? { datacontenttype: 'application/json', data: ping.data } : {}),
  });
}

export interface EventBridgeOptions {
  kubeConfig: KubeConfig;
  /** where every event goes (the sync function) */
  sink: string;
  resources?: readonly WatchedResource[];
  /** the resync tick: every `intervalMs` (0: only when `ping()` is called) */
  ping?: { intervalMs: number; source?: string; data?: unknown };
  delivery?: Partial<DeliveryPolicy>;
  /** deliveries in flight at once (default 4) */
  concurrency?: number;
  /** each watch request lasts this long, then resumes from the last version seen (default 25 s) */
  watchTimeoutSeconds?: number;
  log?: Logger;
}

export interface BridgeStats {
  sent: number;
  failed: number;
  queued: number;
  inFlight: number;
}

export interface EventBridge {
  /** queue one resync tick now */
  ping(): void;
  /** queue an event for the sink, as a Broker Trigger delivers it (events of one subject in order) */
  relay(event: CloudEvent<unknown>): void;
  /** resolves when nothing is queued or in flight */
  idle(): Promise<void>;
  stats(): BridgeStats;
  /** stop watching and ticking; deliveries in flight get `graceMs` to finish, then are cut */
  stop(graceMs?: number): Promise<void>;
}

interface Queued {
  key: string;
  event: CloudEvent<unknown>;
  describe: string;
}

const MAX_QUEUE = 10_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;

function errorText(e: unknown): string {
  if (!e) return 'closed';
  const status = (e as { statusCode?: unknown }).statusCode;
  const message = e instanceof Error ? e.message : String(e);
  return typeof status === 'number' ? `HTTP ${status} ${message}` : message;
}

export async function startEventBridge(options: EventBridgeOptions): Promise<EventBridge> {
  const log = options.log ?? silentLogger;
  const resources = options.resources ?? REGISTRY_RESOURCES;
  const policy: DeliveryPolicy = { ...ADAPTER_DELIVERY, ...options.delivery };
  const concurrency = options.concurrency ?? 4;
  const watchTimeout = options.watchTimeoutSeconds ?? 25;
  const apiServerUrl = options.kubeConfig.getCurrentCluster()?.server ?? '';
  const objects = options.kubeConfig.makeApiClient(KubernetesObjectApi);
  const watcher = new Watch(options.kubeConfig);
  const abort = new AbortController();
  let stopped = false;

  // ------------------------------------------------------------------ delivery queue
  const queue: Queued[] = [];
  const busyKeys = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let idleWaiters: Array<() => void> = [];
  const stats = { sent: 0, failed: 0 };

  function settleIdle(): void {
    if (queue.length > 0 || inFlight.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  function enqueue(item: Queued): void {
    if (stopped) return;
    if (queue.length >= MAX_QUEUE) {
      const dropped = queue.shift()!;
      stats.failed++;
      log.warn('event queue full: oldest event dropped', { event: dropped.describe });
    }
    queue.push(item);
    pump();
  }

  function pump(): void {
    while (!stopped && inFlight.size < concurrency) {
      const index = queue.findIndex((q) => !busyKeys.has(q.key));
      if (index === -1) break;
      const [item] = queue.splice(index, 1) as [Queued];
      busyKeys.add(item.key);
      const p: Promise<void> = send(item).finally(() => {
        busyKeys.delete(item.key);
        inFlight.delete(p);
        pump();
        settleIdle();
      });
      inFlight.add(p);
    }
    settleIdle();
  }

  async function send(item: Queued): Promise<void> {
    const result = await deliver(options.sink, item.event, policy, abort.signal);
    if (result.ok) {
      stats.sent++;
      log.debug('event delivered', { event: item.describe, id: item.event.id, status: result.status, attempts: result.attempts });
      return;
    }
    stats.failed++;
    if (result.aborted) {
      log.warn('event not delivered: stopping', { event: item.describe });
      return;
    }
    log.warn('event not delivered', {
      event: item.describe,
      id: item.event.id,
      attempts: result.attempts,
      ...(result.status !== undefined ? { status: result.status } : {}),
      error: result.detail,
    });
  }

  // ------------------------------------------------------------------ watches
  interface ResourceWatch {
    resource: WatchedResource;
    path: string;
    resourceVersion: string | undefined;
    controller: AbortController | undefined;
    timer: NodeJS.Timeout | undefined;
    failures: number;
    relist: boolean;
  }

  const watches: ResourceWatch[] = resources.map((resource) => ({
    resource,
    path: collectionPath(resource),
    resourceVersion: undefined,
    controller: undefined,
    timer: undefined,
    failures: 0,
    relist: true,
  }));

  /** The collection's current resourceVersion; its items produce no events (as in the adapter). */
  async function list(w: ResourceWatch): Promise<void> {
    const result = await objects.list(w.resource.apiVersion, w.resource.kind, undefined, undefined, undefined, undefined, undefined, w.resource.labelSelector, 1);
    const rv = result.metadata?.resourceVersion;
    if (!rv) throw new Error(`the list of ${w.path} carries no resourceVersion`);
    w.resourceVersion = rv;
    w.relist = false;
  }

  function onWatchEvent(w: ResourceWatch, type: string, object: unknown): void {
    if (stopped) return;
    const rv = (object as WatchedObject | undefined)?.metadata?.resourceVersion;
    if (type === 'BOOKMARK') {
      if (typeof rv === 'string') w.resourceVersion = rv;
      return;
    }
    if (type === 'ERROR') {
      const status = object as { code?: unknown; message?: unknown } | undefined;
      if (status?.code === 410) w.relist = true;
      else log.warn('watch error', { resource: w.path, error: String(status?.message ?? 'unknown') });
      return;
    }
    const action: ResourceAction | undefined = type === 'ADDED' ? 'add' : type === 'MODIFIED' ? 'update' : type === 'DELETED' ? 'delete' : undefined;
    if (typeof rv === 'string') w.resourceVersion = rv;
    if (!action) {
      log.warn('unknown watch event type ignored', { resource: w.path, type });
      return;
    }
    let event: CloudEvent<unknown>;
    try {
      event = resourceEvent(action, object, w.resource, apiServerUrl);
    } catch (e) {
      log.warn('watched object skipped', { resource: w.path, type, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    const ns = (event as unknown as { namespace?: string }).namespace ?? '';
    const name = (event as unknown as { name: string }).name;
    enqueue({ key: `${w.resource.kind}/${ns}/${name}`, event, describe: `${w.resource.kind} ${ns ? `${ns}/` : ''}${name} ${action}` });
  }

  function schedule(w: ResourceWatch, delayMs: number): void {
    if (stopped) return;
    w.timer = setTimeout(() => {
      w.timer = undefined;
      void run(w);
    }, delayMs);
  }

  function failed(w: ResourceWatch, what: string, e: unknown): void {
    w.failures++;
    const delay = Math.min(BACKOFF_MIN_MS * 2 ** (w.failures - 1), BACKOFF_MAX_MS);
    // the first failure of a streak is worth a warning; the rest would only repeat it
    if (w.failures === 1) log.warn(`${what} failed; retrying`, { resource: w.path, error: errorText(e) });
    else log.debug(`${what} failed again`, { resource: w.path, error: errorText(e), retryInMs: delay });
    schedule(w, delay);
  }

  /** One watch request; when it ends, the next one resumes from the last version seen. */
  async function run(w: ResourceWatch): Promise<void> {
    if (stopped) return;
    if (w.relist) {
      try {
        await list(w);
      } catch (e) {
        failed(w, 'list', e);
        return;
      }
    }
    const started = Date.now();
    await new Promise<void>((resolve) => {
      let done = false;
      watcher
        .watch(
          w.path,
          {
            resourceVersion: w.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: watchTimeout,
            ...(w.resource.labelSelector ? { labelSelector: w.resource.labelSelector } : {}),
          },
          (type, object) => onWatchEvent(w, type, object),
          (err: unknown) => {
            if (done) return;
            done = true;
            w.controller = undefined;
            if (stopped) return resolve();
            if (err && !(err instanceof Error && err.name === 'AbortError')) {
              const status = (err as { statusCode?: unknown }).statusCode;
              if (status === 410) w.relist = true;
              failed(w, 'watch', err);
            } else if (Date.now() - started < 1_000 && !w.relist) {
              // a watch that ends at once, again and again, must not spin
              w.failures++;
              schedule(w, Math.min(BACKOFF_MIN_MS * 2 ** (w.failures - 1), BACKOFF_MAX_MS));
            } else {
              w.failures = 0;
              schedule(w, 0);
            }
            resolve();
          },
        )
        .then(
          (controller) => {
            if (done) return;
            w.controller = controller;
            if (stopped) controller.abort();
          },
          (e: unknown) => {
            // no current cluster in the kubeconfig, or authentication could not be applied
            if (done) return;
            done = true;
            failed(w, 'watch', e);
            resolve();
          },
        );
    });
  }

  // Establish every watch's starting version before returning: a change made after
  // startEventBridge resolves is always seen.
  await Promise.all(
    watches.map(async (w) => {
      try {
        await list(w);
      } catch (e) {
        w.failures++;
        log.warn('list failed; retrying', { resource: w.path, error: errorText(e) });
      }
    }),
  );
  for (const w of watches) void run(w);

  // ------------------------------------------------------------------ resync tick
  const pingSpec = { source: options.ping?.source ?? RESYNC_PING.source, data: options.ping && 'data' in options.ping ? options.ping.data : RESYNC_PING.data };
  const ping = () => enqueue({ key: `ping/${randomUUID()}`, event: pingEvent(pingSpec), describe: 'resync tick' });
  const interval = options.ping?.intervalMs ?? 60_000;
  const ticker = interval > 0 ? setInterval(ping, interval) : undefined;

  return {
    ping,
    relay: (event) => enqueue({ key: `relay/${event.type}/${event.subject ?? event.id}`, event, describe: `${event.type} ${event.subject ?? ''}`.trim() }),
    idle: () =>
      new Promise<void>((resolve) => {
        if (queue.length === 0 && inFlight.size === 0) resolve();
        else idleWaiters.push(resolve);
      }),
    stats: () => ({ ...stats, queued: queue.length, inFlight: inFlight.size }),
    async stop(graceMs = 0) {
      if (stopped) return;
      stopped = true;
      if (ticker) clearInterval(ticker);
      for (const w of watches) {
        if (w.timer) clearTimeout(w.timer);
        w.controller?.abort();
      }
      queue.length = 0;
      if (inFlight.size > 0 && graceMs > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.allSettled([...inFlight]), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
        clearTimeout(timer);
      }
      abort.abort();
      await Promise.allSettled([...inFlight]);
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    },
  };
}
