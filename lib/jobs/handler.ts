import type { KubeConfig } from '@kubernetes/client-node';
import { toRegistryError } from '../errors.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { JobStatus } from '../kube/job-specs.ts';
import type { LeaseLocker } from '../kube/lease.ts';
import { objectRef, type KubeObject } from '../kube/objects.ts';
import { createResourceClient, type ResourceClient } from '../kube/registry-client.ts';
import type { SourceSpec } from '../kube/mcpregistry-spec.ts';
import { MCP_REGISTRY_EXPORT_JOB, MCP_REGISTRY_IMPORT_JOB } from '../kube/resources.ts';
import type { Logger } from '../log.ts';
import type { SnapshotStore } from '../snapshots/store.ts';
import type { FetchPolicy, Source } from '../sources/types.ts';
import { NO_TELEMETRY, type Telemetry } from '../telemetry/telemetry.ts';
import { runJob, type JobRunOutcome } from './lifecycle.ts';
import { runExport } from './run-export.ts';
import { runImport } from './run-import.ts';

/**
 * The import and export jobs as the sync function sees them: an event for one job runs it
 * (once; see lifecycle.ts), and the ping runs every job whose retry is due and deletes the
 * finished ones past their TTL.
 */

export const JOB_KINDS = ['MCPRegistryImportJob', 'MCPRegistryExportJob'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export interface JobsDeps {
  kubeConfig: KubeConfig;
  store: SnapshotStore;
  leases: LeaseLocker;
  events: EventRecorder;
  now: () => Date;
  log: Logger;
  /** sources of import jobs and git targets: the SSRF policy and limits, and one job's deadline */
  policy: FetchPolicy;
  deadlineMs: number;
  createSource?: (spec: SourceSpec) => Source;
  /** a `job` span per run, mcpreg.job.runs, and a job.run audit line (default: none) */
  telemetry?: Telemetry;
  /** the identity the sync function acts as (audit actor) */
  identity?: string;
}

/** the outcomes that are a run of the job's work; the rest (busy, not due, collected…) did nothing */
const RUN_OUTCOMES: Partial<Record<JobRunOutcome, { metric: string; audit: 'success' | 'failure' }>> = {
  succeeded: { metric: 'Succeeded', audit: 'success' },
  failed: { metric: 'Failed', audit: 'failure' },
  retrying: { metric: 'Retrying', audit: 'failure' },
};
const KIND_LABEL: Record<JobKind, string> = { MCPRegistryImportJob: 'import', MCPRegistryExportJob: 'export' };

export interface JobSummary {
  job: string;
  outcome: JobRunOutcome;
}

export function createJobsHandler(deps: JobsDeps) {
  const clients: Record<JobKind, ResourceClient> = {
    MCPRegistryImportJob: createResourceClient(deps.kubeConfig, MCP_REGISTRY_IMPORT_JOB.plural as 'mcpregistryimportjobs'),
    MCPRegistryExportJob: createResourceClient(deps.kubeConfig, MCP_REGISTRY_EXPORT_JOB.plural as 'mcpregistryexportjobs'),
  };
  const work: Record<JobKind, (job: KubeObject) => ReturnType<typeof runExport>> = {
    MCPRegistryImportJob: (job) =>
      runImport({ kubeConfig: deps.kubeConfig, store: deps.store, policy: deps.policy, deadlineMs: deps.deadlineMs, now: deps.now, ...(deps.createSource ? { createSource: deps.createSource } : {}) }, job),
    MCPRegistryExportJob: (job) => runExport({ kubeConfig: deps.kubeConfig, store: deps.store, policy: deps.policy, deadlineMs: deps.deadlineMs, now: deps.now }, job),
  };

  const tel = deps.telemetry ?? NO_TELEMETRY;

  async function run(kind: JobKind, job: KubeObject): Promise<JobSummary> {
    const resource = `${kind.toLowerCase()}s/${objectRef(job)}`;
    const { outcome, traceId } = await tel.tracing.span('job', { 'mcpreg.job.kind': KIND_LABEL[kind], 'mcpreg.job': objectRef(job) }, async (span) => {
      const o = await runJob({ client: clients[kind], leases: deps.leases, events: deps.events, now: deps.now, log: deps.log }, job, work[kind]);
      span.setAttributes({ 'mcpreg.job.outcome': o });
      if (o === 'failed' || o === 'retrying') span.fail(o);
      return { outcome: o, traceId: span.traceId };
    });
    const ran = RUN_OUTCOMES[outcome];
    if (ran) {
      tel.metrics.jobRun(KIND_LABEL[kind], ran.metric);
      tel.audit.record({
        actor: deps.identity ?? 'unknown',
        action: 'job.run',
        resource,
        outcome: ran.audit,
        reason: outcome,
        ...(traceId ? { traceId } : {}),
      });
    }
    return { job: `${kind} ${objectRef(job)}`, outcome };
  }

  /** Every job that is unfinished and due, or finished with a TTL: the ping's safety net. */
  async function sweep(): Promise<JobSummary[]> {
    const out: JobSummary[] = [];
    const now = deps.now().getTime();
    // the kinds are listed at once (a ping's cost is these round trips), then run one by one
    const listed = await Promise.all(JOB_KINDS.map((kind) => clients[kind].list()));
    for (const [i, kind] of JOB_KINDS.entries()) {
      for (const job of listed[i]!) {
        const status = (job.status ?? {}) as JobStatus;
        const ttl = (job.spec as { ttlSecondsAfterFinished?: number } | undefined)?.ttlSecondsAfterFinished;
        const due = status.completionTime ? ttl !== undefined : !status.nextAttemptTime || new Date(status.nextAttemptTime).getTime() <= now;
        if (!due) continue;
        try {
          out.push(await run(kind, job));
        } catch (e) {
          deps.log.error('job failed unexpectedly', { job: objectRef(job), error: toRegistryError(e).describe() });
        }
      }
    }
    return out;
  }

  return { run, sweep, isJobKind: (kind: string): kind is JobKind => (JOB_KINDS as readonly string[]).includes(kind) };
}
