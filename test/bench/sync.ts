/**
 * `npm run bench -- sync [scenario…]`: the sync pipeline on generated data shaped like the
 * real fixtures, into S3 (s3rver behind test/servers/s3.ts). One JSON line per scenario:
 * `scenario`, `servers` (entries: upstream versions or ToolHive servers), `wall_ms`,
 * `peak_rss_mb`, `floor_ms` (JSON.parse + JSON.stringify of the same input bytes, same
 * run) and `ratio` (= wall/floor), plus `object_writes` (S3 PUTs the scenario caused).
 * `cpu_ms` / `floor_cpu_ms` / `cpu_ratio` are the same in CPU time of the child (user + system,
 * GC threads included): on a machine shared with other work, wall times move by 2-3x from one
 * minute to the next, CPU time much less (it still includes the slow-down of shared caches).
 * Measured (issue 17, five runs each before/after, medians): url-10k sync CPU 770 -> 709 ms,
 * wall ratio 4.70 -> 4.43; url-100k sync CPU 5.69 -> 4.73 s, cpu_ratio 3.45 -> 3.01, wall ratio
 * 3.08 -> 3.37 (wall ratios spanned 2.6-16 under the machine's load in the same hour).
 * Each sync runs in a fresh process of its own (sync-child.ts), so that peak RSS (VmHWM) is
 * the sync's alone, with the Node options the sync function runs with in production
 * (knative/service-sync.yaml: heap limit, young-generation size). The headline numbers are a
 * cold process's first sync; `warm_wall_ms` / `warm_ratio` add the same sync in a process that
 * has already run one (a function instance handling a ping of many registries), measured in
 * another child so that it does not touch the cold numbers.
 *
 * `aggregate-10x10k`: ten url-source members of 10k versions each (different names, some
 * shared) synced first, then one aggregate of them, its members looked up on the embedded
 * control plane; the floor is parsing and writing the ten members' published upstream.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpServer } from '../servers/http.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';
import { startUpstreamApi, type Entry } from '../servers/upstream-api.ts';
import { startGitServer, TestRepo } from '../servers/git.ts';
import { toolhiveRegistryJson, upstreamListJson, generateUpstreamServers } from './generate.ts';
import { BUNDLE_EXTERNALS } from '../../scripts/build-externals.ts';

const CHILD_SOURCE = join(import.meta.dirname, 'sync-child.ts');

/**
 * The child runs bundled as production is (scripts/build.ts: no type stripping, code splitting,
 * so what is imported lazily — the Kubernetes client, isomorphic-git — stays unloaded unless
 * the source needs it).
 */
async function bundleChild(dir: string): Promise<string> {
  const { build } = await import('esbuild');
  const outdir = join(dir, 'child');
  await build({
    entryPoints: { 'sync-child': CHILD_SOURCE },
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    // as scripts/build.ts: native add-ons stay outside the bundle
    external: BUNDLE_EXTERNALS,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return join(outdir, 'sync-child.mjs');
}

let CHILD = CHILD_SOURCE;

interface ChildLine {
  outcome: string;
  fetch?: string;
  error?: string;
  published: number;
  wall_ms: number;
  sync_ms: number;
  peak_rss_mb: number;
  floor_ms?: number;
  cpu_ms: number;
  floor_cpu_ms?: number;
}

/**
 * The Node options the sync function runs with in production (NODE_OPTIONS of the sync
 * Service in knative/), so that heap limits and GC sizing — and with them peak RSS — are the
 * deployed ones. The floor is measured in the same process, under the same options.
 */
function productionNodeOptions(): string[] {
  const file = join(import.meta.dirname, '../../knative/service-sync.yaml');
  const service = parseYaml(readFileSync(file, 'utf8')) as { spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } } };
  const value = service.spec?.template?.spec?.containers?.[0]?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
  if (!value) throw new Error(`no NODE_OPTIONS in ${file}`);
  return value.split(/\s+/).filter(Boolean);
}

