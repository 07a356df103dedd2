/**
 * `mcpreg dev --kubeconfig` against a cluster that exists: the scenario shared by the local
 * test (the embedded control plane started on its own, standing in for a cluster) and the
 * cluster test (the real kube-apiserver). Local mode starts on the kubeconfig, a ConfigMap
 * registry is created in the cluster, the sync function (here) syncs it on the event bridge's
 * watch event, and the query API (here) serves it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { startDev, type DevRuntime } from '../../lib/local/dev.ts';
import { silentLogger } from '../../lib/log.ts';

export const GROUP = 'toolhive.stacklok.io';
export const VERSION = 'v1alpha1';

export function registryJson(names: string[]): string {
  const servers = Object.fromEntries(names.map((n) => [n, { description: `${n} server`, image: `ghcr.io/example/${n}:1.0.0`, transport: 'stdio', tier: 'Community', status: 'Active', tools: ['t'] }]));
  return JSON.stringify({ version: '1.0.0', last_updated: '2026-03-01T00:00:00Z', servers, remote_servers: {} });
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Registry {
  metadata: { generation: number };
  status?: { observedGeneration?: number; serverCount?: number; conditions?: Array<{ type: string; status: string }> };
}

export interface DevOnClusterOutcome {
  dev: DevRuntime;
  /** the names /registries/{ns}/{name}/v0.1/servers of the local query API listed */
  served: string[];
  /** what `kubectl get mcpregistries -A` would list when local mode had started, before the test created one */
  registriesAtStart: string[];
}

/**
 * Starts local mode on `kubeconfig` (`context`), creates ConfigMap `ns/name-src` and MCPRegistry
 * `ns/name` with the servers `names` through `admin`, waits until it is Ready and served, and
 * stops local mode again (also on failure). `ns` must exist.
 */
export async function devOnCluster(options: { kubeconfig: string; context?: string; admin: KubeConfig; ns: string; name: string; names: string[]; env?: NodeJS.ProcessEnv }): Promise<DevOnClusterOutcome> {
  const { admin, ns, name } = options;
  const dataDir = await mkdtemp(join(tmpdir(), 'mcpreg-dev-cluster-'));
  const custom = admin.makeApiClient(CustomObjectsApi);
  const core = admin.makeApiClient(CoreV1Api);
  const dev = await startDev({
    dataDir,
    port: 0,
    apiPort: 0,
    resyncIntervalMs: 0,
    examples: false,
    log: silentLogger,
    env: { ...process.env, ...options.env },
    cluster: { kubeconfig: options.kubeconfig, context: options.context },
  });
  try {
    const listed = (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'mcpregistries' })) as { items: Array<{ metadata: { namespace: string; name: string } }> };
    const registriesAtStart = listed.items.map((r) => `${r.metadata.namespace}/${r.metadata.name}`);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `${name}-src` }, data: { 'registry.json': registryJson(options.names) } } });
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'mcpregistries',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name }, spec: { source: { type: 'configmap', configMap: { name: `${name}-src`, key: 'registry.json' } } } },
    });
    const ready = await until(`MCPRegistry ${ns}/${name} Ready`, async () => {
      const r = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'mcpregistries', name })) as Registry;
      return r.status?.observedGeneration === r.metadata.generation && r.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? r : undefined;
    }, 60_000);
    assert.equal(ready.status?.serverCount, options.names.length);
    const served = await until('the registry served by the local query API', async () => {
      const res = await fetch(`${dev.queryUrl}/registries/${ns}/${name}/v0.1/servers`);
      if (res.status !== 200) return undefined;
      const body = (await res.json()) as { servers: Array<{ server: { name: string } }> };
      return body.servers.map((s) => s.server.name);
    });
    return { dev, served, registriesAtStart };
  } finally {
    await dev.stop(2000);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** a kubeconfig file whose cluster is a loopback port nothing listens on */
export function unreachableKubeconfig(port: number): string {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'gone', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'gone', cluster: 'gone', user: 'u' }],
    currentContext: 'gone',
  });
  return kc.exportConfig();
}
