import { parseDuration } from './duration.ts';
import type { SyncPolicy } from '../kube/mcpregistry-spec.ts';

/**
 * When a registry syncs next. Pure: the clock and the random source are arguments so that
 * tests (and the injected-clock end-to-end tests) can pin them.
 *
 * - after a success: last attempt + interval
 * - after failure n (1-based) with n <= maxRetries: now + backoff * 2^(n-1), ±20 % jitter
 * - after failure n > maxRetries: last attempt + interval (retries exhausted; the interval
 *   brings the next attempt, which starts a new retry series if it fails too)
 * - sync disabled: no next time (manual triggers only)
 */

export const JITTER = 0.2;

export interface ScheduleInput {
  policy: SyncPolicy;
  /** when the attempt that just finished started */
  attemptAt: Date;
  /** consecutive failures including the attempt that just finished; 0 after a success */
  failures: number;
  /** a number in [0, 1) */
  random: number;
}

export function backoffMs(policy: SyncPolicy, failures: number, random: number): number {
  const base = parseDuration(policy.retry.backoffInterval, 'spec.syncPolicy.retry.backoffInterval');
  const raw = base * 2 ** Math.max(0, failures - 1);
  const jitter = 1 + JITTER * (2 * random - 1);
  return Math.round(raw * jitter);
}

export function nextSyncTime(input: ScheduleInput): Date | null {
  const { policy, attemptAt, failures, random } = input;
  if (!policy.enabled) return null;
  if (failures > 0 && failures <= policy.retry.maxRetries) {
    return new Date(attemptAt.getTime() + backoffMs(policy, failures, random));
  }
  return new Date(attemptAt.getTime() + parseDuration(policy.interval, 'spec.syncPolicy.interval'));
}

/** Is a registry due at `now`, given the `nextSyncTime` recorded in its status? */
export function isDue(nextSync: string | undefined, now: Date): boolean {
  if (!nextSync) return true;
  const at = Date.parse(nextSync);
  return Number.isNaN(at) || at <= now.getTime();
}