const NODE_OPTIONS = productionNodeOptions();

function runChild(config: object): Promise<ChildLine> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_OPTIONS, CHILD, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1);
      if (code !== 0 || !line) return reject(new Error(`sync child exited ${code}: ${out}`));
      resolve(JSON.parse(line) as ChildLine);
    });
  });
}

async function puts(s3: TestS3): Promise<number> {
  return (await s3.counts()).put;
}

function emit(fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(fields) + '\n');
}

async function scenarioPair(s3: TestS3, name: string, servers: number, spec: object, floorFile: string | string[] | undefined, ref: { namespace: string; name: string }, extra: { kubeconfig?: string } = {}) {
  const store = s3.storeOptions();
  let before = await puts(s3);
  const first = await runChild({ spec, store, ref, floorFile, ...extra });
  const firstWrites = (await puts(s3)) - before;
  if (first.outcome !== 'published') throw new Error(`${name}: ${first.outcome} ${first.error ?? ''}`);
  // the same sync again in a process that has already run one (extra fields; cold stays the headline)
  const warm = await runChild({ spec, store, ref, floorFile, warm: true, ...extra });
  if (warm.outcome !== 'published') throw new Error(`${name} (warm): ${warm.outcome} ${warm.error ?? ''}`);
  emit({
    scenario: name,
    servers,
    wall_ms: first.wall_ms,
    peak_rss_mb: first.peak_rss_mb,
    floor_ms: first.floor_ms,
    ratio: first.floor_ms ? Number((first.wall_ms / first.floor_ms).toFixed(2)) : undefined,
    cpu_ms: first.cpu_ms,
    floor_cpu_ms: first.floor_cpu_ms,
    cpu_ratio: first.floor_cpu_ms ? Number((first.cpu_ms / first.floor_cpu_ms).toFixed(2)) : undefined,
    object_writes: firstWrites,
    warm_wall_ms: warm.wall_ms,
    warm_ratio: warm.floor_ms ? Number((warm.wall_ms / warm.floor_ms).toFixed(2)) : undefined,
  });
  before = await puts(s3);
  const again = await runChild({ spec, store, ref, ...extra });
  const againWrites = (await puts(s3)) - before;
  emit({ scenario: `${name}-unchanged`, servers, wall_ms: again.wall_ms, peak_rss_mb: again.peak_rss_mb, outcome: again.outcome, fetch: again.fetch, object_writes: againWrites });
}

const ALL = ['url-1k', 'url-10k', 'url-100k', 'registry-10k', 'git-1k', 'aggregate-10x10k'] as const;

/** ten members of 10k versions each, synced from URLs, then the aggregate of them */
async function aggregateScenario(s3: TestS3, http: Awaited<ReturnType<typeof startHttpServer>>, work: string, scenario: string): Promise<void> {
  const { startKube } = await import('../harness/kube.ts');
  const { CustomObjectsApi } = await import('@kubernetes/client-node');
  const { createS3Store } = await import('../../lib/snapshots/s3-store.ts');
  const { readPointer } = await import('../../lib/snapshots/read.ts');
  const namespace = 'bench';
  const cp = await startKube({ namespaces: [namespace] });
  const store = await createS3Store(s3.storeOptions());
  try {
    const kubeconfig = join(work, 'kubeconfig');
    await writeFile(kubeconfig, cp.kubeConfig().exportConfig());
    const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    const create = (name: string, spec: object) =>
      custom.createNamespacedCustomObject({ group: 'toolhive.stacklok.io', version: 'v1alpha1', namespace, plural: 'mcpregistries', body: { apiVersion: 'toolhive.stacklok.io/v1alpha1', kind: 'MCPRegistry', metadata: { name }, spec } });
    const members: { name: string }[] = [];
    const floorFiles: string[] = [];
    for (let i = 0; i < 10; i++) {
      const name = `${scenario}-m${i}`;
      http.route(`/${name}.json`, { body: upstreamListJson(10_000, { seed: 101 + i }), etag: `"${name}"` });
      const spec = { source: { type: 'url', url: { url: `${http.url}/${name}.json`, allowHttp: true } } };
      await create(name, spec);
      const synced = await runChild({ spec, store: s3.storeOptions(), ref: { namespace, name } });
      if (synced.outcome !== 'published') throw new Error(`${name}: ${synced.outcome} ${synced.error ?? ''}`);
      // the floor: the bytes the aggregate reads, the member's published upstream.json
      const pointer = (await readPointer(store, { namespace, name }))!.pointer;
      const object = await store.get(pointer.objects.upstream);
      if (!object || object === 'not-modified') throw new Error(`${name}: no upstream.json`);
      const file = join(work, `${name}.upstream.json`);
      await writeFile(file, object.body);
      floorFiles.push(file);
      members.push({ name });
    }
    const spec = { source: { type: 'aggregate', aggregate: { registries: members } } };
    await create(scenario, spec);
    await scenarioPair(s3, scenario, 100_000, spec, floorFiles, { namespace, name: scenario }, { kubeconfig });
  } finally {
    store.close?.();
    await cp.stop();
  }
}

