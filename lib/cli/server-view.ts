import { renderTable, type Column } from './output.ts';

/**
 * How `mcpreg search` and `mcpreg show` print servers. Pure: the commands fetch, these render.
 */

/** A hit of GET /api/v1/search */
export interface SearchHitView {
  registry: string;
  name: string;
  score: number;
  exactName?: boolean;
  matches: Record<string, string[]>;
  server: Record<string, unknown>;
}

export interface SearchAnswer {
  query: string;
  results: SearchHitView[];
  total: number;
  offset: number;
  limit: number;
  nextOffset?: number;
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');
const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

/** at most `n` characters, on one line */
export function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= n ? one : `${one.slice(0, n - 1)}…`;
}

export const searchColumns: Column<SearchHitView>[] = [
  { header: 'Name', cell: (h) => h.name },
  { header: 'Registry', cell: (h) => h.registry },
  { header: 'Score', cell: (h) => h.score.toFixed(1) },
  { header: 'Tier', cell: (h) => text(h.server.tier) || '<none>' },
  { header: 'Transport', cell: (h) => text(h.server.transport) || '<none>' },
  { header: 'Tags', cell: (h) => clip(strings(h.server.tags).join(','), 40) || '<none>', wide: true },
  { header: 'Matched', cell: (h) => Object.entries(h.matches).map(([term, fields]) => `${term}:${fields.join('+')}`).join(' '), wide: true },
  { header: 'Description', cell: (h) => clip(text(h.server.description), 60) },
];

export const serverName = (h: { name: string }) => h.name;

// ---------------------------------------------------------------------------------------------
// mcpreg show

export interface VersionView {
  version: string;
  status?: string;
  isLatest?: boolean;
  publishedAt?: string;
}

export interface CarrierView {
  registry: string;
  /** the latest version there */
  version?: string;
  versions: VersionView[];
}

export interface ShowView {
  /** the ToolHive name */
  name: string;
  /** the upstream (server.json) name */
  upstreamName?: string;
  /** every readable registry that carries the server */
  registries: CarrierView[];
  /** the registry whose entry is shown */
  shownFrom: string;
  /** the version shown */
  version?: string;
  /** the ToolHive registry entry */
  server: Record<string, unknown>;
  /** the ToolHive workloads labelled with this server (absent when the cluster could not be asked) */
  workloads?: WorkloadView[];
}

/** a workload (MCPServer, MCPRemoteProxy) that runs a server */
export interface WorkloadView {
  namespace: string;
  name: string;
  kind: string;
  /** `namespace/name` of the registry its labels name */
  registry: string;
  /** the entry version it was applied from */
  version?: string;
}

interface EnvVar {
  name?: string;
  description?: string;
  required?: boolean;
  secret?: boolean;
  default?: string;
}

const yesNo = (b: unknown) => (b === true ? 'yes' : 'no');

function indent(table: string): string[] {
  return table.trimEnd().split('\n').map((l) => `  ${l}`);
}

/** env vars or headers: required, secret, default */
function variablesTable(vars: EnvVar[]): string[] {
  const rows = vars.map((e) => [text(e.name), yesNo(e.required), yesNo(e.secret), e.default === undefined || e.default === '' ? '<none>' : String(e.default), clip(text(e.description), 70)]);
  return indent(renderTable(['NAME', 'REQUIRED', 'SECRET', 'DEFAULT', 'DESCRIPTION'], rows));
}

export function serverDetails(view: ShowView): string {
  const s = view.server;
  const rows: [string, string][] = [['Server', `${view.name}${view.upstreamName && view.upstreamName !== view.name ? ` (${view.upstreamName})` : ''}`]];
  if (text(s.title)) rows.push(['Title', text(s.title)]);
  rows.push(['Description', clip(text(s.description), 200) || '<none>']);
  const carrier = view.registries.find((r) => r.registry === view.shownFrom);
  const latest = carrier?.version;
  rows.push(['Version', `${view.version ?? latest ?? '<none>'}${view.version && latest && view.version !== latest ? ` (latest: ${latest})` : latest ? ' (latest)' : ''}, as ${view.shownFrom} has it`]);
  rows.push(['Tier', text(s.tier) || '<none>'], ['Status', text(s.status) || '<none>'], ['Transport', text(s.transport) || '<none>']);
  if (text(s.image)) rows.push(['Image', text(s.image)]);
  if (text(s.url)) rows.push(['Remote URL', text(s.url)]);
  if (text(s.repository_url)) rows.push(['Repository', text(s.repository_url)]);
  rows.push(['Tags', strings(s.tags).join(', ') || '<none>']);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const lines = rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`);

  lines.push('', 'Registries:');
  lines.push(
    ...indent(
      renderTable(
        ['REGISTRY', 'LATEST', 'VERSIONS'],
        view.registries.map((r) => [r.registry, r.version ?? '<none>', r.versions.length === 0 ? '<none>' : `${r.versions.slice(0, 5).map((v) => v.version).join(', ')}${r.versions.length > 5 ? ` (+${r.versions.length - 5} more)` : ''}`]),
      ),
    ),
  );

  const env = (Array.isArray(s.env_vars) ? s.env_vars : []) as EnvVar[];
  lines.push('', `Environment variables${env.length ? ` (${env.length})` : ''}:`);
  lines.push(...(env.length === 0 ? ['  <none>'] : variablesTable(env)));
  const headers = (Array.isArray(s.headers) ? s.headers : []) as EnvVar[];
  if (headers.length > 0) lines.push('', `Headers (${headers.length}):`, ...variablesTable(headers));

  const tools = strings(s.tools);
  lines.push('', `Tools${tools.length ? ` (${tools.length})` : ''}:`);
  lines.push(...(tools.length === 0 ? ['  <none>'] : tools.map((t) => `  ${t}`)));
  if (view.workloads) {
    lines.push('', `Workloads${view.workloads.length ? ` (${view.workloads.length})` : ''}:`);
    lines.push(
      ...(view.workloads.length === 0
        ? ['  <none>']
        : indent(renderTable(['NAMESPACE', 'NAME', 'KIND', 'REGISTRY', 'VERSION'], view.workloads.map((w) => [w.namespace, w.name, w.kind, w.registry, w.version ?? '<none>'])))),
    );
  }
  return `${lines.join('\n')}\n`;
}
