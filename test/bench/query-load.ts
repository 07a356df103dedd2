/**
 * The query function under varied load (`npm run bench -- query`, or only these rows with
 * `npm run bench -- query --load-only [--versions 10000,100000] [--duration S] [--rounds N]`).
 * Each snapshot of N *versions* (generate.ts, seed 42) is published to S3 (s3rver) and the
 * built `dist/query.js` runs as a child process with default settings (only the store and the
 * default registry configured), its whole snapshot loaded first.
 *
 * - `random-access`: 32 connections, every request different: random cursor pages (limits 10,
 *   30, 100), random names (`…/versions/latest`, `…/versions`), random `search=` on the
 *   upstream list and on `/api/v1/servers`; half of them accept gzip and br. Peak RSS of the
 *   process (VmHWM) against the target (≤ 180 MB at 10k versions, ≤ 400 MB at 100k), rps and
 *   p99 against a bare node:http server on the same connections.
 * - `search-distinct`: every request a search never asked before (fragments of names, words of
 *   descriptions), on `/v0.1/servers?search=` and on `/api/v1/servers?search=`, 32 connections:
 *   rps (target ≥ 5,000 on 100k versions) and p99 (target ≤ 20 ms), against the bare server with
 *   2 KB bodies and with bodies of the row's median size (`floor_same_bytes_*`), and the server's
 *   CPU per request (`cpu_us_per_request`, /proc: what one core would answer, less noisy than rps).
 * - `compression-stall`: p99 of small requests (a cached page) over 32 connections while a new
 *   ~40 MB response (`/api/v1/servers?format=upstream` over the 100k snapshot, br accepted) is
 *   prepared and compressed, against the same small requests alone in the same run.
 *
 * The function runs with the image's malloc variables (Dockerfile) and the yaml's NODE_OPTIONS;
 * `random-access-limited` adds the yaml's memory limit as MCPREG_MEMORY_LIMIT_MB (the pod's
 * cgroup). Experiments: LOAD_ENV (JSON of more variables), LOAD_NODE_OPTIONS (e.g. --cpu-prof),
 * LOAD_MIX (shares: pages,latest,versions,search,api-search), LOAD_ENCODED (share accepting
 * gzip/br), LOAD_QUERY_JS (run the sources instead of dist/), LOAD_PROBE (print 40 sample
 * requests), LOAD_ONLY_DEFAULTS (skip the limited row), LOAD_SKIP_RANDOM, LOAD_SKIP_SEARCH, LOAD_SKIP_COMPRESSION (leave rows out), LOAD_SEARCH_ROWS
 * (`upstream` or `api`: only that search-distinct row), LOAD_COMPRESSION (the
 * compression row below 100k versions too).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import { publishEntries } from '../api/fixture.ts';
import { s3StoreEnv, startS3Server } from '../servers/s3.ts';
import { iterateUpstreamServers, Rng } from './generate.ts';
import { alternating, get, median, round, rssMb, spawnUntilAnswering, stop } from './harness.ts';
import type { ServerResponse } from '../../lib/formats/upstream-schema.ts';

const require = createRequire(import.meta.url);

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p99: number; p50: number; average: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats?: Record<string, { count: number }>;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

const BARE_SERVER = `
const { createServer } = require('node:http');
const body = Buffer.from(JSON.stringify({ servers: [], metadata: { count: 0 }, pad: 'x'.repeat(Number(process.env.BODY_BYTES || 2000)) }));
createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

/**
 * The function's environment as deployed: the image's malloc variables (Dockerfile `ENV`) and
 * the heap flags of knative/service-query.yaml (`NODE_OPTIONS`), and that file's memory limit.
 */
export function deployedEnv(): { env: Record<string, string>; limitMb: number } {
  const root = join(import.meta.dirname, '..', '..');
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const env: Record<string, string> = {};
  for (const m of dockerfile.matchAll(/\b(MALLOC_[A-Z_]+)=(\S+)/g)) env[m[1]!] = m[2]!;
  const yaml = readFileSync(join(root, 'knative', 'service-query.yaml'), 'utf8');
  const nodeOptions = /name: NODE_OPTIONS\s+value: "?([^"\n]+)"?/.exec(yaml)?.[1];
  if (nodeOptions) env.NODE_OPTIONS = nodeOptions.trim();
  const limit = /limits:[\s\S]*?memory: (\d+)Mi/.exec(yaml)?.[1];
  if (!limit) throw new Error('knative/service-query.yaml: no memory limit in Mi');
  return { env, limitMb: Number(limit) };
}

