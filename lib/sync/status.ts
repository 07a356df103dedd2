import type { RegistryError } from '../errors.ts';
import { boundMessage, setCondition, type Condition } from '../kube/conditions.ts';
import type { MCPRegistryStatus } from '../kube/mcpregistry-status.ts';
import type { SyncPolicy } from '../kube/mcpregistry-spec.ts';
import { snapshotPrefix } from '../snapshots/layout.ts';
import { PROBLEM_CODES, type MemberState } from '../sources/aggregate.ts';
import type { SyncResult } from './pipeline.ts';
import { nextSyncTime } from './schedule.ts';

/**
 * MCPRegistry status from a sync result. Pure. The status tells the truth:
 * - Ready: a snapshot is being served (True even when the latest sync failed, with reason
 *   StaleSnapshot, because readers still get the last good one); False when there is none.
 * - Synced: the latest attempt succeeded; False with the error's reason and message.
 * - SourceAvailable: the source could be read (False for network, auth, not-found, SSRF…).
 * - Valid: the document and every entry validated (False with the invalid entries listed,
 *   also in lenient mode where the valid ones are still published).
 * - MembersAvailable (aggregates only): every member could be used; False names the ones that
 *   could not (missing, not synced, not allowed, a cycle), also when spec.allowPartial
 *   published without them.
 */

const SOURCE_ERRORS = new Set([
  'source_not_found',
  'source_unavailable',
  'source_timeout',
  'auth_failed',
  'secret_not_found',
  'url_forbidden',
  'host_key_rejected',
  'unsupported',
  'rate_limited',
  'member_not_found',
  'member_not_synced',
  'member_forbidden',
  'aggregate_cycle',
]);
const VALIDITY_ERRORS = new Set(['invalid_json', 'unknown_format', 'invalid_document', 'duplicate_name', 'too_deep', 'empty_result']);

