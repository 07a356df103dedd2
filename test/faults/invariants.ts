/**
 * What must hold after every step of the chaos run (chaos.ts), as pure functions over what the
 * run observed: the bytes in the store, the query API's answers, the MCPRegistry status, the
 * source revisions the run wrote. Each returns the violations it finds (empty: it holds).
 *
 * | invariant | what |
 * |---|---|
 * | `pointer-complete` | every `current.json` is a valid pointer whose objects exist, parse whole and agree with its counts |
 * | `versions-exact` | a registry serves exactly one revision its source had: every version of it once, none lost, none duplicated, none invented |
 * | `no-rollback` | the revision served never goes back to an older one (a published snapshot is not lost to a stale write) |
 * | `history-kept` | when the served snapshot changes, the one it replaced is in the new pointer's history |
 * | `query-serves-pointer` | the query API serves exactly the pointer's snapshot: hash, counts, every version, the ToolHive file byte for byte |
 * | `status-truthful` | status claims only a snapshot that was published (`claims`), and, once its writer had the chance, exactly the one served (`exact`) |
 * | `process-returns` | the sync process answers its health check after a kill -9 and a restart |
 * | `converges` | once faults stop, the latest source revision is published and the status says so |
 */
import { parsePointer } from '../../lib/snapshots/read.ts';
import type { SnapshotPointer } from '../../lib/snapshots/pointer.ts';
import type { RegistryRef } from '../../lib/snapshots/layout.ts';

export type InvariantName =
  | 'pointer-complete'
  | 'versions-exact'
  | 'no-rollback'
  | 'history-kept'
  | 'query-serves-pointer'
  | 'status-truthful'
  | 'process-returns'
  | 'converges';

export const INVARIANTS: readonly InvariantName[] = ['pointer-complete', 'versions-exact', 'no-rollback', 'history-kept', 'query-serves-pointer', 'status-truthful', 'process-returns', 'converges'];

export interface Violation {
  invariant: InvariantName;
  registry?: string;
  message: string;
}

/** One server version as the run writes it and as it must come back: name, version, description. */
export interface Entry {
  name: string;
  version: string;
  description: string;
}

const decoder = new TextDecoder();
const OFFICIAL = 'io.modelcontextprotocol.registry/official';

export function entryKey(e: Entry): string {
  return `${e.name}@${e.version}`;
}

function sortEntries(entries: readonly Entry[]): Entry[] {
  return [...entries].sort((a, b) => (entryKey(a) < entryKey(b) ? -1 : entryKey(a) > entryKey(b) ? 1 : a.description < b.description ? -1 : 1));
}

function sameEntries(a: readonly Entry[], b: readonly Entry[]): boolean {
  if (a.length !== b.length) return false;
  const x = sortEntries(a);
  const y = sortEntries(b);
  return x.every((e, i) => e.name === y[i]!.name && e.version === y[i]!.version && e.description === y[i]!.description);
}

/** what differs between two entry lists, bounded, for messages */
export function describeDiff(got: readonly Entry[], want: readonly Entry[]): string {
  const fmt = (e: Entry) => `${entryKey(e)} ${JSON.stringify(e.description)}`;
  const wanted = new Map(want.map((e) => [fmt(e), e]));
  const had = new Map(got.map((e) => [fmt(e), e]));
  const missing = [...wanted.keys()].filter((k) => !had.has(k));
  const extra = [...had.keys()].filter((k) => !wanted.has(k));
  const cut = (xs: string[]) => (xs.length > 4 ? `${xs.slice(0, 4).join(', ')} and ${xs.length - 4} more` : xs.join(', '));
  return `${got.length} entries, expected ${want.length}${missing.length ? `; missing ${cut(missing)}` : ''}${extra.length ? `; unexpected ${cut(extra)}` : ''}`;
}

// ------------------------------------------------------------------------------------------
// pointer-complete
// ------------------------------------------------------------------------------------------

/** A registry's pointer as read from the store, and the objects it names (null: missing). */
export interface StoredSnapshot {
  ref: RegistryRef;
  pointerKey: string;
  /** the bytes of current.json */
  pointerBytes: Uint8Array;
  pointerEtag: string;
  /** every object of the registry the pointer names, by key (null: not in the store) */
  objects: Map<string, Uint8Array | null>;
}

