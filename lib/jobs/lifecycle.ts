import { RegistryError, toRegistryError } from '../errors.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { JobResult, JobStatus } from '../kube/job-specs.ts';
import type { LeaseLocker } from '../kube/lease.ts';
import { objectRef, type KubeObject } from '../kube/objects.ts';
import type { ResourceClient } from '../kube/registry-client.ts';
import type { Logger } from '../log.ts';

/**
 * The life of an import or export job: Pending → Running → Succeeded | Failed, with the
 * `Complete` / `Failed` conditions, Events, start and completion times. Runs once: under a
 * lease named for the job (several replicas, duplicate deliveries), and only while the job
 * as the API server has it now is unfinished. A transient failure is retried with exponential
 * backoff up to `spec.backoffLimit` (the ping picks the job up when `nextAttemptTime` is due);
 * a permanent one fails at once. A finished job with `spec.ttlSecondsAfterFinished` is
 * deleted once that has passed.
 */

export const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 10 * 60_000;
const MESSAGE_MAX = 32_768;

export interface JobWork {
  /** what went right, for status.result and the Event */
  result: JobResult;
  reason: string;
}

export type JobRunOutcome = 'succeeded' | 'failed' | 'retrying' | 'busy' | 'done' | 'not-due' | 'deleted' | 'gone';

export interface JobDeps {
  client: ResourceClient;
  leases: LeaseLocker;
  events: EventRecorder;
  now: () => Date;
  log: Logger;
}

const stamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function specOf(job: KubeObject): { backoffLimit: number; ttl?: number } {
  const spec = (job.spec ?? {}) as { backoffLimit?: unknown; ttlSecondsAfterFinished?: unknown };
  const backoffLimit = typeof spec.backoffLimit === 'number' ? spec.backoffLimit : 3;
  return typeof spec.ttlSecondsAfterFinished === 'number' ? { backoffLimit, ttl: spec.ttlSecondsAfterFinished } : { backoffLimit };
}

/** Deletes a finished job whose TTL has passed. */
async function collect(deps: JobDeps, job: KubeObject, status: JobStatus): Promise<JobRunOutcome> {
  const { ttl } = specOf(job);
  if (ttl === undefined || !status.completionTime) return 'done';
  if (new Date(status.completionTime).getTime() + ttl * 1000 > deps.now().getTime()) return 'done';
  await deps.client.delete(job);
  deps.log.info('finished job deleted (ttlSecondsAfterFinished)', { job: `${job.kind} ${objectRef(job)}` });
  return 'deleted';
}

export async function runJob(deps: JobDeps, event: KubeObject, work: (job: KubeObject) => Promise<JobWork>): Promise<JobRunOutcome> {
  const ns = event.metadata.namespace ?? 'default';
  const name = event.metadata.name;
  const lock = await deps.leases.acquire(ns, `${event.kind.toLowerCase()}.${name}`);
  if (!lock) return 'busy';
  try {
    const job = await deps.client.get(ns, name);
    if (!job) return 'gone';
    const status = (job.status ?? {}) as JobStatus;
    if (status.completionTime) return await collect(deps, job, status);
    const now = deps.now();
    if (status.nextAttemptTime && new Date(status.nextAttemptTime).getTime() > now.getTime()) return 'not-due';

    const running = await deps.client.replaceStatus(job, {
      ...status,
      observedGeneration: job.metadata.generation,
      phase: 'Running',
      startTime: status.startTime ?? stamp(now),
    } satisfies JobStatus);
    if (!status.startTime) await deps.events.record(running, 'Normal', 'Started', `${job.kind} started`);

    let outcome: { ok: true; work: JobWork } | { ok: false; error: RegistryError };
    try {
      outcome = { ok: true, work: await work(running) };
    } catch (e) {
      outcome = { ok: false, error: toRegistryError(e) };
    }
    const finished = deps.now();
    const base: JobStatus = { ...(running.status as JobStatus), observedGeneration: job.metadata.generation };
    if (outcome.ok) {
      const message = (outcome.work.result.message ?? outcome.work.reason).slice(0, MESSAGE_MAX);
      const { nextAttemptTime: _n, ...rest } = base;
      await deps.client.replaceStatus(running, {
        ...rest,
        phase: 'Succeeded',
        completionTime: stamp(finished),
        conditions: [{ type: 'Complete', status: 'True', reason: outcome.work.reason, message, lastTransitionTime: stamp(finished) }],
        result: { ...outcome.work.result, message },
      } satisfies JobStatus);
      await deps.events.record(running, 'Normal', outcome.work.reason, message);
      deps.log.info(`${job.kind} succeeded`, { job: objectRef(job), message });
      return 'succeeded';
    }
    const error = outcome.error;
    const attempts = (base.failedAttempts ?? 0) + 1;
    const { backoffLimit } = specOf(job);
    const message = error.describe().slice(0, MESSAGE_MAX);
    if (error.transient && attempts <= backoffLimit) {
      const delay = Math.min(BACKOFF_BASE_MS * 2 ** (attempts - 1), BACKOFF_MAX_MS);
      const next = stamp(new Date(finished.getTime() + delay));
      await deps.client.replaceStatus(running, {
        ...base,
        phase: 'Pending',
        failedAttempts: attempts,
        nextAttemptTime: next,
        result: { message: `attempt ${attempts} of ${backoffLimit + 1} failed, retrying at ${next}: ${message}`.slice(0, MESSAGE_MAX) },
      } satisfies JobStatus);
      await deps.events.record(running, 'Warning', 'RetryScheduled', `attempt ${attempts} failed (${message}); retrying at ${next}`);
      deps.log.warn(`${job.kind} failed transiently; retrying`, { job: objectRef(job), attempt: attempts, next, error: message });
      return 'retrying';
    }
    const { nextAttemptTime: _n, ...rest } = base;
    const why = error.transient ? `gave up after ${attempts} attempts (backoffLimit ${backoffLimit}): ${message}` : message;
    await deps.client.replaceStatus(running, {
      ...rest,
      phase: 'Failed',
      failedAttempts: attempts,
      completionTime: stamp(finished),
      conditions: [{ type: 'Failed', status: 'True', reason: error.transient ? 'BackoffLimitExceeded' : 'Failed', message: why.slice(0, MESSAGE_MAX), lastTransitionTime: stamp(finished) }],
      result: { message: why.slice(0, MESSAGE_MAX) },
    } satisfies JobStatus);
    await deps.events.record(running, 'Warning', 'Failed', why);
    deps.log.warn(`${job.kind} failed`, { job: objectRef(job), error: why });
    return 'failed';
  } finally {
    await lock.release();
  }
}