/** `source_not_found` → `SourceNotFound`: condition reasons are CamelCase */
export function reasonOf(code: string): string {
  return code
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

function ts(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface StatusInput {
  previous: MCPRegistryStatus | undefined;
  generation: number | undefined;
  policy: SyncPolicy;
  /** the trigger annotation value this sync acted on, if any */
  trigger?: string | undefined;
  apiEndpoint?: string | undefined;
  now: Date;
  random: number;
}

export function syncingStatus(input: Omit<StatusInput, 'random' | 'policy'>): MCPRegistryStatus {
  const prev = input.previous ?? {};
  const status: MCPRegistryStatus = { ...prev, phase: 'Syncing', lastAttemptTime: ts(input.now) };
  if (!prev.conditions?.some((c) => c.type === 'Ready')) {
    status.conditions = setCondition(prev.conditions as Condition[] | undefined, { type: 'Ready', status: 'False', reason: 'Syncing', message: 'first sync in progress', observedGeneration: input.generation }, input.now) as MCPRegistryStatus['conditions'];
  }
  return status;
}

function summariseInvalid(result: SyncResult): string {
  const shown = result.invalid.slice(0, 5).map((p) => `${p.server ? `server ${JSON.stringify(p.server)} ` : ''}${p.path}: ${p.message}`);
  const more = result.invalid.length > shown.length ? `; and ${result.invalid.length - shown.length} more` : '';
  return `${result.invalid.length} invalid entr${result.invalid.length === 1 ? 'y' : 'ies'} left out: ${shown.join('; ')}${more}`;
}

function describeMember(m: MemberState): string {
  if (m.problem) return `${m.namespace}/${m.name}: ${m.message ?? m.problem}`;
  const counts = m.servers === undefined ? '' : ` (${m.servers} servers${m.shadowed ? `, ${m.shadowed} shadowed` : ''})`;
  return `${m.namespace}/${m.name}${counts}`;
}

/** MembersAvailable from an aggregate's member states */
export function membersCondition(members: readonly MemberState[], published: boolean): Pick<Condition, 'status' | 'reason' | 'message'> {
  const problems = members.filter((m) => m.problem);
  if (problems.length === 0) return { status: 'True', reason: 'MembersAvailable', message: `${members.length} member${members.length === 1 ? '' : 's'}: ${members.map(describeMember).join(', ')}` };
  const first = problems.find((m) => m.problem === 'Cycle') ?? problems[0]!;
  const prefix = published ? 'published without ' : '';
  return { status: 'False', reason: reasonOf(PROBLEM_CODES[first.problem!]), message: `${prefix}${problems.map(describeMember).join('; ')}` };
}

export function resultStatus(input: StatusInput, result: SyncResult): MCPRegistryStatus {
  const prev = input.previous ?? {};
  const now = input.now;
  const og = input.generation;
  let conditions = (prev.conditions ?? []) as Condition[];
  const set = (type: string, status: Condition['status'], reason: string, message: string) => {
    conditions = setCondition(conditions, { type, status, reason, message: boundMessage(message), observedGeneration: og }, now);
  };
  const status: MCPRegistryStatus = { ...prev, lastAttemptTime: result.startedAt.replace(/\.\d{3}Z$/, 'Z') };
  if (og !== undefined) status.observedGeneration = og;
  if (input.trigger !== undefined) status.lastManualSyncTrigger = input.trigger;
  if (input.apiEndpoint) status.apiEndpoint = input.apiEndpoint;
  const attemptAt = new Date(result.startedAt);

  if (result.outcome !== 'failed' && result.pointer) {
    const pointer = result.pointer;
    status.phase = 'Ready';
    status.serverCount = result.counts.servers;
    status.invalidCount = result.counts.invalid;
    status.lastSyncTime = ts(now);
    status.syncAttempts = 0;
    status.snapshot = {
      hash: pointer.hash,
      key: snapshotPrefix({ namespace: pointer.namespace, name: pointer.name }, pointer.hash),
      ...(pointer.revision !== undefined ? { revision: pointer.revision.slice(0, 1024) } : {}),
    };
    const what = `${result.counts.servers} servers (${result.counts.published} versions)${result.counts.filteredOut ? `, ${result.counts.filteredOut} filtered out` : ''}`;
    const message = result.outcome === 'published' ? `published snapshot ${pointer.hash.slice(0, 12)}: ${what}` : `source unchanged; serving snapshot ${pointer.hash.slice(0, 12)}: ${what}`;
    set('Ready', 'True', result.outcome === 'published' ? 'Synced' : 'Unchanged', message);
    set('Synced', 'True', result.outcome === 'published' ? 'Published' : 'Unchanged', message);
    set('SourceAvailable', 'True', 'Fetched', `revision ${pointer.revision ?? 'unknown'}`);
    if (result.counts.invalid > 0) set('Valid', 'False', 'InvalidEntries', summariseInvalid(result));
    else set('Valid', 'True', 'Valid', `${result.counts.valid} valid entries`);
    const next = nextSyncTime({ policy: input.policy, attemptAt, failures: 0, random: input.random });
    if (next) status.nextSyncTime = ts(next);
    else delete status.nextSyncTime;
  } else {
    const error = result.error as RegistryError;
    // a spec edit is a new start: its first failure is retry 1, not "gave up" from the old spec's count
    const specChanged = og !== undefined && prev.observedGeneration !== undefined && prev.observedGeneration !== og;
    const failures = (specChanged ? 0 : (prev.syncAttempts ?? 0)) + 1;
    status.syncAttempts = failures;
    status.phase = 'Failed';
    const reason = reasonOf(error.code);
    const message = error.describe();
    set('Synced', 'False', reason, message);
    if (SOURCE_ERRORS.has(error.code)) set('SourceAvailable', 'False', reason, message);
    else if (VALIDITY_ERRORS.has(error.code)) {
      set('SourceAvailable', 'True', 'Fetched', 'the source answered');
      set('Valid', 'False', reason, message);
    } else if (conditions.some((c) => c.type === 'Valid')) {
      // failed after the source was read (store, deadline…): the previous Valid counted the
      // previous snapshot's entries, and this attempt's were never committed
      set('Valid', 'Unknown', 'NotPublished', `the latest sync failed before publishing (${reason}); validity is reported with the next published snapshot`);
    }
    if (prev.snapshot) set('Ready', 'True', 'StaleSnapshot', `serving snapshot ${prev.snapshot.hash.slice(0, 12)} from ${prev.lastSyncTime ?? 'an earlier sync'}; the latest sync failed: ${message}`);
    else set('Ready', 'False', reason, `no snapshot published yet: ${message}`);
    const retrying = failures <= input.policy.retry.maxRetries;
    const next = nextSyncTime({ policy: input.policy, attemptAt, failures, random: input.random });
    if (next) status.nextSyncTime = ts(next);
    else delete status.nextSyncTime;
    if (!retrying && next) {
      set('Synced', 'False', reason, `${message} (gave up after ${input.policy.retry.maxRetries} retries; next attempt at the interval)`);
    }
  }
  if (result.members) {
    status.members = result.members;
    const c = membersCondition(result.members, result.outcome !== 'failed');
    set('MembersAvailable', c.status, c.reason, c.message);
  } else if (result.outcome !== 'failed') {
    // not (or no longer) an aggregate
    delete status.members;
    conditions = conditions.filter((c) => c.type !== 'MembersAvailable');
  }
  status.conditions = conditions as MCPRegistryStatus['conditions'];
  return status;
}

/** Status for a spec the API server accepted but we cannot use (e.g. a missing source block). */
export function invalidSpecStatus(input: Omit<StatusInput, 'random' | 'policy'>, message: string): MCPRegistryStatus {
  const prev = input.previous ?? {};
  let conditions = (prev.conditions ?? []) as Condition[];
  for (const type of ['Synced', 'Valid'] as const) {
    conditions = setCondition(conditions, { type, status: 'False', reason: 'InvalidSpec', message: boundMessage(message), observedGeneration: input.generation }, input.now);
  }
  if (!prev.snapshot) conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: boundMessage(message), observedGeneration: input.generation }, input.now);
  const status: MCPRegistryStatus = { ...prev, phase: 'Failed', conditions: conditions as MCPRegistryStatus['conditions'], lastAttemptTime: ts(input.now) };
  if (input.generation !== undefined) status.observedGeneration = input.generation;
  if (input.trigger !== undefined) status.lastManualSyncTrigger = input.trigger;
  delete status.nextSyncTime;
  return status;
}