export interface CheckedSnapshot {
  pointer: SnapshotPointer;
  /** the versions upstream.json holds */
  entries: Entry[];
  toolhive: Uint8Array;
}

function parseJson(bytes: Uint8Array): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(decoder.decode(bytes)) as unknown };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** the keys a pointer names, for the runner to fetch */
export function keysNamed(pointer: SnapshotPointer, registryPrefix: string): string[] {
  const keys = [pointer.objects.toolhive, pointer.objects.upstream];
  if (pointer.source) keys.push(pointer.source.key);
  return [...new Set(keys.map((k) => (k.startsWith('registries/') ? k : `${registryPrefix}${k}`)))];
}

/**
 * Checks one pointer and the snapshot it names. Returns the parsed snapshot when it is
 * complete (for the other checks), and the violations.
 */
export function checkPointerComplete(s: StoredSnapshot): { snapshot?: CheckedSnapshot; violations: Violation[] } {
  const registry = `${s.ref.namespace}/${s.ref.name}`;
  const v = (message: string): Violation => ({ invariant: 'pointer-complete', registry, message });
  let pointer: SnapshotPointer;
  try {
    pointer = parsePointer(s.ref, { body: s.pointerBytes, etag: s.pointerEtag } as Parameters<typeof parsePointer>[1]);
  } catch (e) {
    return { violations: [v(`${s.pointerKey} is not a usable pointer: ${e instanceof Error ? e.message : String(e)}`)] };
  }
  const prefix = `registries/${s.ref.namespace}/${s.ref.name}/`;
  const violations: Violation[] = [];
  const object = (key: string, what: string): Uint8Array | undefined => {
    const full = key.startsWith('registries/') ? key : `${prefix}${key}`;
    const bytes = s.objects.get(full);
    if (!bytes) {
      violations.push(v(`pointer ${pointer.hash.slice(0, 12)} names ${what} ${full}, which is not in the store`));
      return undefined;
    }
    return bytes;
  };
  const upstreamBytes = object(pointer.objects.upstream, 'upstream.json');
  const toolhiveBytes = object(pointer.objects.toolhive, 'toolhive.json');
  if (pointer.source) object(pointer.source.key, 'its source');
  for (const [what, key] of [
    ['upstream.json', pointer.objects.upstream],
    ['toolhive.json', pointer.objects.toolhive],
  ] as const) {
    if (!key.includes(`snapshots/${pointer.hash}/`)) violations.push(v(`pointer ${pointer.hash.slice(0, 12)} names ${what} ${key} outside its own snapshot`));
  }
  let entries: Entry[] = [];
  if (upstreamBytes) {
    const parsed = parseJson(upstreamBytes);
    const doc = parsed.value as { servers?: Array<{ server?: { name?: string; version?: string; description?: string }; _meta?: Record<string, { isLatest?: boolean }> }>; metadata?: { count?: number } } | undefined;
    if (parsed.error || !doc || !Array.isArray(doc.servers)) {
      violations.push(v(`upstream.json of ${pointer.hash.slice(0, 12)} is not a whole list document (${parsed.error ?? 'no servers array'}; ${upstreamBytes.length} bytes)`));
    } else {
      entries = doc.servers.map((s) => ({ name: String(s.server?.name), version: String(s.server?.version), description: String(s.server?.description) }));
      if (doc.metadata?.count !== undefined && doc.metadata.count !== entries.length) violations.push(v(`upstream.json says count ${doc.metadata.count} but holds ${entries.length} versions`));
      if (entries.length !== pointer.counts.versions) violations.push(v(`pointer counts ${pointer.counts.versions} versions, upstream.json holds ${entries.length}`));
      const names = new Set(entries.map((e) => e.name));
      if (names.size !== pointer.counts.servers) violations.push(v(`pointer counts ${pointer.counts.servers} servers, upstream.json has ${names.size} names`));
      const latest = new Map<string, number>();
      for (const s of doc.servers) if (s._meta?.[OFFICIAL]?.isLatest === true) latest.set(String(s.server?.name), (latest.get(String(s.server?.name)) ?? 0) + 1);
      const wrong = [...names].filter((n) => latest.get(n) !== 1);
      if (wrong.length > 0) violations.push(v(`upstream.json: ${wrong.length} names without exactly one isLatest (${wrong.slice(0, 3).join(', ')})`));
    }
  }
  if (toolhiveBytes) {
    const parsed = parseJson(toolhiveBytes);
    const doc = parsed.value as { servers?: Record<string, unknown>; remote_servers?: Record<string, unknown> } | undefined;
    if (parsed.error || !doc || typeof doc.servers !== 'object') {
      violations.push(v(`toolhive.json of ${pointer.hash.slice(0, 12)} is not a whole registry document (${parsed.error ?? 'no servers'}; ${toolhiveBytes.length} bytes)`));
    } else {
      const n = Object.keys(doc.servers ?? {}).length + Object.keys(doc.remote_servers ?? {}).length;
      if (n !== pointer.counts.servers) violations.push(v(`pointer counts ${pointer.counts.servers} servers, toolhive.json holds ${n}`));
    }
  }
  return violations.length === 0 && toolhiveBytes ? { snapshot: { pointer, entries, toolhive: toolhiveBytes }, violations } : { violations };
}

