import type { KubeObject } from '../kube/objects.ts';
import { isDue } from './schedule.ts';

/**
 * Whether an MCPRegistry needs work, from the object alone. Pure; the caller supplies the
 * clock. Events are hints (duplicated, re-ordered, echoed back by our own status writes),
 * so the decision is made from the object's state, never from the event type alone.
 */

export const SYNC_TRIGGER_ANNOTATION = 'toolhive.stacklok.io/sync-trigger';
export const FINALIZER = 'toolhive.stacklok.io/snapshot-cleanup';

export type SyncReason = 'new-generation' | 'manual-trigger' | 'due' | 'configmap-changed' | 'member-published' | 'sync-job' | 'webhook';

export type Decision =
  | { action: 'cleanup' }
  | { action: 'sync'; reason: SyncReason; trigger?: string }
  | { action: 'skip'; why: string };

interface StatusView {
  observedGeneration?: number;
  lastManualSyncTrigger?: string;
  nextSyncTime?: string;
}

function statusOf(o: KubeObject): StatusView {
  const s = o.status;
  return s && typeof s === 'object' ? (s as StatusView) : {};
}

function syncEnabled(o: KubeObject): boolean {
  const spec = o.spec as { syncPolicy?: { enabled?: boolean } } | undefined;
  return spec?.syncPolicy?.enabled !== false;
}

/** A manual trigger is a non-empty annotation value not yet recorded in the status. */
export function pendingTrigger(o: KubeObject): string | undefined {
  const value = o.metadata.annotations?.[SYNC_TRIGGER_ANNOTATION];
  if (!value) return undefined;
  return value !== statusOf(o).lastManualSyncTrigger ? value : undefined;
}

/**
 * `via` says what woke us: a resource event (add/update) or the periodic ping. Both look at
 * generation and trigger; only the ping looks at the schedule.
 */
export function decide(o: KubeObject, via: 'event' | 'ping', now: Date): Decision {
  if (o.metadata.deletionTimestamp) return { action: 'cleanup' };
  const trigger = pendingTrigger(o);
  if (trigger !== undefined) return { action: 'sync', reason: 'manual-trigger', trigger };
  const status = statusOf(o);
  if (!syncEnabled(o)) return { action: 'skip', why: 'sync policy disabled: manual triggers only' };
  if (o.metadata.generation !== undefined && o.metadata.generation !== status.observedGeneration) {
    return { action: 'sync', reason: 'new-generation' };
  }
  if (via === 'event') return { action: 'skip', why: 'no spec change and no new trigger (status-only update)' };
  if (isDue(status.nextSyncTime, now)) return { action: 'sync', reason: 'due' };
  return { action: 'skip', why: `not due until ${status.nextSyncTime}` };
}
