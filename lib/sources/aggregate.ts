/**
 * The aggregate source: the union of other MCPRegistries' published snapshots, de-duplicated
 * by server name (aggregate-merge.ts). Nothing is fetched: members are looked up through the
 * Kubernetes API (existence, cross-namespace permission, cycles) and their current snapshots
 * are read from the snapshot store, so an aggregate sync costs what reading the data costs.
 *
 * Revision: sha256 over the members in order with the snapshot hash used (or the problem that
 * left one out). Equal to the previous revision → `unchanged`, without reading any snapshot.
 * State (persisted in the pointer, shown in `status.members`): each member's snapshot hash,
 * names taken and shadowed, or its problem.
 */
import { createHash } from 'node:crypto';
import { RegistryError, type ErrorCode, type ErrorWhere } from '../errors.ts';
import type { ServerResponse } from '../formats/upstream-schema.ts';
import type { AggregateSource as AggregateSpec } from '../kube/mcpregistry-spec.ts';
import { MemberStatus, type MemberProblem } from '../kube/mcpregistry-status.ts';
import type { KubeObject } from '../kube/objects.ts';
import { createResourceClient } from '../kube/registry-client.ts';
import { MCP_REGISTRY } from '../kube/resources.ts';
import type { SnapshotPointer } from '../snapshots/pointer.ts';
import { CorruptPointerError, readPointer } from '../snapshots/read.ts';
import type { GetOptions, SnapshotStore } from '../snapshots/store.ts';
import { createNameMerger, namesPerMember, serveWithOwnTimestamps, type MemberRef } from './aggregate-merge.ts';
import { aggregationRefusal, findCycle, memberRefs, refText } from './aggregate-members.ts';
import { resolvePolicy } from './policy.ts';
import type { FetchResult, Source, SourceContext } from './types.ts';

export type MemberState = MemberStatus;

export interface AggregateState {
  members: MemberState[];
}

export const PROBLEM_CODES: Record<MemberProblem, ErrorCode> = {
  Cycle: 'aggregate_cycle',
  NotFound: 'member_not_found',
  NotSynced: 'member_not_synced',
  Forbidden: 'member_forbidden',
};

/** A sync refused because of its members; carries every member's state for the status. */
export class AggregateMemberError extends RegistryError {
  readonly members: MemberState[];
  constructor(code: ErrorCode, message: string, members: MemberState[]) {
    super(code, message, { where: { source: 'aggregate' }, transient: code === 'member_not_synced' });
    this.name = 'AggregateMemberError';
    this.members = members;
  }
}