/** the targets of issue 17, printed beside the figures */
const RSS_TARGET_MB: Record<number, number> = { 10_000: 180, 100_000: 400 };

/** spawn → first 200 on `path`, polling every 5 ms, for at most 60 s */
const start = (script: string, env: Record<string, string>, path: string) => spawnUntilAnswering([script], env, path, { pollMs: 5, timeoutMs: 60_000, what: 'start' });

/** resident memory in MB, one decimal */
function rssMbRounded(pid: number): { peak: number; now: number } {
  const { peak, now } = rssMb(pid);
  return { peak: round(peak), now: round(now) };
}

/** CPU time (user + system) a process has used, in ms (/proc/PID/stat, clock ticks of 10 ms) */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** autocannon's run, and the CPU the server process spent on each request it answered (µs) */
async function withCpu(pid: number, run: () => Promise<AutocannonResult>): Promise<AutocannonResult & { cpuUs: number }> {
  const before = cpuMs(pid);
  const r = await run();
  return { ...r, cpuUs: ((cpuMs(pid) - before) * 1000) / Math.max(1, r.requests.total) };
}

/** N versions, sorted as a snapshot holds them */
function entriesOf(versions: number): ServerResponse[] {
  const entries = [...iterateUpstreamServers(versions, { seed: 42 })];
  return entries.sort((a, b) => (a.server.name === b.server.name ? (a.server.version < b.server.version ? -1 : 1) : a.server.name < b.server.name ? -1 : 1));
}

/**
 * distinct lower-case search terms as people type them: fragments (4–12 characters) of the
 * last segment of a name (`slack-tools-3f`), never of the `io.github.owner/` prefix that
 * nearly every name shares
 */
function searchTerms(entries: ServerResponse[], count: number, rng: Rng): string[] {
  const slugs = [...new Set(entries.map((e) => e.server.name.toLowerCase().split('/').pop()!))];
  const out = new Set<string>();
  for (let tries = 0; out.size < count && tries < count * 20; tries++) {
    const slug = rng.pick(slugs);
    const len = rng.int(4, 12);
    const at = rng.int(0, Math.max(0, slug.length - len));
    const term = slug.slice(at, at + len);
    if (term.length >= 4) out.add(term);
  }
  return [...out];
}

export interface LoadOptions {
  versions: number[];
  duration: number;
  rounds: number;
}

