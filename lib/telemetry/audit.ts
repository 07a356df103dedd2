/**
 * The audit log: one JSON line per security-relevant act, on a logger of its own, apart from
 * the operational log. The schema (AuditRecord) is stable and documented in the README;
 * fields are added, never renamed. Never a secret value or a token: a caller's credential
 * appears at most as the first 12 hex digits of its SHA-256 (`credential`).
 */
import { appendFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { AuditSink } from './config.ts';

export const AUDIT_SCHEMA_VERSION = 1;

export type AuditAction =
  | 'registry.read'
  | 'registry.sync'
  | 'snapshot.publish'
  | 'snapshot.delete'
  | 'job.run'
  | 'event.receive'
  | 'webhook.receive'
  /** a workload (MCPServer, MCPRemoteProxy) labelled by discovery */
  | 'workload.label'
  /** a workload's registry-managed fields applied (update; a discovered one labelled and updated) */
  | 'workload.update'
  /** a workload deleted and created again (syncPolicy.onUpdate: recreate) */
  | 'workload.recreate'
  /** a workload annotated: its entry left the registry, or came back */
  | 'workload.annotate';

export type AuditOutcome = 'allowed' | 'denied' | 'success' | 'failure' | 'accepted' | 'refused';

export interface AuditRecord {
  /** always `audit`: tells these lines apart when they share a stream with the log */
  kind: 'audit';
  schema: number;
  /** RFC 3339 with milliseconds */
  time: string;
  /** the authenticated user, a controller identity, or the event source */
  actor: string;
  /** sha256 prefix of the caller's bearer token, when one was presented */
  credential?: string;
  action: AuditAction;
  /** what was acted on: `mcpregistries/NAMESPACE/NAME`, `snapshots/NAMESPACE/NAME/HASH`, `mcpservers/NAMESPACE/NAME`, `events/TYPE` */
  resource: string;
  outcome: AuditOutcome;
  reason?: string;
  /** the request id (X-Request-Id, or the CloudEvent id) */
  requestId?: string;
  /** the W3C trace id when tracing is on, to find the request's spans */
  traceId?: string;
  service: string;
}

export type AuditEntry = Omit<AuditRecord, 'kind' | 'schema' | 'time' | 'service'> & { time?: Date };

export interface AuditLog {
  readonly enabled: boolean;
  record(entry: AuditEntry): void;
}

export const NO_AUDIT: AuditLog = { enabled: false, record: () => {} };

/** the first 12 hex digits of a SHA-256: enough to correlate, useless to replay */
export function credentialHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 12);
}

/** A reason is free text from our own code; it is still cut short and kept on one line. */
function cleanReason(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  return reason.replace(/[\r\n]+/g, ' ').slice(0, 1024);
}

export function auditLine(entry: AuditEntry, service: string): string {
  const record: AuditRecord = {
    kind: 'audit',
    schema: AUDIT_SCHEMA_VERSION,
    time: (entry.time ?? new Date()).toISOString(),
    actor: entry.actor,
    ...(entry.credential !== undefined ? { credential: entry.credential } : {}),
    action: entry.action,
    resource: entry.resource,
    outcome: entry.outcome,
    ...(entry.reason !== undefined ? { reason: cleanReason(entry.reason) } : {}),
    ...(entry.requestId !== undefined ? { requestId: entry.requestId.slice(0, 200) } : {}),
    ...(entry.traceId !== undefined ? { traceId: entry.traceId } : {}),
    service,
  };
  return JSON.stringify(record);
}

export function createAuditLog(sink: AuditSink, service: string, write?: (line: string) => void): AuditLog {
  if (sink.kind === 'off') return NO_AUDIT;
  const out =
    write ??
    (sink.kind === 'stdout'
      ? (line: string) => process.stdout.write(line + '\n')
      : // appended synchronously: an audit line is written before the act is answered
        (line: string) => appendFileSync(sink.path, line + '\n', { mode: 0o600 }));
  return {
    enabled: true,
    record(entry) {
      out(auditLine(entry, service));
    },
  };
}
