import { CRD_DEFINITIONS } from '../kube/crds.ts';
import { humanDuration, printerCell } from '../kube/printer-columns.ts';
import { GROUP, MCP_REGISTRY } from '../kube/resources.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { MemberStatus } from '../kube/mcpregistry-status.ts';
import { objectName, renderTable, type Column } from './output.ts';

/**
 * How MCPRegistries print: the CRD's printer columns (the same as `kubectl get mcpreg`,
 * `wide` ones with -o wide, NAMESPACE first with -A), and `registry get`'s details. Pure.
 */

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

interface RegistryStatusView {
  phase?: string;
  serverCount?: number;
  invalidCount?: number;
  lastSyncTime?: string;
  lastAttemptTime?: string;
  nextSyncTime?: string;
  syncAttempts?: number;
  observedGeneration?: number;
  lastManualSyncTrigger?: string;
  snapshot?: { hash: string; revision?: string; key?: string };
  apiEndpoint?: string;
  conditions?: Condition[];
}

export const statusOf = (o: KubeObject): RegistryStatusView => (o.status ?? {}) as RegistryStatusView;
export const conditionOf = (o: KubeObject, type: string): Condition | undefined => statusOf(o).conditions?.find((c) => c.type === type);

export function registryColumns(allNamespaces: boolean, now: number): Column<KubeObject>[] {
  const def = CRD_DEFINITIONS.find((d) => d.names.kind === MCP_REGISTRY.kind)!;
  return [
    ...(allNamespaces ? [{ header: 'Namespace', cell: (o: KubeObject) => o.metadata.namespace ?? '' }] : []),
    { header: 'Name', cell: (o: KubeObject) => o.metadata.name },
    ...def.printerColumns.map((c) => ({ header: c.name, cell: (o: KubeObject) => printerCell(c, o, now), wide: (c.priority ?? 0) > 0 })),
  ];
}

export const registryName = (o: KubeObject) => objectName(MCP_REGISTRY.kind, GROUP, o.metadata.name);

function when(ts: string | undefined, now: number): string {
  if (!ts) return '<none>';
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return ts;
  return t <= now ? `${ts} (${humanDuration(now - t)} ago)` : `${ts} (in ${humanDuration(t - now)})`;
}

interface SourceView {
  type?: string;
  configMap?: { name: string; key?: string };
  url?: { url: string; authSecret?: { name: string } };
  git?: { repository: string; branch?: string; tag?: string; commit?: string; path?: string; authSecret?: { name: string } };
  registry?: { url: string; authSecret?: { name: string } };
  aggregate?: { registries: Array<{ name: string; namespace?: string }> };
}

export function describeSource(o: KubeObject): string {
  const s = ((o.spec as { source?: SourceView } | undefined)?.source ?? {}) as SourceView;
  const secret = (a?: { name: string }) => (a ? `, credentials from Secret ${a.name}` : '');
  switch (s.type) {
    case 'configmap':
      return `configmap ${s.configMap?.name}, key ${s.configMap?.key ?? 'registry.json'}`;
    case 'url':
      return `url ${s.url?.url}${secret(s.url?.authSecret)}`;
    case 'git': {
      const g = s.git!;
      const ref = g.commit ? `commit ${g.commit}` : g.tag ? `tag ${g.tag}` : `branch ${g.branch ?? 'main'}`;
      return `git ${g.repository} (${ref}, ${g.path ?? 'registry.json'})${secret(g.authSecret)}`;
    }
    case 'registry':
      return `registry API ${s.registry?.url}${secret(s.registry?.authSecret)}`;
    case 'aggregate': {
      const ns = o.metadata.namespace ?? 'default';
      const members = (s.aggregate?.registries ?? []).map((m) => `${m.namespace ?? ns}/${m.name}`);
      const partial = (o.spec as { allowPartial?: boolean } | undefined)?.allowPartial ? ', partial allowed' : '';
      return `aggregate of ${members.join(', ')} (first wins by server name${partial})`;
    }
    default:
      return '<none>';
  }
}

