/**
 * What one sync tells the telemetry: a `sync` span with a child per phase (and the API calls of
 * the sync and of what follows it), the sync metrics,
 * and the audit lines for the sync and the snapshot it published. Kept out of the controller
 * so that dispatching events stays the controller's only concern.
 */
import type { SyncPhase, SyncResult } from '../sync/pipeline.ts';
import type { Telemetry } from './telemetry.ts';

export interface SyncSubject {
  namespace: string;
  name: string;
  sourceType: string;
  /** the identity the controller acts as (audit actor) */
  actor: string;
  /** what caused the sync (decision reason) */
  trigger: string;
  /** failed syncs in a row before this one (status.syncAttempts); more than 0 makes this a retry */
  failuresBefore: number;
  /** status.lastSyncTime before this sync */
  lastSyncTime?: string;
}

export type PhaseHook = (phase: SyncPhase, ms: number, detail?: { bytes?: number }) => void;

/**
 * Runs a sync (`run`) and what follows it (`finish`: status, workloads, Events) inside one
 * `sync` span, so that every Kubernetes call of the sync is a child of it; then records the
 * metrics and audit lines (also when `finish` throws, which is then rethrown).
 */
export async function observeSync<T>(tel: Telemetry, s: SyncSubject, run: (onPhase: PhaseHook | undefined) => Promise<SyncResult>, finish: (r: SyncResult) => Promise<T>): Promise<T> {
  const registry = `${s.namespace}/${s.name}`;
  const { metrics, tracing, audit } = tel;
  if (s.lastSyncTime) {
    const at = Date.parse(s.lastSyncTime);
    if (Number.isFinite(at)) metrics.lastSuccessAt(registry, at);
  }
  if (s.failuresBefore > 0) metrics.retry(s.sourceType);
  const result = await tracing.span(
    'sync',
    { 'mcpreg.registry': registry, 'mcpreg.source.type': s.sourceType, 'mcpreg.sync.trigger': s.trigger },
    async (span) => {
      const onPhase: PhaseHook | undefined =
        metrics.enabled || tracing.enabled
          ? (phase, ms, detail) => {
              metrics.syncPhase(phase, s.sourceType, ms / 1000);
              if (detail?.bytes !== undefined) metrics.bytesFetched(s.sourceType, detail.bytes);
              span.childDone(`sync.${phase}`, ms, { 'mcpreg.sync.phase': phase, ...(detail?.bytes !== undefined ? { 'mcpreg.fetched.size': detail.bytes } : {}) });
            }
          : undefined;
      const r = await run(onPhase);
      span.setAttributes({ 'mcpreg.sync.outcome': r.outcome, 'mcpreg.sync.servers': r.counts.servers });
      if (r.error) span.fail(r.error.code);
      let after: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        after = { ok: true, value: await finish(r) };
      } catch (error) {
        span.fail('after the sync: ' + (error instanceof Error ? error.name : 'error'));
        after = { ok: false, error };
      }
      return { r, traceId: span.traceId, after };
    },
  );
  const r = result.r;
  metrics.sync({
    registry,
    sourceType: s.sourceType,
    outcome: r.outcome,
    seconds: r.durationMs / 1000,
    consecutiveFailures: r.outcome === 'failed' ? s.failuresBefore + 1 : 0,
    ...(r.outcome !== 'failed' ? { published: r.counts.published, invalid: r.counts.invalid, filteredOut: r.counts.filteredOut } : {}),
  });
  if (audit.enabled) {
    const common = { actor: s.actor, ...(result.traceId ? { traceId: result.traceId } : {}) };
    audit.record({
      ...common,
      action: 'registry.sync',
      resource: `mcpregistries/${registry}`,
      outcome: r.outcome === 'failed' ? 'failure' : 'success',
      reason: r.error ? `${r.error.code}: ${r.error.describe()}` : `${r.outcome} (${s.trigger})`,
    });
    if (r.outcome === 'published' && r.pointer) {
      audit.record({ ...common, action: 'snapshot.publish', resource: `snapshots/${registry}/${r.pointer.hash}`, outcome: 'success', reason: `${r.counts.servers} servers, ${r.counts.published} versions` });
    }
  }
  if (!result.after.ok) throw result.after.error;
  return result.after.value;
}