// ------------------------------------------------------------------------------------------
// versions-exact, no-rollback, history-kept
// ------------------------------------------------------------------------------------------

/**
 * Which of the source's revisions (oldest first) a snapshot's entries are; the latest when
 * several revisions had equal content. Violations: duplicated versions, and content that is
 * none of the revisions (a version lost or invented).
 */
export function checkVersions(registry: string, served: readonly Entry[], revisions: readonly (readonly Entry[])[]): { revision?: number; violations: Violation[] } {
  const violations: Violation[] = [];
  const seen = new Map<string, number>();
  for (const e of served) seen.set(entryKey(e), (seen.get(entryKey(e)) ?? 0) + 1);
  const dups = [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
  if (dups.length > 0) violations.push({ invariant: 'versions-exact', registry, message: `versions served more than once: ${dups.slice(0, 5).join(', ')}` });
  for (let i = revisions.length - 1; i >= 0; i--) {
    if (sameEntries(served, revisions[i]!)) return { revision: i, violations };
  }
  const latest = revisions.at(-1) ?? [];
  violations.push({ invariant: 'versions-exact', registry, message: `the snapshot served is none of the ${revisions.length} revisions its source had; against the latest: ${describeDiff(served, latest)}` });
  return { violations };
}

export interface Served {
  hash: string;
  revision: number;
}

/** The served revision must not go back, and a replaced snapshot must be in the new pointer's history. */
export function checkProgress(registry: string, before: Served | undefined, now: Served, pointer: SnapshotPointer): Violation[] {
  if (!before) return [];
  const out: Violation[] = [];
  if (now.revision < before.revision) {
    out.push({ invariant: 'no-rollback', registry, message: `serving revision ${now.revision} (${now.hash.slice(0, 12)}) after revision ${before.revision} (${before.hash.slice(0, 12)}) was published` });
  }
  if (now.hash !== before.hash && !(pointer.history ?? []).some((h) => h.hash === before.hash)) {
    out.push({ invariant: 'history-kept', registry, message: `pointer ${now.hash.slice(0, 12)} replaced ${before.hash.slice(0, 12)} but its history does not name it (${(pointer.history ?? []).map((h) => h.hash.slice(0, 12)).join(', ') || 'empty'})` });
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// query-serves-pointer
// ------------------------------------------------------------------------------------------

export interface QueryObservation {
  /** GET /api/v1/registries/{ns}/{name}: status code and the fields checked */
  info: { status: number; hash?: string; serverCount?: number; versionCount?: number };
  /** every version listed by GET /registries/{ns}/{name}/v0.1/servers, all pages; null when a page failed */
  entries: Entry[] | null;
  listError?: string;
  /** GET /registries/{ns}/{name}/registry.json?format=toolhive */
  toolhive: { status: number; body: Uint8Array };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function checkQuery(registry: string, snapshot: CheckedSnapshot, q: QueryObservation): Violation[] {
  const v = (message: string): Violation => ({ invariant: 'query-serves-pointer', registry, message });
  const out: Violation[] = [];
  const p = snapshot.pointer;
  if (q.info.status !== 200) out.push(v(`GET /api/v1/registries/${registry} answered ${q.info.status}`));
  else {
    if (q.info.hash !== p.hash) out.push(v(`the API serves snapshot ${String(q.info.hash).slice(0, 12)}, the pointer names ${p.hash.slice(0, 12)}`));
    if (q.info.serverCount !== p.counts.servers || q.info.versionCount !== p.counts.versions) {
      out.push(v(`the API says ${q.info.serverCount} servers / ${q.info.versionCount} versions, the pointer ${p.counts.servers} / ${p.counts.versions}`));
    }
  }
  if (q.entries === null) out.push(v(`listing /registries/${registry}/v0.1/servers failed: ${q.listError ?? 'unknown'}`));
  else if (!sameEntries(q.entries, snapshot.entries)) out.push(v(`the API lists other versions than the snapshot holds: ${describeDiff(q.entries, snapshot.entries)}`));
  if (q.toolhive.status !== 200) out.push(v(`registry.json?format=toolhive answered ${q.toolhive.status}`));
  else if (!sameBytes(q.toolhive.body, snapshot.toolhive)) out.push(v(`registry.json?format=toolhive (${q.toolhive.body.length} bytes) is not the snapshot's toolhive.json (${snapshot.toolhive.length} bytes)`));
  return out;
}

// ------------------------------------------------------------------------------------------
// status-truthful
// ------------------------------------------------------------------------------------------

export interface StatusView {
  phase?: string;
  serverCount?: number;
  snapshot?: { hash?: string };
  observedGeneration?: number;
  conditions?: Array<{ type: string; status: string; reason?: string }>;
}

/**
 * `claims`: whatever happened, a status may only name a snapshot that was published (the
 * current one or one in its history) and, with a Ready=True, one exists at all.
 * `exact`: its writer ran to the end with the API server reachable, so it names exactly the
 * snapshot served, with its server count.
 */
export function checkStatus(registry: string, status: StatusView | undefined, pointer: SnapshotPointer | null, mode: 'claims' | 'exact'): Violation[] {
  const v = (message: string): Violation => ({ invariant: 'status-truthful', registry, message });
  const claimed = status?.snapshot?.hash;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  if (!pointer) {
    if (claimed) return [v(`status claims snapshot ${claimed.slice(0, 12)} but no snapshot is published`)];
    if (ready?.status === 'True') return [v('status says Ready=True but no snapshot is published')];
    return [];
  }
  if (mode === 'claims') {
    if (claimed && claimed !== pointer.hash && !(pointer.history ?? []).some((h) => h.hash === claimed)) {
      return [v(`status claims snapshot ${claimed.slice(0, 12)}, which was never published (serving ${pointer.hash.slice(0, 12)})`)];
    }
    return [];
  }
  const out: Violation[] = [];
  if (claimed !== pointer.hash) out.push(v(`status claims snapshot ${String(claimed).slice(0, 12)} (${status?.phase}, Ready ${ready?.status}/${ready?.reason}) but ${pointer.hash.slice(0, 12)} is served`));
  if (status?.serverCount !== pointer.counts.servers) out.push(v(`status says ${status?.serverCount} servers, the snapshot served has ${pointer.counts.servers}`));
  if (ready?.status !== 'True') out.push(v(`status says Ready=${ready?.status} (${ready?.reason}) while ${pointer.hash.slice(0, 12)} is served`));
  return out;
}

// ------------------------------------------------------------------------------------------
// process-returns, converges
// ------------------------------------------------------------------------------------------

/** After a kill -9 and a restart: healthy within the limit (healthyAfterMs null: never). */
export function checkProcess(killed: boolean, healthyAfterMs: number | null, limitMs: number): Violation[] {
  if (!killed) return [];
  if (healthyAfterMs === null || healthyAfterMs > limitMs) {
    return [{ invariant: 'process-returns', message: `the sync process did not answer /healthz within ${limitMs} ms of its restart after kill -9 (${healthyAfterMs === null ? 'never' : `${healthyAfterMs} ms`})` }];
  }
  return [];
}

export function checkConverged(registry: string, served: number | undefined, latest: number, waitedMs: number): Violation[] {
  if (served === latest) return [];
  return [{ invariant: 'converges', registry, message: `${waitedMs} ms after the faults stopped it serves ${served === undefined ? 'no known revision' : `revision ${served}`}, not the latest (${latest})` }];
}