export async function runLoad(options: LoadOptions): Promise<void> {
  const log = (m: string) => process.stderr.write(`bench query (load): ${m}\n`);
  const autocannon = require('autocannon') as Autocannon;
  const queryJs = process.env.LOAD_QUERY_JS ?? join(import.meta.dirname, '..', '..', 'dist', 'query.js');
  const work = await mkdtemp(join(tmpdir(), 'mcpreg-bench-load-'));
  const bareFile = join(work, 'bare.cjs');
  await writeFile(bareFile, BARE_SERVER);
  const s3 = await startS3Server();
  const store = await createS3Store({ ...s3.storeOptions(), prefix: 'load/' });
  const children: ChildProcess[] = [];
  try {
    for (const versions of options.versions) {
      const entries = entriesOf(versions);
      const ref = { namespace: 'bench', name: `v${versions}` };
      log(`publishing ${versions} versions to S3`);
      const snap = await publishEntries(store, ref, entries);
      const deployed = deployedEnv();
      const env: Record<string, string> = {
        ...deployed.env,
        ...s3StoreEnv(s3),
        MCPREG_S3_PREFIX: 'load/',
        MCPREG_DEFAULT_REGISTRY: `${ref.namespace}/${ref.name}`,
        MCPREG_LOG_LEVEL: 'warn',
        // a profile of the function under load: LOAD_NODE_OPTIONS=--cpu-prof (written in the working directory)
        ...(process.env.LOAD_NODE_OPTIONS ? { NODE_OPTIONS: process.env.LOAD_NODE_OPTIONS } : {}),
        // experiments: more variables as JSON
        ...(process.env.LOAD_ENV ? (JSON.parse(process.env.LOAD_ENV) as Record<string, string>) : {}),
      };
      const common = { versions: entries.length, servers: snap.servers, snapshot_mb: round(snap.upstream.length / 1024 / 1024) };
      const lastName = entries[entries.length - 1]!.server.name;
      const rng = new Rng(versions);
      const names = [...new Set(entries.map((e) => e.server.name))];
      const terms = searchTerms(entries, 400_000, rng);
      let termAt = 0;
      const nextTerm = () => terms[termAt++ % terms.length]!;

      const bare = await start(bareFile, {}, '/');
      children.push(bare.child);

      // random access: every request different
      // the mix (shares of cursor pages, latest, versions, upstream search, /api/v1/servers search)
      const mix = (process.env.LOAD_MIX ?? '35,25,10,20,10').split(',').map(Number);
      const cumulative = mix.map((_, i) => mix.slice(0, i + 1).reduce((a, b) => a + b, 0) / mix.reduce((a, b) => a + b, 0));
      const randomPath = (): string => {
        const roll = rng.next();
        if (roll < cumulative[0]!) {
          const e = entries[rng.int(0, entries.length - 1)]!;
          return `/v0.1/servers?cursor=${encodeURIComponent(`${e.server.name}:${e.server.version}`)}&limit=${rng.pick([10, 30, 100])}`;
        }
        if (roll < cumulative[1]!) return `/v0.1/servers/${encodeURIComponent(rng.pick(names))}/versions/latest`;
        if (roll < cumulative[2]!) return `/v0.1/servers/${encodeURIComponent(rng.pick(names))}/versions`;
        if (roll < cumulative[3]!) return `/v0.1/servers?search=${encodeURIComponent(nextTerm())}`;
        return `/api/v1/servers?search=${encodeURIComponent(nextTerm())}`;
      };
      const randomRequest = (req: Record<string, unknown>) => ({ ...req, path: randomPath(), headers: rng.chance(Number(process.env.LOAD_ENCODED ?? 0.5)) ? { 'accept-encoding': 'gzip, deflate, br' } : {} });
      // with default settings (no limit known: the default budget), then with the yaml's limit
      // standing in for the pod's cgroup (MCPREG_MEMORY_LIMIT_MB): peak RSS must stay under it
      const variants: Array<[string, Record<string, string>, number | null]> = [
        ['random-access', {}, RSS_TARGET_MB[versions] ?? null],
        ['random-access-limited', { MCPREG_MEMORY_LIMIT_MB: String(deployed.limitMb) }, deployed.limitMb],
      ];
      for (const [scenario, extra, target] of process.env.LOAD_SKIP_RANDOM ? [] : variants) {
        const ours: AutocannonResult[] = [];
        const floors: AutocannonResult[] = [];
        const rss: number[] = [];
        for (let k = 0; k < options.rounds; k++) {
          // a fresh process per round: each round's peak is its own
          const q = await start(queryJs, { ...env, ...extra }, '/v0.1/servers');
          children.push(q.child);
          const tail = await get(`${q.url}/v0.1/servers?cursor=${encodeURIComponent(lastName)}`);
          if (tail.status !== 200) throw new Error(`warm-up failed: ${tail.status}`);
          const loaded = rssMbRounded(q.child.pid!);
          if (process.env.LOAD_PROBE) {
            for (let i = 0; i < 40; i++) {
              const path = randomPath();
              const r = await get(`${q.url}${path}`, { 'accept-encoding': 'gzip, br' });
              log(`${r.status} ${round(r.ms)} ms ${r.body.length} B ${path}`);
            }
          }
          const runOurs = async () => ours.push(await autocannon({ url: q.url, connections: 32, duration: options.duration, pipelining: 1, requests: [{ method: 'GET', path: '/v0.1/servers', setupRequest: randomRequest }] }));
          const runFloor = async () => floors.push(await autocannon({ url: `${bare.url}/`, connections: 32, duration: options.duration, pipelining: 1 }));
          await alternating(k, runFloor, runOurs);
          const after = rssMbRounded(q.child.pid!);
          rss.push(after.peak);
          log(`${scenario} ${versions}: round ${k + 1}: loaded ${loaded.now} MB, peak ${after.peak} MB, now ${after.now} MB`);
          await stop(q.child);
        }
        for (const m of ours) if (m.errors + m.timeouts > m.requests.total / 1000) throw new Error(`${scenario}: ${m.errors} errors, ${m.timeouts} timeouts of ${m.requests.total}`);
        console.log(
          JSON.stringify({
            scenario,
            ...common,
            connections: 32,
            peak_rss_mb: Math.max(...rss),
            peak_rss_runs_mb: rss,
            target_rss_mb: target,
            ...extra,
            node_options: env.NODE_OPTIONS ?? null,
            rps: round(median(ours.map((m) => m.requests.average))),
            floor_rps: round(median(floors.map((m) => m.requests.average))),
            p99_ms: median(ours.map((m) => m.latency.p99)),
            max_p99_ms: Math.max(...ours.map((m) => m.latency.p99)),
            floor_p99_ms: median(floors.map((m) => m.latency.p99)),
            non2xx: ours.reduce((s, m) => s + m.non2xx, 0),
            errors: ours.reduce((s, m) => s + m.errors + m.timeouts, 0),
            requests: ours.reduce((s, m) => s + m.requests.total, 0),
            rounds: options.rounds,
            duration_s: options.duration,
          }),
        );
        if (process.env.LOAD_ONLY_DEFAULTS) break;
      }

      // distinct searches: every request a term never asked before (no cache can answer it)
      if (!process.env.LOAD_SKIP_SEARCH) {
        const q = await start(queryJs, env, '/v0.1/servers');
        children.push(q.child);
        const tail = await get(`${q.url}/v0.1/servers?cursor=${encodeURIComponent(lastName)}`);
        if (tail.status !== 200) throw new Error(`warm-up failed: ${tail.status}`);
        const rows: Array<[string, (term: string) => string]> = [
          ['search-distinct-upstream', (term) => `/v0.1/servers?search=${encodeURIComponent(term)}`],
          ['search-distinct-api', (term) => `/api/v1/servers?search=${encodeURIComponent(term)}&limit=30`],
        ];
        // LOAD_SEARCH_ROWS=upstream or =api: only that row (e.g. one profile per row)
        for (const [scenario, pathOf] of rows.filter(([s]) => !process.env.LOAD_SEARCH_ROWS || s.endsWith(`-${process.env.LOAD_SEARCH_ROWS}`))) {
          // the first search of the snapshot builds the index: timed on its own
          const firstSearch = await get(`${q.url}${pathOf(nextTerm())}`);
          if (firstSearch.status !== 200) throw new Error(`${scenario}: ${firstSearch.status} ${firstSearch.body.toString().slice(0, 200)}`);
          const second = await get(`${q.url}${pathOf(nextTerm())}`);
          const sizes: number[] = [];
          for (let i = 0; i < 50; i++) sizes.push((await get(`${q.url}${pathOf(nextTerm())}`)).body.length);
          const before = termAt;
          const ours: Array<AutocannonResult & { cpuUs: number }> = [];
          const floors: AutocannonResult[] = [];
          // a second floor: the bare server sending a body of this row's median size (a 32 KB
          // answer costs the kernel and the client more than the 2 KB of the first floor)
          const sameBytes = await start(bareFile, { BODY_BYTES: String(Math.max(0, median(sizes) - 40)) }, '/');
          children.push(sameBytes.child);
          const sameFloors: Array<AutocannonResult & { cpuUs: number }> = [];
          const distinct = { url: q.url, connections: 32, duration: options.duration, pipelining: 1, requests: [{ method: 'GET', path: '/v0.1/servers', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: pathOf(nextTerm()) }) }] };
          for (let k = 0; k < options.rounds; k++) {
            const runOurs = async () => ours.push(await withCpu(q.child.pid!, () => autocannon(distinct)));
            const runFloor = async () => {
              floors.push(await autocannon({ url: `${bare.url}/`, connections: 32, duration: options.duration, pipelining: 1 }));
              sameFloors.push(await withCpu(sameBytes.child.pid!, () => autocannon({ url: `${sameBytes.url}/`, connections: 32, duration: options.duration, pipelining: 1 })));
            };
            await alternating(k, runFloor, runOurs);
          }
          await stop(sameBytes.child);
          for (const m of ours) if (m.non2xx > 0 || m.errors + m.timeouts > m.requests.total / 1000) throw new Error(`${scenario}: ${m.non2xx} non-2xx, ${m.errors} errors, ${m.timeouts} timeouts`);
          console.log(
            JSON.stringify({
              scenario,
              ...common,
              example: pathOf(terms[before % terms.length]!),
              distinct_terms: terms.length,
              repeated: termAt > terms.length,
              first_search_ms: round(firstSearch.ms),
              second_search_ms: round(second.ms),
              median_body_bytes: median(sizes),
              rps: round(median(ours.map((m) => m.requests.average))),
              rps_runs: ours.map((m) => round(m.requests.average)),
              target_rps: 5000,
              floor_rps: round(median(floors.map((m) => m.requests.average))),
              p99_ms: median(ours.map((m) => m.latency.p99)),
              max_p99_ms: Math.max(...ours.map((m) => m.latency.p99)),
              target_p99_ms: 20,
              floor_p99_ms: median(floors.map((m) => m.latency.p99)),
              floor_same_bytes_rps: round(median(sameFloors.map((m) => m.requests.average))),
              floor_same_bytes_p99_ms: median(sameFloors.map((m) => m.latency.p99)),
              // CPU of the server process per answered request: far less moved by the machine's
              // load than rps (1e6 / cpu_us is what one core would answer)
              cpu_us_per_request: round(median(ours.map((m) => m.cpuUs))),
              floor_same_bytes_cpu_us_per_request: round(median(sameFloors.map((m) => m.cpuUs))),
              peak_rss_mb: rssMbRounded(q.child.pid!).peak,
              connections: 32,
              rounds: options.rounds,
              duration_s: options.duration,
            }),
          );
        }
        await stop(q.child);
      }

      // compression: small requests while large new representations are compressed
      if ((versions >= 100_000 || process.env.LOAD_COMPRESSION) && !process.env.LOAD_SKIP_COMPRESSION) {
        const q = await start(queryJs, env, '/v0.1/servers');
        children.push(q.child);
        const tail = await get(`${q.url}/v0.1/servers?cursor=${encodeURIComponent(lastName)}`);
        if (tail.status !== 200) throw new Error(`warm-up failed: ${tail.status}`);
        // the ToolHive and upstream views of the snapshot parsed (not what is measured)
        for (const path of ['/api/v1/servers?search=zzzz-none', '/api/v1/servers?format=upstream&search=zzzz-none']) if ((await get(`${q.url}${path}`)).status !== 200) throw new Error(`warm-up ${path} failed`);
        const small = `${q.url}/v0.1/servers?limit=5`;
        const smallEncoded = { 'accept-encoding': 'gzip, br' };
        if ((await get(small, smallEncoded)).status !== 200) throw new Error('small request failed');
        const large = [`/registries/${ref.namespace}/${ref.name}/registry.json`, '/api/v1/servers?format=upstream', '/api/v1/servers'];
        const smallLoad = () => autocannon({ url: small, headers: smallEncoded, connections: 32, duration: options.duration, pipelining: 1 });
        const alone = await smallLoad();
        const during = smallLoad();
        const bigs: Array<{ path: string; encoding: string; ms: number; bytes: number; identity_bytes?: number }> = [];
        const started = performance.now();
        for (let pass = 0; performance.now() - started < options.duration * 1000 - 500 && pass < 2; pass++) {
          for (const path of large) {
            for (const encoding of ['br', 'gzip']) {
              const r = await get(`${q.url}${path}`, { 'accept-encoding': encoding });
              if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
              bigs.push({ path, encoding: String(r.headers['content-encoding'] ?? 'identity'), ms: round(r.ms), bytes: r.body.length });
            }
          }
        }
        const withLarge = await during;
        const identity = await get(`${q.url}${large[1]}`);
        console.log(
          JSON.stringify({
            scenario: 'compression-stall',
            ...common,
            large_identity_mb: round(identity.body.length / 1024 / 1024),
            small_path: '/v0.1/servers?limit=5',
            p99_alone_ms: alone.latency.p99,
            p99_during_ms: withLarge.latency.p99,
            max_during_ms: withLarge.latency.max,
            rps_alone: round(alone.requests.average),
            rps_during: round(withLarge.requests.average),
            large_requests: bigs,
            peak_rss_mb: rssMbRounded(q.child.pid!).peak,
            connections: 32,
            duration_s: options.duration,
          }),
        );
        await stop(q.child);
      }
    }
  } finally {
    for (const c of children) await stop(c);
    store.close();
    await s3.stop();
    await rm(work, { recursive: true, force: true });
  }
}
