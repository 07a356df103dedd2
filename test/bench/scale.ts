/**
 * `npm run bench -- scale [--registries N] [--servers N] [--concurrency N] [--pings N] [--duration S]`:
 * many MCPRegistries (default 1,000 of 100 servers each, ten per namespace) on the embedded
 * control plane, snapshots in S3 (s3rver, test/servers/s3.ts), with the built functions
 * (dist/sync.js, dist/query.js) in processes of their own. The registries read a
 * ConfigMap (every fourth), the others a URL on a loopback HTTP server. One JSON line per scenario:
 *
 * - `scale-ping-all-due`: one resync ping (a CloudEvent POSTed to the sync function) finds
 *   every registry due (never synced) and syncs them all with MCPREG_SYNC_CONCURRENCY (default:
 *   the value in knative/config.yaml): `wall_ms` until the ping is answered, `per_registry_ms`,
 *   `api_requests` as the control plane received them (counted by an HTTP proxy in front of it,
 *   as in deploy.ts), `peak_rss_mb` of the sync process (VmHWM), every registry Ready after.
 * - `scale-ping-none-due`: pings when nothing is due (each registry synced, interval 1h):
 *   `wall_ms` (median and max of `pings`), `api_requests` and `lists` per ping, against
 *   `floor_ms`: the same lists made directly through the same proxy. Targets:
 *   ≤ 200 ms and ≤ 2 list calls of registries and their sources (`registry_lists`; the job
 *   kinds' own sweeps are counted apart as `job_lists`).
 * - `scale-query-registries` / `scale-query-servers`: `/api/v1/registries` and
 *   `/api/v1/servers?limit=100` across every registry: `cold_ms` (spawn → first 200, a fresh
 *   process each), then warm p99 (autocannon, 8 connections, `duration` s; target ≤ 100 ms),
 *   `bytes`, and `peak_rss_mb` of the query process; `floor_rps` / `floor_p99_ms` of a bare
 *   node:http server returning the same bytes, alternating with ours.
 *
 * The sync and query functions run with the NODE_OPTIONS of their knative/ Services.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi, setHeaderOptions } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { startHttpServer } from '../servers/http.ts';
import { s3StoreEnv, startS3Server } from '../servers/s3.ts';
import { startKube } from '../harness/kube.ts';
import { toolhiveRegistryJson } from './generate.ts';
import { startObservingProxy, via } from './kube-proxy.ts';
import { median, round, rssMb, spawnUntilAnswering, stop } from './harness.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** the floor of the query rows: the plainest node:http server returning the same bytes (as in query.ts) */
const BARE_SERVER = `
const { createServer } = require('node:http');
const { readFileSync } = require('node:fs');
const body = readFileSync(process.env.BODY_FILE);
createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;
const require = createRequire(import.meta.url);
const G = 'toolhive.stacklok.io';
const PER_NAMESPACE = 10;
/** every 4th registry reads a ConfigMap (each up to 1 MiB), the others a URL */
const CONFIGMAP_EVERY = 4;

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p99: number; p50: number; max: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

interface Counts {
  total: number;
  /** method and path of the first requests (what a cheap pass does) */
  paths: string[];
  lists: Record<string, number>;
  gets: number;
  writes: number;
  events: number;
}

const emptyCounts = (): Counts => ({ total: 0, paths: [], lists: {}, gets: 0, writes: 0, events: 0 });

/** an HTTP proxy in front of the control plane that counts what it forwards, lists by resource */
async function countingProxy(target: URL): Promise<{ server: Server; url: string; counts: Counts; reset(): void }> {
  let counts = emptyCounts();
  const { server, url } = await startObservingProxy(target, (req, path) => {
    const resource = /\/([a-z0-9]+)(?:\?|$)/.exec(path.split('?')[0]! + '?')?.[1] ?? '?';
    if (/\/events(\?|$)/.test(path)) counts.events++;
    else {
      counts.total++;
      if (counts.paths.length < 20) counts.paths.push(`${req.method} ${path.split('?')[0]}`);
      if (req.method !== 'GET') counts.writes++;
      else if (/\/namespaces\/[^/]+\/[^/]+\/[^/?]+(\?|$)/.test(path) && !/\/namespaces\/[^/]+\/[^/]+(\?|$)/.test(path)) counts.gets++;
      else counts.lists[resource] = (counts.lists[resource] ?? 0) + 1;
    }
  });
  return {
    server,
    url,
    get counts() {
      return counts;
    },
    reset: () => {
      counts = emptyCounts();
    },
  };
}

function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** spawn → first `okStatus` on `path` (polling every millisecond until the port accepts) */
const spawnUntil = (args: string[], env: Record<string, string>, path: string, okStatus = 200) => spawnUntilAnswering(args, env, path, { okStatus });

const peakRssMb = (pid: number): number => Math.round(rssMb(pid).peak);

/** NODE_OPTIONS and one env value of a knative/ Service or the shared config */
function knativeValue(file: string, name: string): string | undefined {
  const docs = readFileSync(join(ROOT, 'knative', file), 'utf8')
    .split(/^---$/m)
    .map((d) => parseYaml(d) as Record<string, unknown> | null);
  for (const doc of docs) {
    const data = (doc?.data ?? {}) as Record<string, string>;
    if (data[name] !== undefined) return data[name];
    const containers = ((doc?.spec as { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } } | undefined)?.template?.spec?.containers ?? []);
    const found = containers[0]?.env?.find((e) => e.name === name)?.value;
    if (found !== undefined) return found;
  }
  return undefined;
}

function ping(url: string, id: number): Promise<{ status: number; body: Buffer }> {
  return request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-type': 'dev.knative.sources.ping',
      'ce-source': '/apis/v1/namespaces/mcp-registry/pingsources/mcp-registry-resync',
      'ce-id': `bench-ping-${id}`,
    },
    body: JSON.stringify({ reason: 'resync' }),
  });
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { registries: { type: 'string' }, servers: { type: 'string' }, concurrency: { type: 'string' }, pings: { type: 'string' }, duration: { type: 'string' }, runs: { type: 'string' } },
  });
  const registries = Number(values.registries ?? 1000);
  const servers = Number(values.servers ?? 100);
  const concurrency = values.concurrency ?? knativeValue('config.yaml', 'MCPREG_SYNC_CONCURRENCY') ?? '2';
  const pings = Number(values.pings ?? 5);
  const duration = Number(values.duration ?? 5);
  const coldRuns = Number(values.runs ?? 3);
  const log = (m: string) => process.stderr.write(`bench scale: ${m}\n`);

  log('building dist/');
  const built = spawnSync(process.execPath, ['scripts/build.ts'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error('build failed');

  const namespaces = Array.from({ length: Math.ceil(registries / PER_NAMESPACE) }, (_, i) => `team-${String(i).padStart(3, '0')}`);
  const cp = await startKube({ namespaces: ['mcp-registry', ...namespaces] });
  const work = await mkdtemp(join(tmpdir(), 'mcpreg-bench-scale-'));
  const proxy = await countingProxy(new URL(cp.kubeConfig().getCurrentCluster()!.server));
  const s3 = await startS3Server();
  const http = await startHttpServer();
  const children: ChildProcess[] = [];
  try {
    const kc = cp.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const refs: Array<{ namespace: string; name: string }> = [];
    log(`creating ${registries} registries of ${servers} servers in ${namespaces.length} namespaces`);
    for (let i = 0; i < registries; i++) {
      const namespace = namespaces[Math.floor(i / PER_NAMESPACE)]!;
      const name = `reg-${String(i).padStart(4, '0')}`;
      let source: object;
      if (i % CONFIGMAP_EVERY === 0) {
        // a ConfigMap holds at most 1 MiB: the generated entries are large, so take the first seed whose document fits
        let doc = toolhiveRegistryJson(servers, { seed: 1000 + i });
        for (let seed = 1; doc.length > 1_000_000 && seed < 50; seed++) doc = toolhiveRegistryJson(servers, { seed: 100_000 * seed + i });
        await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `${name}-data` }, data: { 'registry.json': doc.toString('utf8') } } });
        source = { type: 'configmap', configMap: { name: `${name}-data`, key: 'registry.json' } };
      } else {
        const doc = toolhiveRegistryJson(servers, { seed: 1000 + i });
        http.route(`/${name}.json`, { body: doc, etag: `"${name}"` });
        source = { type: 'url', url: { url: `${http.url}/${name}.json`, allowHttp: true } };
      }
      await custom.createNamespacedCustomObject({ group: G, version: 'v1alpha1', plural: 'mcpregistries', namespace, body: { apiVersion: `${G}/v1alpha1`, kind: 'MCPRegistry', metadata: { name }, spec: { source, syncPolicy: { interval: '1h' } } } });
      refs.push({ namespace, name });
    }

    const kubeconfig = join(work, 'kubeconfig');
    await writeFile(kubeconfig, via(kc, proxy.url).exportConfig());
    const storeEnv = {
      ...s3StoreEnv(s3),
      MCPREG_LOG_LEVEL: 'warn',
    };
    const syncNodeOptions = knativeValue('service-sync.yaml', 'NODE_OPTIONS') ?? '';
    const syncEnv = { ...storeEnv, KUBECONFIG: kubeconfig, MCPREG_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8', MCPREG_SYNC_CONCURRENCY: concurrency, MCPREG_LEASE_NAMESPACE: 'mcp-registry', NODE_OPTIONS: syncNodeOptions };
    const sync = await spawnUntil([join(ROOT, 'dist', 'sync.js')], syncEnv, '/healthz');
    children.push(sync.child);
    const rssBefore = peakRssMb(sync.child.pid!);

    // every registry due: one ping syncs them all
    proxy.reset();
    log(`ping: syncing ${registries} registries, concurrency ${concurrency}`);
    const t0 = performance.now();
    const first = await ping(sync.url, 0);
    const allDueMs = performance.now() - t0;
    if (first.status !== 204) throw new Error(`ping answered ${first.status}: ${first.body.toString().slice(0, 300)}`);
    const allDueCounts = proxy.counts;
    const listed = (await custom.listClusterCustomObject({ group: G, version: 'v1alpha1', plural: 'mcpregistries' })) as { items: Array<{ status?: { phase?: string; serverCount?: number } }> };
    const ready = listed.items.filter((r) => r.status?.phase === 'Ready').length;
    const syncRss = peakRssMb(sync.child.pid!);
    process.stdout.write(
      JSON.stringify({
        scenario: 'scale-ping-all-due',
        registries,
        servers_each: servers,
        namespaces: namespaces.length,
        concurrency: Number(concurrency),
        wall_ms: Math.round(allDueMs),
        per_registry_ms: round(allDueMs / registries),
        ready,
        api_requests: allDueCounts.total,
        api_per_registry: round(allDueCounts.total / registries),
        events: allDueCounts.events,
        peak_rss_mb: syncRss,
        idle_rss_mb: rssBefore,
        node_options: syncNodeOptions,
      }) + '\n',
    );
    if (ready !== registries) {
      console.error(`bench scale: only ${ready} of ${registries} registries are Ready after the ping`);
      process.exitCode = 1;
    }

    // nothing due: what the ping's scheduling pass costs
    const walls: number[] = [];
    const perPing: Counts[] = [];
    for (let i = 1; i <= pings; i++) {
      proxy.reset();
      const p0 = performance.now();
      const r = await ping(sync.url, i);
      walls.push(performance.now() - p0);
      if (r.status !== 204) throw new Error(`ping answered ${r.status}`);
      perPing.push(proxy.counts);
    }
    // the floor: the same lists, made directly from here through the same proxy (pages of 500, as the sync function asks)
    const direct = via(kc, proxy.url);
    const directCustom = direct.makeApiClient(CustomObjectsApi);
    const directCore = direct.makeApiClient(CoreV1Api);
    const listAll = async (plural: string) => {
      let cont: string | undefined;
      do {
        const page = (await directCustom.listClusterCustomObject({ group: G, version: 'v1alpha1', plural, limit: 500, ...(cont ? { _continue: cont } : {}) })) as { metadata?: { continue?: string } };
        cont = page.metadata?.continue || undefined;
      } while (cont);
    };
    const floors: number[] = [];
    // (counts of the pings are kept above; the floor's go to a fresh count)
    proxy.reset();
    for (let i = 0; i < pings; i++) {
      const f0 = performance.now();
      await Promise.all([
        listAll('mcpregistries'),
        listAll('mcpregistrysyncjobs'),
        directCore.listConfigMapForAllNamespaces({ labelSelector: `${G}/registry-source=true` }, setHeaderOptions('Accept', 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json')),
      ]);
      await Promise.all([listAll('mcpregistryimportjobs'), listAll('mcpregistryexportjobs')]);
      floors.push(performance.now() - f0);
    }
    const last = perPing.at(-1)!;
    const registryLists = (last.lists.mcpregistries ?? 0) + (last.lists.configmaps ?? 0);
    const jobLists = (last.lists.mcpregistrysyncjobs ?? 0) + (last.lists.mcpregistryimportjobs ?? 0) + (last.lists.mcpregistryexportjobs ?? 0);
    process.stdout.write(
      JSON.stringify({
        scenario: 'scale-ping-none-due',
        registries,
        wall_ms: round(median(walls)),
        max_wall_ms: round(Math.max(...walls)),
        walls_ms: walls.map(round),
        floor_ms: round(median(floors)),
        ratio: Math.round((median(walls) / median(floors)) * 100) / 100,
        api_requests: last.total,
        gets: last.gets,
        writes: last.writes,
        lists: last.lists,
        requests: last.paths,
        registry_lists: registryLists,
        job_lists: jobLists,
        peak_rss_mb: peakRssMb(sync.child.pid!),
      }) + '\n',
    );
    if (last.writes > 0) {
      console.error(`bench scale: a ping with nothing due wrote ${last.writes} times`);
      process.exitCode = 1;
    }
    await stop(sync.child);

    // the query function across every registry
    const queryNodeOptions = knativeValue('service-query.yaml', 'NODE_OPTIONS') ?? '';
    const queryEnv = { ...storeEnv, NODE_OPTIONS: queryNodeOptions };
    const queryJs = join(ROOT, 'dist', 'query.js');
    const bareFile = join(work, 'bare.cjs');
    await writeFile(bareFile, BARE_SERVER);
    const autocannon = require('autocannon') as Autocannon;
    for (const [scenario, path] of [
      ['scale-query-registries', '/api/v1/registries'],
      ['scale-query-servers', `/api/v1/servers?limit=100`],
    ] as const) {
      const colds: number[] = [];
      for (let i = 0; i < coldRuns; i++) {
        const c = await spawnUntil([queryJs], queryEnv, path);
        colds.push(c.ms);
        await stop(c.child);
      }
      const warm = await spawnUntil([queryJs], queryEnv, path);
      children.push(warm.child);
      const sample = await request(`${warm.url}${path}`);
      const body = JSON.parse(sample.body.toString('utf8')) as { registries?: unknown[]; servers?: unknown[]; total?: number };
      // the floor: a bare node:http server returning the same bytes, alternating with ours
      const bodyFile = join(work, `${scenario}.json`);
      await writeFile(bodyFile, sample.body);
      const bare = await spawnUntil([bareFile], { BODY_FILE: bodyFile }, '/');
      const results: AutocannonResult[] = [];
      const floors: AutocannonResult[] = [];
      for (let round = 0; round < 2; round++) {
        const ours = () => autocannon({ url: `${warm.url}${path}`, connections: 8, duration, pipelining: 1 });
        const floor = () => autocannon({ url: `${bare.url}/`, connections: 8, duration, pipelining: 1 });
        if (round % 2 === 0) {
          floors.push(await floor());
          results.push(await ours());
        } else {
          results.push(await ours());
          floors.push(await floor());
        }
      }
      await stop(bare.child);
      for (const m of results) if (m.non2xx > 0 || m.errors > 0) throw new Error(`${scenario}: ${m.non2xx} non-2xx, ${m.errors} errors`);
      process.stdout.write(
        JSON.stringify({
          scenario,
          registries,
          path,
          items: body.registries?.length ?? body.servers?.length,
          bytes: sample.body.length,
          cold_ms: round(median(colds)),
          colds_ms: colds.map(round),
          rps: round(median(results.map((m) => m.requests.average))),
          p50_ms: median(results.map((m) => m.latency.p50)),
          p99_ms: median(results.map((m) => m.latency.p99)),
          max_p99_ms: Math.max(...results.map((m) => m.latency.p99)),
          max_ms: Math.max(...results.map((m) => m.latency.max)),
          floor_rps: round(median(floors.map((m) => m.requests.average))),
          floor_p99_ms: median(floors.map((m) => m.latency.p99)),
          peak_rss_mb: peakRssMb(warm.child.pid!),
          connections: 8,
          duration_s: duration,
          node_options: queryNodeOptions,
        }) + '\n',
      );
      await stop(warm.child);
    }
  } finally {
    for (const c of children) await stop(c);
    await http.close();
    proxy.server.close();
    await s3.stop();
    await cp.stop();
    await rm(work, { recursive: true, force: true });
  }
}
