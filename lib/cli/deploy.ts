import { CliFailure, UsageError } from './io.ts';
import type { QueryApi } from './query-api.ts';
import type { DeployEntry, SecretRef } from '../deploy/workload.ts';

/**
 * What `mcpreg deploy` gathers from the query API: the registry's entry for a server (by its
 * ToolHive or upstream name), with its upstream name and version, and the snapshot it is in.
 * Plus the parsing of `--env KEY=VALUE` and `--secret VAR=SECRET/KEY`.
 */

const enc = encodeURIComponent;

export async function registryEntry(api: QueryApi, server: string, registry: string): Promise<{ entry: DeployEntry; snapshot?: string }> {
  const { fromToolhive } = await import('../deploy/workload.ts');
  const one = await api.get<Record<string, unknown> & { name: string }>(`/api/v1/servers/${enc(server)}?registry=${enc(registry)}`, [404, 409]);
  if (one.status === 404) throw new CliFailure(`server "${server}" is not in registry ${registry}`);
  if (one.status === 409) throw new CliFailure(`several servers of ${registry} answer to "${server}": use its ToolHive name or its full upstream name`);
  const upstream = await api.get<{ server: { name: string; version?: string } }>(`/api/v1/servers/${enc(server)}?registry=${enc(registry)}&format=upstream`);
  const { name, registry: _registry, ...fields } = one.body;
  const kind = typeof fields.image === 'string' ? 'image' : 'remote';
  const entry = fromToolhive(name, kind, { ...fields, name: upstream.body.server.name } as never, upstream.body.server.version);
  const [ns, reg] = registry.split('/') as [string, string];
  const info = await api.get<{ snapshot?: { hash?: string } }>(`/api/v1/registries/${enc(ns)}/${enc(reg)}`, [404]);
  const snapshot = info.status === 404 ? undefined : info.body.snapshot?.hash;
  return snapshot ? { entry, snapshot } : { entry };
}

export function parseEnvFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`deploy: --env must be KEY=VALUE, not ${JSON.stringify(v)}`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

export function parseSecretFlags(values: readonly string[]): Record<string, SecretRef> {
  const out: Record<string, SecretRef> = {};
  for (const v of values) {
    const m = /^([^=]+)=([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/([-._a-zA-Z0-9]+)$/.exec(v);
    if (!m) throw new UsageError(`deploy: --secret must be VAR=SECRET/KEY (a Secret in the workload's namespace and its key), not ${JSON.stringify(v)}`);
    out[m[1]!] = { name: m[2]!, key: m[4]! };
  }
  return out;
}
