/**
 * What the functions tell the metrics, as plain calls. No OpenTelemetry import here: with
 * telemetry off the functions hold `NO_METRICS` and the SDK is never loaded (instruments.ts
 * implements this over an OpenTelemetry Meter). Attribute values passed in must come from
 * bounded sets (route templates, registry names that exist, outcomes) — never a raw path, a
 * server name from a URL, a user name or anything secret.
 */
import type { SyncPhase } from '../sync/pipeline.ts';

export type CacheName = 'hot' | 'response';
export type AuthOutcome = 'allowed' | 'denied' | 'unauthenticated' | 'error';

export interface RequestRecord {
  method: string;
  /** the route template, e.g. `/registries/{namespace}/{name}/v0.1/servers` */
  route: string;
  status: number;
  /** `namespace/name` of the registry answered from, or undefined */
  registry?: string;
  seconds: number;
}

export interface SyncRecord {
  registry: string;
  sourceType: string;
  outcome: string;
  seconds: number;
  published?: number;
  invalid?: number;
  filteredOut?: number;
  /** failed syncs in a row after this one (status.syncAttempts) */
  consecutiveFailures: number;
}

export interface Metrics {
  readonly enabled: boolean;
  request(r: RequestRecord): void;
  cache(cache: CacheName, hit: boolean): void;
  snapshotLoad(kind: 'pointer' | 'snapshot', bytes: number): void;
  authDecision(outcome: AuthOutcome): void;
  sync(r: SyncRecord): void;
  /** the last success a registry's status records, for time-since-success before this process saw one */
  lastSuccessAt(registry: string, epochMs: number): void;
  syncPhase(phase: SyncPhase, sourceType: string, seconds: number): void;
  bytesFetched(sourceType: string, bytes: number): void;
  retry(sourceType: string): void;
  leaseContention(registry: string): void;
  jobRun(kind: string, outcome: string): void;
}

const nothing = () => {};

export const NO_METRICS: Metrics = {
  enabled: false,
  request: nothing,
  cache: nothing,
  snapshotLoad: nothing,
  authDecision: nothing,
  sync: nothing,
  lastSuccessAt: nothing,
  syncPhase: nothing,
  bytesFetched: nothing,
  retry: nothing,
  leaseContention: nothing,
  jobRun: nothing,
};

/** metric names and units: OpenTelemetry semantic conventions where one exists, else `mcpreg.` */
export const METRIC = {
  httpDuration: { type: 'histogram', name: 'http.server.request.duration', unit: 's', description: 'Duration of HTTP server requests.' },
  cacheLookups: { type: 'counter', name: 'mcpreg.query.cache.lookups', unit: '{lookup}', description: 'Response cache lookups by cache and result (hit or miss).' },
  snapshotLoads: { type: 'counter', name: 'mcpreg.query.snapshot.loads', unit: '{load}', description: 'Objects read from the snapshot store by kind (pointer or snapshot).' },
  snapshotBytes: { type: 'counter', name: 'mcpreg.query.snapshot.load.size', unit: 'By', description: 'Bytes read from the snapshot store.' },
  authDecisions: { type: 'counter', name: 'mcpreg.query.auth.decisions', unit: '{decision}', description: 'Authentication and authorization decisions by outcome.' },
  syncRuns: { type: 'counter', name: 'mcpreg.sync.runs', unit: '{sync}', description: 'Syncs by registry, source type and outcome.' },
  syncDuration: { type: 'histogram', name: 'mcpreg.sync.duration', unit: 's', description: 'Duration of whole syncs.' },
  syncPhaseDuration: { type: 'histogram', name: 'mcpreg.sync.phase.duration', unit: 's', description: 'Duration of each sync phase (fetch, parse, convert, publish).' },
  syncEntries: { type: 'gauge', name: 'mcpreg.sync.entries', unit: '{entry}', description: 'Entries of the last sync per registry by state (published, invalid, filtered).' },
  fetchedBytes: { type: 'counter', name: 'mcpreg.sync.fetched.size', unit: 'By', description: 'Bytes fetched from sources.' },
  retries: { type: 'counter', name: 'mcpreg.sync.retries', unit: '{retry}', description: 'Syncs retried because the previous attempt failed transiently.' },
  sinceSuccess: { type: 'gauge', name: 'mcpreg.sync.time_since_success', unit: 's', description: 'Seconds since the last successful sync per registry (observed when collected).' },
  leaseContention: { type: 'counter', name: 'mcpreg.sync.lease.contention', unit: '{event}', description: 'Sync attempts that found the registry lease held by another replica.' },
  consecutiveFailures: { type: 'gauge', name: 'mcpreg.sync.consecutive_failures', unit: '{sync}', description: 'Failed syncs in a row per registry (status.syncAttempts); 0 after a success.' },
  jobRuns: { type: 'counter', name: 'mcpreg.job.runs', unit: '{run}', description: 'Job runs by kind and outcome.' },
} as const;