/** the members' states in a pointer's source state, when it is an aggregate's */
export function membersOfState(state: unknown): MemberState[] | undefined {
  const members = (state as { members?: unknown } | undefined)?.members;
  if (!Array.isArray(members)) return undefined;
  const parsed = MemberStatus.array().safeParse(members);
  return parsed.success ? parsed.data : undefined;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function describeProblems(members: readonly MemberState[]): string {
  return members
    .filter((m) => m.problem)
    .map((m) => `member ${m.namespace}/${m.name}: ${m.message}`)
    .join('; ');
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export class AggregateRegistrySource implements Source {
  readonly type = 'aggregate' as const;
  readonly spec: AggregateSpec;

  constructor(spec: AggregateSpec) {
    this.spec = spec;
  }

  async fetch(context: SourceContext): Promise<FetchResult> {
    const self: MemberRef = { namespace: context.namespace, name: context.registryName };
    const where = { source: 'aggregate' };
    const { store, kubeConfig } = context;
    if (!store || !kubeConfig) throw new RegistryError('internal', 'the aggregate source needs the snapshot store and a Kubernetes client configuration', { where });
    const registries = createResourceClient(kubeConfig, MCP_REGISTRY.plural as 'mcpregistries');
    const looked = new Map<string, Promise<KubeObject | null>>();
    const lookup = (ref: MemberRef) => {
      let p = looked.get(refText(ref));
      if (!p) looked.set(refText(ref), (p = registries.get(ref.namespace, ref.name)));
      return p;
    };

    const members: MemberState[] = [];
    const usable: Array<{ ref: MemberRef; pointer: SnapshotPointer; state: MemberState }> = [];
    for (const ref of memberRefs(this.spec, self.namespace)) {
      context.signal.throwIfAborted();
      const state: MemberState = { namespace: ref.namespace, name: ref.name };
      members.push(state);
      const problem = (kind: MemberProblem, message: string) => {
        state.problem = kind;
        state.message = message.slice(0, 1024);
      };
      const object = await lookup(ref);
      if (!object) {
        problem('NotFound', `MCPRegistry ${refText(ref)} not found`);
        continue;
      }
      if (object.metadata.deletionTimestamp) {
        problem('NotFound', `MCPRegistry ${refText(ref)} is being deleted`);
        continue;
      }
      const refusal = aggregationRefusal(object, self.namespace);
      if (refusal) {
        problem('Forbidden', `not allowed: ${refusal}`);
        continue;
      }
      const cycle = await findCycle(self, ref, lookup);
      if (cycle) {
        problem('Cycle', `aggregating it would be a cycle: ${cycle.map(refText).join(' → ')}`);
        continue;
      }
      let pointer: SnapshotPointer | undefined;
      try {
        pointer = (await readPointer(store, ref))?.pointer;
      } catch (e) {
        if (!(e instanceof CorruptPointerError)) throw e;
        problem('NotSynced', `its snapshot pointer is unreadable (${e.message})`);
        continue;
      }
      if (!pointer) {
        problem('NotSynced', 'it has not published a snapshot yet');
        continue;
      }
      state.snapshotHash = pointer.hash;
      usable.push({ ref, pointer, state });
    }

    const problems = members.filter((m) => m.problem);
    const cycle = problems.find((m) => m.problem === 'Cycle');
    if (cycle || (problems.length > 0 && !context.allowPartial)) {
      const first = cycle ?? problems[0]!;
      const hint = cycle ? '' : ' (set spec.allowPartial to publish without it)';
      throw new AggregateMemberError(PROBLEM_CODES[first.problem!], `${describeProblems(members)}${hint}`, members);
    }

    const revision = `sha256:${sha256(JSON.stringify(members.map((m) => [m.namespace, m.name, m.snapshotHash ?? m.problem ?? ''])))}`;
    if (!context.force && context.previous?.revision === revision) return { kind: 'unchanged', revision };

    const { maxBytes, maxEntries } = resolvePolicy(context.policy);
    const merger = createNameMerger();
    let bytes = 0;
    let rows = 0;
    for (const { ref, pointer, state } of usable) {
      context.signal.throwIfAborted();
      const entries = await readMemberRows(store, ref, pointer, maxBytes);
      bytes += entries.bytes;
      const counts = merger.add(ref, entries.rows);
      rows += counts.rows;
      if (rows > maxEntries) {
        throw new RegistryError('too_large', `the members hold more than ${maxEntries} versions together (MCPREG_REGISTRY_MAX_ENTRIES)`, { where: { ...where, key: pointer.objects.upstream } });
      }
      state.servers = counts.taken;
      state.shadowed = counts.shadowed;
    }
    const state: AggregateState = { members };
    return { kind: 'entries', mode: 'full', revision, entries: merger.finish(), state, bytes, validated: true };
  }
}

/** `servers` of each member state recounted from the rows the aggregate serves (after its filter) */
export function countServed(state: AggregateState, served: readonly ServerResponse[]): AggregateState {
  const counts = namesPerMember(served);
  return { members: state.members.map((m) => (m.problem ? m : { ...m, servers: counts.get(`${m.namespace}/${m.name}`) ?? 0 })) };
}

/**
 * An upstream.json: size-checked before it is read whole (a one-byte range read tells the
 * size where the store supports ranges), parsed, and checked row by row.
 */
async function readRows(store: SnapshotStore, key: string, what: string, where: ErrorWhere, maxBytes: number): Promise<{ rows: ServerResponse[]; bytes: number }> {
  const tooLarge = (size: number) => new RegistryError('too_large', `${what} is ${size} bytes, over the limit of ${maxBytes} (MCPREG_FETCH_MAX_BYTES)`, { where });
  const missing = () => new RegistryError('not_found', `${what} is missing (pruned meanwhile?); the next sync reads the current one`, { where, transient: true });
  const read = async (options?: GetOptions) => {
    const object = await store.get(key, options);
    if (object === null) throw missing();
    if (object === 'not-modified') throw new RegistryError('internal', 'store answered not-modified to an unconditional read', { where });
    return object;
  };
  let object = await read(Number.isFinite(maxBytes) ? { range: { start: 0, end: 1 } } : undefined);
  if (object.range) {
    if (object.range.size > maxBytes) throw tooLarge(object.range.size);
    object = await read();
  }
  if (object.body.byteLength > maxBytes) throw tooLarge(object.body.byteLength);
  let doc: unknown;
  try {
    doc = JSON.parse(decoder.decode(object.body));
  } catch (e) {
    throw new RegistryError('invalid_json', `${what} is not JSON: ${(e as Error).message}`, { where });
  }
  const servers = (doc as { servers?: unknown } | null)?.servers;
  if (!Array.isArray(servers)) throw new RegistryError('invalid_document', `${what} is not an upstream list (no servers array)`, { where });
  for (let i = 0; i < servers.length; i++) {
    const s = (servers[i] as { server?: { name?: unknown; version?: unknown } } | null)?.server;
    if (!s || typeof s.name !== 'string' || typeof s.version !== 'string') {
      throw new RegistryError('invalid_document', `a row of ${what} has no server.name and server.version`, { where: { ...where, path: `servers[${i}]` } });
    }
  }
  return { rows: servers as ServerResponse[], bytes: object.body.byteLength };
}

function readMemberRows(store: SnapshotStore, ref: MemberRef, pointer: SnapshotPointer, maxBytes: number) {
  const key = pointer.objects.upstream;
  return readRows(store, key, `snapshot ${pointer.hash.slice(0, 12)} of the member`, { source: `aggregate member ${refText(ref)}`, key }, maxBytes);
}

/**
 * What an aggregate publishes, from the rows it serves now (after its filter): its own
 * timestamps, carried forward from its previous snapshot, plus tombstones of what it no longer
 * serves (aggregate-merge.ts); and the member states with the servers each contributed.
 */
export async function servedSnapshot(
  store: SnapshotStore,
  previous: SnapshotPointer | undefined,
  live: ServerResponse[],
  now: string,
  state: unknown,
): Promise<{ entries: ServerResponse[]; state: unknown }> {
  let before: ServerResponse[] | undefined;
  if (previous) {
    const key = previous.objects.upstream;
    try {
      before = (await readRows(store, key, 'the previous snapshot', { source: 'aggregate', key }, Infinity)).rows;
    } catch (e) {
      // without a readable previous snapshot every row counts as new: later, never wrong
      if (!(e instanceof RegistryError) || !['not_found', 'invalid_json', 'invalid_document'].includes(e.code)) throw e;
    }
  }
  const { entries } = serveWithOwnTimestamps(live, { previous: before, now });
  const members = membersOfState(state);
  return { entries, state: members ? countServed({ members }, live) : state };
}

export function createAggregateSource(spec: AggregateSpec): AggregateRegistrySource {
  return new AggregateRegistrySource(spec);
}

/**
 * Whether a member published after an aggregate sync read it (its pointer names another
 * snapshot, or a member that had none has one now): the aggregate is then synced again at once.
 * Its publish event may have arrived while that sync held the lease and been answered "busy".
 */
export async function membersMoved(store: SnapshotStore, members: readonly MemberState[]): Promise<boolean> {
  for (const m of members) {
    if (m.snapshotHash === undefined && m.problem !== 'NotSynced') continue;
    let hash: string | undefined;
    try {
      hash = (await readPointer(store, m))?.pointer.hash;
    } catch (e) {
      if (e instanceof CorruptPointerError) continue;
      throw e;
    }
    if (hash !== m.snapshotHash) return true;
  }
  return false;
}