export async function run(args: string[]): Promise<void> {
  const wanted = args.length > 0 ? args : [...ALL];
  const work = await mkdtemp(join(tmpdir(), 'mcpreg-bench-sync-'));
  CHILD = await bundleChild(work);
  const s3 = await startS3Server({ verifySignatures: false });
  const http = await startHttpServer();
  try {
    for (const scenario of wanted) {
      const ref = { namespace: 'bench', name: scenario };
      if (scenario.startsWith('url-')) {
        const n = { 'url-1k': 1_000, 'url-10k': 10_000, 'url-100k': 100_000 }[scenario as 'url-1k'];
        const bytes = upstreamListJson(n);
        const file = join(work, `${scenario}.json`);
        await writeFile(file, bytes);
        http.route(`/${scenario}.json`, { body: bytes, etag: `"${scenario}"` });
        await scenarioPair(s3, scenario, n, { source: { type: 'url', url: { url: `${http.url}/${scenario}.json`, allowHttp: true } } }, file, ref);
      } else if (scenario === 'registry-10k') {
        const entries = generateUpstreamServers(10_000) as unknown as Entry[];
        const api = await startUpstreamApi({ entries, frozen: true });
        try {
          const file = join(work, `${scenario}.json`);
          await writeFile(file, JSON.stringify({ servers: entries, metadata: { count: entries.length } }));
          await scenarioPair(s3, scenario, entries.length, { source: { type: 'registry', registry: { url: api.url, allowHttp: true } } }, file, ref);
        } finally {
          await api.close();
        }
      } else if (scenario === 'git-1k') {
        const root = join(work, 'git');
        const repo = new TestRepo(root, 'registry');
        const bytes = toolhiveRegistryJson(1_000);
        const file = join(work, `${scenario}.json`);
        await writeFile(file, bytes);
        repo.commit({ files: { 'registry.json': bytes } });
        // a push this small leaves loose objects, which upload-pack deflates again for every
        // fetch; hosting services serve from packs (and so does this server after a repack)
        execFileSync('git', ['-C', repo.bare, 'repack', '-a', '-d', '-q']);
        const git = await startGitServer({ root });
        try {
          await scenarioPair(s3, scenario, 1_000, { source: { type: 'git', git: { repository: `${git.url}/registry.git`, branch: 'main', allowHttp: true } } }, file, ref);
        } finally {
          await git.close();
          repo.dispose();
        }
      } else if (scenario === 'aggregate-10x10k') {
        await aggregateScenario(s3, http, work, scenario);
      } else {
        throw new Error(`unknown sync scenario ${scenario} (known: ${ALL.join(', ')})`);
      }
    }
  } finally {
    await http.close();
    await s3.stop();
    await rm(work, { recursive: true, force: true });
  }
}
