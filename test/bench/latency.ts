/**
 * `npm run bench -- latency [changes]`: how long a source change takes to reach the query API,
 * in local mode (startDev: the embedded control plane, the event bridge, the sync and query
 * functions, the example git server, all in this process). One registry of 1,000 servers per
 * source kind:
 *
 * - `configmap`: a ConfigMap created without the registry-source label (the sync function
 *   labels it); a change is a merge patch of its data;
 * - `git-push`: a repository served by local mode's git server; a change is a commit pushed
 *   with `git push` (its GitHub push CloudEvent syncs the registry);
 * - `webhook`: a URL source on a loopback HTTP server; a change is a new document there and a
 *   signed `POST /webhooks/{ns}/{name}` (X-Hub-Signature-256, a fresh delivery id) to the sync
 *   function.
 *
 * Each change rewrites one server's description; the clock runs from the moment the change is
 * made (the patch sent, `git push` started, the webhook POSTed) until the query API serves the
 * new description (`GET …/v0.1/servers/{name}/versions/latest`, polled every 10 ms). Printed,
 * one JSON line per kind: median, p90 and max over the changes (10 by default; also the median
 * of making and announcing the change, and of the rest after it), against the
 * target median ≤ 1.5 s, and a floor taken in the same run: the same registry synced directly
 * (runSync on the same source, into a scratch store, once after each change), which is what
 * a sync costs without the eventing around it. `overhead_ms` = median − floor median.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startDev } from '../../lib/local/dev.ts';
import { MCPRegistrySpec } from '../../lib/kube/mcpregistry-spec.ts';
import { createKubeSecretReader } from '../../lib/kube/secrets.ts';
import { silentLogger } from '../../lib/log.ts';
import { createFsStore } from '../../lib/snapshots/fs-store.ts';
import { createSource } from '../../lib/sources/index.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { runSync } from '../../lib/sync/pipeline.ts';
import { signBody } from '../../lib/sync/webhook-signature.ts';

const exec = promisify(execFile);
const N = 1000;
const NS = 'bench';
const GROUP = 'toolhive.stacklok.io';
const TARGET_MS = 1500;
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@localhost', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@localhost' };
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const CHANGED = 'server-0000';

function registryDoc(change: string, pretty = false): string {
  const servers: Record<string, unknown> = {};
  for (let i = 0; i < N; i++) {
    const name = `server-${String(i).padStart(4, '0')}`;
    servers[name] = { description: i === 0 ? `bench server 0, ${change}` : `bench server ${i}`, tier: 'Community', status: 'Active', transport: 'stdio', image: `ghcr.io/bench/${name}:1.0.0`, tools: ['t'], tags: ['bench'] };
  }
  const doc = { version: '1.0.0', last_updated: '2026-03-01T00:00:00Z', servers };
  return pretty ? `${JSON.stringify(doc, null, 2)}\n` : JSON.stringify(doc);
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function stats(values: number[]): { median: number; p90: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median: Math.round(mid), p90: Math.round(quantile(s, 0.9)), max: Math.round(s.at(-1)!) };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 10): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`bench latency: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function run(args: string[]): Promise<void> {
  const changes = Number(args[0] ?? 10);
  if (!Number.isInteger(changes) || changes < 1) throw new Error(`bench latency: the number of changes must be a positive integer, not ${args[0]}`);
  const dir = await mkdtemp(join(tmpdir(), 'mcpreg-bench-latency-'));
  // the URL source of the webhook registry: the document in memory, with an ETag
  let urlDoc = registryDoc('initial');
  let urlEtag = `"0"`;
  const urlServer = createServer((req, res) => {
    if (req.headers['if-none-match'] === urlEtag) return res.writeHead(304, { etag: urlEtag }).end();
    res.writeHead(200, { 'content-type': 'application/json', etag: urlEtag }).end(urlDoc);
  });
  await new Promise<void>((r) => urlServer.listen(0, '127.0.0.1', r));
  const dev = await startDev({ dataDir: join(dir, 'data'), port: 0, apiPort: 0, resyncIntervalMs: 0, examples: true, log: silentLogger });
  try {
    if (!dev.examples?.git) throw new Error('bench latency: needs git (the example git server is not running)');
    const kc = new KubeConfig();
    kc.loadFromFile(dev.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NS } } });

    // git: a bare repository beside the example one, served by the same git server
    const bare = join(dir, 'data', 'examples', 'git', 'bench.git');
    const work = join(dir, 'work');
    await exec('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare], { env: GIT_ENV });
    await exec('git', ['--git-dir', bare, 'config', 'http.receivepack', 'true'], { env: GIT_ENV });
    await mkdir(work);
    await exec('git', ['init', '--quiet', '--initial-branch=main'], { cwd: work, env: GIT_ENV });
    await writeFile(join(work, 'registry.json'), registryDoc('initial', true));
    await exec('git', ['add', 'registry.json'], { cwd: work, env: GIT_ENV });
    await exec('git', ['commit', '--quiet', '-m', 'initial'], { cwd: work, env: GIT_ENV });
    const repository = `${dev.examples.git}/bench.git`;
    await exec('git', ['remote', 'add', 'origin', repository], { cwd: work, env: GIT_ENV });
    await exec('git', ['push', '--quiet', 'origin', 'main'], { cwd: work, env: GIT_ENV });

    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'bench-data' }, data: { 'registry.json': registryDoc('initial') } } });
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'bench-webhook' }, stringData: { secret: 'bench-webhook-secret' } } });
    const urlAddress = `http://127.0.0.1:${(urlServer.address() as AddressInfo).port}/registry.json`;
    const specs: Record<string, unknown> = {
      configmap: { source: { type: 'configmap', configMap: { name: 'bench-data', key: 'registry.json' } } },
      'git-push': { source: { type: 'git', git: { repository, branch: 'main', path: 'registry.json', allowHttp: true } } },
      webhook: { source: { type: 'url', url: { url: urlAddress, allowHttp: true } }, syncPolicy: { webhook: { secretRef: { name: 'bench-webhook', key: 'secret' } } } },
    };
    const names: Record<string, string> = { configmap: 'cm', 'git-push': 'git', webhook: 'hook' };
    for (const [kind, spec] of Object.entries(specs)) {
      await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1alpha1', plural: 'mcpregistries', namespace: NS, body: { apiVersion: `${GROUP}/v1alpha1`, kind: 'MCPRegistry', metadata: { name: names[kind] }, spec } });
    }

    const query = dev.queryUrl;
    /** the upstream name of server-0000 in a registry, once it serves one */
    const serverName = async (registry: string) =>
      until(`${registry} serving ${N} servers`, async () => {
        const r = await fetch(`${query}/registries/${NS}/${registry}/v0.1/servers?limit=1`);
        if (r.status !== 200) return undefined;
        const body = (await r.json()) as { servers: Array<{ server: { name: string } }> };
        return body.servers[0]?.server.name;
      }, 60_000, 50);
    const served = async (registry: string, name: string): Promise<string | undefined> => {
      const r = await fetch(`${query}/registries/${NS}/${registry}/v0.1/servers/${encodeURIComponent(name)}/versions/latest`, { headers: { 'cache-control': 'no-cache' } });
      if (r.status !== 200) {
        await r.body?.cancel();
        return undefined;
      }
      return ((await r.json()) as { server: { description?: string } }).server.description;
    };
    const upstreamNames: Record<string, string> = {};
    for (const [kind, registry] of Object.entries(names)) upstreamNames[kind] = await serverName(registry);
    // let the first syncs (and the label's own event) settle
    await until('the first syncs done', async () => (dev.activeSyncs() === 0 ? true : undefined), 60_000, 50);
    await new Promise((r) => setTimeout(r, 1_000));

    const makeChange: Record<string, (change: string) => Promise<void>> = {
      configmap: async (change) => {
        await core.patchNamespacedConfigMap({ namespace: NS, name: 'bench-data', body: { data: { 'registry.json': registryDoc(change) } } }, mergePatch);
      },
      'git-push': async (change) => {
        await writeFile(join(work, 'registry.json'), registryDoc(change, true));
        await exec('git', ['commit', '--quiet', '-am', change], { cwd: work, env: GIT_ENV });
      },
      webhook: async (change) => {
        urlDoc = registryDoc(change);
        urlEtag = `"${change}"`;
      },
    };
    const announce: Record<string, () => Promise<void>> = {
      configmap: async () => {},
      'git-push': async () => {
        await exec('git', ['push', '--quiet', 'origin', 'main'], { cwd: work, env: GIT_ENV });
      },
      webhook: async () => {
        const body = Buffer.from(JSON.stringify({ event: 'published', at: new Date().toISOString() }));
        const r = await fetch(`${dev.syncUrl}/webhooks/${NS}/hook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, 'bench-webhook-secret'), 'x-delivery-id': randomUUID() }, body });
        if (r.status !== 200) throw new Error(`bench latency: webhook answered ${r.status}: ${await r.text()}`);
        await r.body?.cancel();
      },
    };

    // the floor: the same registry synced directly, no events, into a scratch store
    // durable like local mode's own store (MCPREG_STORE_FSYNC defaults on)
    const scratch = createFsStore({ dir: join(dir, 'scratch'), durable: true });
    const policy = resolvePolicy({ allowPrivate: ['127.0.0.0/8'] });
    const direct = async (kind: string): Promise<number> => {
      const spec = MCPRegistrySpec.parse(specs[kind]);
      const t0 = performance.now();
      const result = await runSync({ ref: { namespace: NS, name: `${names[kind]}-floor` }, spec, store: scratch, source: createSource(spec.source), context: { secrets: createKubeSecretReader(kc, NS), policy, kubeConfig: kc }, force: true, log: silentLogger });
      if (result.outcome === 'failed') throw new Error(`bench latency: direct sync of ${kind} failed: ${result.error?.describe()}`);
      return performance.now() - t0;
    };

    for (const kind of Object.keys(specs)) {
      const registry = names[kind]!;
      const latencies: number[] = [];
      const floors: number[] = [];
      const announceMs: number[] = [];
      const afterMs: number[] = [];
      for (let i = 0; i < changes; i++) {
        const change = `${kind} change ${i} ${randomUUID().slice(0, 8)}`;
        const want = `bench server 0, ${change}`;
        if (kind !== 'configmap') await makeChange[kind]!(change);
        const t0 = performance.now();
        if (kind === 'configmap') await makeChange[kind]!(change);
        await announce[kind]!();
        announceMs.push(performance.now() - t0);
        await until(`${registry} serving change ${i}`, async () => ((await served(registry, upstreamNames[kind]!)) === want ? true : undefined), 30_000);
        latencies.push(performance.now() - t0);
        afterMs.push(latencies.at(-1)! - announceMs.at(-1)!);
        // the registry is settled before the floor runs, so the two never compete
        await until('no sync running', async () => (dev.activeSyncs() === 0 ? true : undefined), 30_000);
        floors.push(await direct(kind));
      }
      const l = stats(latencies);
      const f = stats(floors);
      const a = stats(announceMs);
      const after = stats(afterMs);
      process.stdout.write(
        JSON.stringify({
          scenario: `latency-${kind}-${N}`,
          changes,
          median_ms: l.median,
          p90_ms: l.p90,
          max_ms: l.max,
          target_median_ms: TARGET_MS,
          meets_target: l.median <= TARGET_MS,
          // the change being made and announced: the patch, `git push`, the webhook's answer (it waits for the sync)
          announce_median_ms: a.median,
          // from the end of that to the new description served (git: from the push's completion, when GitHub would send its webhook)
          after_announce_median_ms: after.median,
          floor_median_ms: f.median,
          floor_max_ms: f.max,
          overhead_ms: l.median - f.median,
        }) + '\n',
      );
    }
  } finally {
    await dev.stop();
    await new Promise<void>((r) => urlServer.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
}