function describeFilter(o: KubeObject): string {
  const f = (o.spec as { filter?: Record<string, Record<string, string[]> | undefined> } | undefined)?.filter;
  if (!f) return 'none (every server)';
  const parts: string[] = [];
  for (const side of ['include', 'exclude'] as const) {
    for (const [dimension, values] of Object.entries(f[side] ?? {})) parts.push(`${side} ${dimension} ${values.join(', ')}`);
  }
  return parts.length > 0 ? parts.join('; ') : 'none (every server)';
}

/** The last error: the Synced condition when it is False, with the retry plan. */
export function lastError(o: KubeObject, now: number): string {
  const synced = conditionOf(o, 'Synced');
  if (!synced || synced.status !== 'False') return '<none>';
  const st = statusOf(o);
  const attempts = st.syncAttempts ? ` (${st.syncAttempts} failed attempt${st.syncAttempts === 1 ? '' : 's'}${st.nextSyncTime ? `; next at ${when(st.nextSyncTime, now)}` : ''})` : '';
  return `${synced.reason}: ${synced.message ?? ''}${attempts}`;
}

/** `registry get NAME`: what a person wants to know about one registry. */
export function registryDetails(o: KubeObject, now: number): string {
  const st = statusOf(o);
  const spec = (o.spec ?? {}) as { format?: string; syncPolicy?: { interval?: string; enabled?: boolean } };
  const rows: [string, string][] = [
    ['Name', o.metadata.name],
    ['Namespace', o.metadata.namespace ?? ''],
    ['Source', describeSource(o)],
    ['Format', spec.format ?? 'detected'],
    ['Filter', describeFilter(o)],
    ['Sync', spec.syncPolicy?.enabled === false ? 'manual only' : `every ${spec.syncPolicy?.interval ?? '1h'}`],
    ['Phase', st.phase ?? 'Pending'],
    ['Servers', st.serverCount === undefined ? '<none>' : `${st.serverCount}${st.invalidCount ? ` (${st.invalidCount} invalid entries left out)` : ''}`],
    ['Snapshot', st.snapshot ? `${st.snapshot.hash}${st.snapshot.revision ? ` (revision ${st.snapshot.revision})` : ''}` : '<none>'],
    ['API', st.apiEndpoint ?? '<none>'],
    ['Last sync', when(st.lastSyncTime, now)],
    ['Last attempt', when(st.lastAttemptTime, now)],
    ['Next sync', when(st.nextSyncTime, now)],
    ['Last error', lastError(o, now)],
  ];
  if (o.metadata.deletionTimestamp) rows.push(['Deleting', `since ${when(o.metadata.deletionTimestamp, now)}; waiting for ${o.metadata.finalizers?.join(', ') || 'nothing'}`]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const lines = rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`);
  const members = (st as { members?: MemberStatus[] }).members;
  if (members && members.length > 0) {
    lines.push('Members:');
    const table = renderTable(
      ['MEMBER', 'SNAPSHOT', 'SERVERS', 'SHADOWED', 'PROBLEM'],
      members.map((m) => [`${m.namespace}/${m.name}`, m.snapshotHash ? m.snapshotHash.slice(0, 12) : '<none>', String(m.servers ?? 0), String(m.shadowed ?? 0), m.problem ? `${m.problem}: ${m.message ?? ''}` : '']),
    );
    lines.push(...table.trimEnd().split('\n').map((l) => `  ${l}`));
  }
  const conditions = st.conditions ?? [];
  lines.push('Conditions:');
  if (conditions.length === 0) lines.push('  <none>');
  else {
    const table = renderTable(
      ['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'],
      conditions.map((c) => [c.type, c.status, c.reason ?? '', c.lastTransitionTime ? humanDuration(now - Date.parse(c.lastTransitionTime)) : '<none>', c.message ?? '']),
    );
    lines.push(...table.trimEnd().split('\n').map((l) => `  ${l}`));
  }
  return `${lines.join('\n')}\n`;
}
