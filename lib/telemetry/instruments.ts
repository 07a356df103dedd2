/**
 * Metrics over an OpenTelemetry Meter. Attribute names follow the semantic conventions
 * (`http.route`, `http.request.method`, `http.response.status_code`) and our own sit under
 * `mcpreg.`. Per-registry gauges are observed from what the last sync said.
 */
import type { Attributes, Meter } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import { METRIC, type Metrics } from './metrics.ts';

/** the semantic conventions' advice for http.server.request.duration */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const SYNC_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

export function createInstruments(meter: Meter, now: () => number = Date.now): Metrics {
  const counter = (m: { name: string; unit: string; description: string }) => meter.createCounter(m.name, { unit: m.unit, description: m.description });
  const histogram = (m: { name: string; unit: string; description: string }, buckets: number[]) =>
    meter.createHistogram(m.name, { unit: m.unit, description: m.description, advice: { explicitBucketBoundaries: buckets } });

  const httpDuration = histogram(METRIC.httpDuration, HTTP_BUCKETS);
  const cacheLookups = counter(METRIC.cacheLookups);
  const snapshotLoads = counter(METRIC.snapshotLoads);
  const snapshotBytes = counter(METRIC.snapshotBytes);
  const authDecisions = counter(METRIC.authDecisions);
  const syncRuns = counter(METRIC.syncRuns);
  const syncDuration = histogram(METRIC.syncDuration, SYNC_BUCKETS);
  const phaseDuration = histogram(METRIC.syncPhaseDuration, SYNC_BUCKETS);
  const fetchedBytes = counter(METRIC.fetchedBytes);
  const retries = counter(METRIC.retries);
  const contention = counter(METRIC.leaseContention);
  const jobRuns = counter(METRIC.jobRuns);

  const entries = new Map<string, { published: number; invalid: number; filtered: number }>();
  const lastSuccess = new Map<string, number>();
  const failures = new Map<string, number>();
  meter.createObservableGauge(METRIC.consecutiveFailures.name, { unit: METRIC.consecutiveFailures.unit, description: METRIC.consecutiveFailures.description }).addCallback((r) => {
    for (const [registry, n] of failures) r.observe(n, { 'mcpreg.registry': registry });
  });
  meter.createObservableGauge(METRIC.syncEntries.name, { unit: METRIC.syncEntries.unit, description: METRIC.syncEntries.description }).addCallback((r) => {
    for (const [registry, e] of entries) {
      r.observe(e.published, { 'mcpreg.registry': registry, 'mcpreg.entry.state': 'published' });
      r.observe(e.invalid, { 'mcpreg.registry': registry, 'mcpreg.entry.state': 'invalid' });
      r.observe(e.filtered, { 'mcpreg.registry': registry, 'mcpreg.entry.state': 'filtered' });
    }
  });
  meter.createObservableGauge(METRIC.sinceSuccess.name, { unit: METRIC.sinceSuccess.unit, description: METRIC.sinceSuccess.description }).addCallback((r) => {
    const t = now();
    for (const [registry, at] of lastSuccess) r.observe(Math.max(0, (t - at) / 1000), { 'mcpreg.registry': registry });
  });

  return {
    enabled: true,
    request(q) {
      const attrs: Attributes = {
        [ATTR_HTTP_REQUEST_METHOD]: KNOWN_METHODS.has(q.method) ? q.method : '_OTHER',
        [ATTR_HTTP_ROUTE]: q.route,
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: q.status,
      };
      if (q.registry !== undefined) attrs['mcpreg.registry'] = q.registry;
      httpDuration.record(q.seconds, attrs);
    },
    cache(cache, hit) {
      cacheLookups.add(1, { 'mcpreg.cache': cache, 'mcpreg.cache.result': hit ? 'hit' : 'miss' });
    },
    snapshotLoad(kind, bytes) {
      snapshotLoads.add(1, { 'mcpreg.object.kind': kind });
      snapshotBytes.add(bytes, { 'mcpreg.object.kind': kind });
    },
    authDecision(outcome) {
      authDecisions.add(1, { 'mcpreg.auth.outcome': outcome });
    },
    sync(s) {
      const attrs = { 'mcpreg.registry': s.registry, 'mcpreg.source.type': s.sourceType, 'mcpreg.sync.outcome': s.outcome };
      syncRuns.add(1, attrs);
      syncDuration.record(s.seconds, attrs);
      if (s.published !== undefined) entries.set(s.registry, { published: s.published, invalid: s.invalid ?? 0, filtered: s.filteredOut ?? 0 });
      if (s.outcome === 'published' || s.outcome === 'unchanged') lastSuccess.set(s.registry, now());
      failures.set(s.registry, s.consecutiveFailures);
    },
    lastSuccessAt(registry, at) {
      if (!lastSuccess.has(registry)) lastSuccess.set(registry, at);
    },
    syncPhase(phase, sourceType, seconds) {
      phaseDuration.record(seconds, { 'mcpreg.sync.phase': phase, 'mcpreg.source.type': sourceType });
    },
    bytesFetched(sourceType, bytes) {
      fetchedBytes.add(bytes, { 'mcpreg.source.type': sourceType });
    },
    retry(sourceType) {
      retries.add(1, { 'mcpreg.source.type': sourceType });
    },
    leaseContention(registry) {
      contention.add(1, { 'mcpreg.registry': registry });
    },
    jobRun(kind, outcome) {
      jobRuns.add(1, { 'mcpreg.job.kind': kind, 'mcpreg.job.outcome': outcome });
    },
  };
}
