import { CliFailure } from './io.ts';
import type { QueryApi } from './query-api.ts';
import type { CarrierView, ShowView, VersionView, WorkloadView } from './server-view.ts';

/**
 * What `mcpreg show` gathers from the query API: which readable registries carry the server
 * (`/api/v1/servers/{name}`: one, or a 409 naming the candidates), each one's entry and
 * versions (the upstream API of that registry), and with --version that version's server.json
 * converted to a ToolHive entry.
 */

const OFFICIAL = 'io.modelcontextprotocol.registry/official';

interface UpstreamItem {
  server: { name: string; version: string };
  _meta?: Record<string, { status?: string; isLatest?: boolean; publishedAt?: string } | undefined>;
}

const enc = encodeURIComponent;

export async function showServer(api: QueryApi, name: string, options: { registry?: string; version?: string }): Promise<ShowView> {
  let registries: string[];
  if (options.registry) registries = [options.registry];
  else {
    const { status, body } = await api.get<{ registry?: string; candidates?: string[] }>(`/api/v1/servers/${enc(name)}`, [404, 409]);
    if (status === 404) throw new CliFailure(`server "${name}" is in no registry you may read`);
    registries = status === 409 ? [...(body.candidates ?? [])].sort() : [body.registry!];
  }
  const carriers: (CarrierView & { entry: Record<string, unknown>; upstreamName: string })[] = [];
  for (const registry of registries) {
    const [ns, reg] = registry.split('/') as [string, string];
    const one = await api.get<Record<string, unknown> & { name: string }>(`/api/v1/servers/${enc(name)}?registry=${enc(registry)}`, [404, 409]);
    if (one.status === 404) {
      if (options.registry) throw new CliFailure(`server "${name}" is not in registry ${registry}`);
      continue;
    }
    if (one.status === 409) throw new CliFailure(`several servers of ${registry} answer to "${name}": use its ToolHive name or its full upstream name`);
    const upstream = await api.get<UpstreamItem>(`/api/v1/servers/${enc(name)}?registry=${enc(registry)}&format=upstream`);
    const upstreamName = upstream.body.server.name;
    const versions = await api.get<{ servers: UpstreamItem[] }>(`/registries/${enc(ns)}/${enc(reg)}/v0.1/servers/${enc(upstreamName)}/versions`, [404]);
    const list: VersionView[] =
      versions.status === 404
        ? []
        : versions.body.servers.map((v) => {
            const official = v._meta?.[OFFICIAL];
            return { version: v.server.version, ...(official?.status ? { status: official.status } : {}), ...(official?.isLatest !== undefined ? { isLatest: official.isLatest } : {}), ...(official?.publishedAt ? { publishedAt: official.publishedAt } : {}) };
          });
    carriers.push({ registry, version: list.find((v) => v.isLatest)?.version ?? upstream.body.server.version, versions: list, entry: one.body, upstreamName });
  }
  if (carriers.length === 0) throw new CliFailure(`server "${name}" is in no registry you may read`);
  const shown = carriers[0]!;
  let entry = shown.entry;
  let version = shown.version;
  if (options.version !== undefined && options.version !== shown.version) {
    const [ns, reg] = shown.registry.split('/') as [string, string];
    const found = await api.get<UpstreamItem>(`/registries/${enc(ns)}/${enc(reg)}/v0.1/servers/${enc(shown.upstreamName)}/versions/${enc(options.version)}`, [404]);
    if (found.status === 404) throw new CliFailure(`${shown.upstreamName} has no version "${options.version}" in ${shown.registry} (it has: ${shown.versions.map((v) => v.version).join(', ') || 'none'})`);
    const { upstreamToToolhive } = await import('../formats/registry-conversion.ts');
    const { registry, skipped } = upstreamToToolhive([found.body as never]);
    const converted = Object.values(registry.servers ?? {})[0] ?? Object.values(registry.remote_servers ?? {})[0];
    if (!converted) throw new CliFailure(`version "${options.version}" of ${shown.upstreamName} cannot be shown as a ToolHive entry: ${skipped[0]?.message ?? 'no package or remote ToolHive can run'}`);
    entry = { ...(converted as Record<string, unknown>), name: shown.entry.name, registry: shown.registry };
    version = options.version;
  }
  return {
    name: String(shown.entry.name ?? name),
    upstreamName: shown.upstreamName,
    registries: carriers.map(({ registry, version: v, versions }) => ({ registry, ...(v !== undefined ? { version: v } : {}), versions })),
    shownFrom: shown.registry,
    ...(version !== undefined ? { version } : {}),
    server: entry,
  };
}

/**
 * The workloads whose server-name label names this server, in every namespace (or, when
 * that is forbidden, the namespace of the kubeconfig); undefined when there is no cluster to
 * ask. A workload CRD that is not installed contributes none.
 */
export async function workloadsOf(api: QueryApi, name: string, upstreamName: string | undefined): Promise<WorkloadView[] | undefined> {
  let target;
  try {
    target = await api.kube();
  } catch {
    return undefined;
  }
  const { listWorkloads } = await import('../deploy/workloads.ts');
  const { LABELS, registryOfLabels, sanitizeLabelValue, ANNOTATIONS } = await import('../deploy/labels.ts');
  const selector = `${LABELS.serverName}=${sanitizeLabelValue(name)}`;
  let listing;
  try {
    listing = await listWorkloads(target.kubeConfig, { labelSelector: selector });
  } catch {
    try {
      listing = await listWorkloads(target.kubeConfig, { namespace: target.namespace, labelSelector: selector });
    } catch {
      return undefined;
    }
  }
  const out: WorkloadView[] = [];
  for (const w of listing.items) {
    const reg = registryOfLabels(w.metadata);
    const annotations = w.metadata.annotations ?? {};
    // a shortened label value could stand for another name: the full value decides
    if (reg?.serverName !== undefined && reg.serverName !== name && reg.serverName !== upstreamName) continue;
    const version = annotations[ANNOTATIONS.version];
    out.push({ namespace: w.metadata.namespace ?? '', name: w.metadata.name, kind: w.kind, registry: reg ? `${reg.namespace || (w.metadata.namespace ?? '')}/${reg.name}` : '<none>', ...(version ? { version } : {}) });
  }
  return out.sort((a, b) => `${a.namespace}/${a.name}/${a.kind}`.localeCompare(`${b.namespace}/${b.name}/${b.kind}`));
}
