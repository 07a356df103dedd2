/**
 * `npm run test:conformance`: schemathesis against local mode (the examples synced, the
 * upstream mirror also the default registry), three runs, each bounded in examples and time:
 *
 *   1. the official registry OpenAPI spec (../shared/schemas/mcp/registry-openapi.2025-12-01.yaml,
 *      beside the checkout) on the per-registry base /registries/default/upstream-mirror;
 *   2. the same spec on the default-registry root (/v0.1 served for MCPREG_DEFAULT_REGISTRY);
 *   3. our own /openapi.json on the whole query API.
 *
 * Every failure must be accepted by an entry of the reviewed allow-list
 * (test/conformance/allow-list.json, each entry with its reason), else the run fails and
 * prints it with a curl line to reproduce. schemathesis is installed from PyPI into a cache
 * directory outside the checkout (scripts/conformance/schemathesis.ts). Without python3 the
 * suite says so and skips (exit 0).
 *
 * Knobs: MCPREG_CONFORMANCE_MAX_TIME (seconds per run, default 60), MCPREG_CONFORMANCE_MAX_EXAMPLES
 * (per operation, default 25), MCPREG_CONFORMANCE_SEED (default 1; vary it to explore more).
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDev } from '../../lib/local/dev.ts';
import { silentLogger } from '../../lib/log.ts';
import { describeFailure, failureCollector, judge, parseAllowList, type Failure, type SpecName } from './report.ts';
import { ensureSchemathesis, pythonMissing } from './schemathesis.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const OFFICIAL_SPEC = join(ROOT, '..', 'shared', 'schemas', 'mcp', 'registry-openapi.2025-12-01.yaml');
const ALLOW_LIST = join(ROOT, 'test', 'conformance', 'allow-list.json');
const REGISTRY = 'default/upstream-mirror';

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1, not ${JSON.stringify(raw)}`);
  return n;
}

function runSt(st: string, args: string[], cwd: string): Promise<number> {
  // asynchronous: local mode answers in this process while schemathesis runs
  return new Promise((resolve, reject) => {
    // in the run's temporary directory: schemathesis writes a .schemathesis/ there
    const child = spawn(st, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      // the summary block; the failures are printed from the report, against the allow-list
      const summary = out.lastIndexOf('SUMMARY');
      process.stderr.write(`${summary >= 0 ? out.slice(out.lastIndexOf('\n', summary)) : out.slice(-3000)}\n`);
      resolve(code ?? 1);
    });
  });
}

async function waitSynced(queryUrl: string, expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    const res = await fetch(`${queryUrl}/api/v1/registries`).catch(() => undefined);
    if (res?.ok) {
      seen = ((await res.json()) as { registries: Array<{ namespace: string; name: string }> }).registries.map((r) => `${r.namespace}/${r.name}`);
      if (seen.length >= expected && seen.includes(REGISTRY)) return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`conformance: the example registries did not all sync within ${timeoutMs / 1000} s (served: ${seen.join(', ') || 'none'})`);
}

async function main(): Promise<number> {
  const missing = pythonMissing();
  if (missing) {
    console.log(`test:conformance: SKIPPED: ${missing} (schemathesis needs Python 3 with venv)`);
    return 0;
  }
  if (!existsSync(OFFICIAL_SPEC)) throw new Error(`conformance: the official spec is not at ${OFFICIAL_SPEC} (the checkout must sit beside shared/)`);
  const allowList = parseAllowList(await readFile(ALLOW_LIST, 'utf8'), 'test/conformance/allow-list.json');
  const maxTime = positive('MCPREG_CONFORMANCE_MAX_TIME', 60);
  const maxExamples = positive('MCPREG_CONFORMANCE_MAX_EXAMPLES', 25);
  const seed = positive('MCPREG_CONFORMANCE_SEED', 1);
  const st = await ensureSchemathesis();

  const dir = await mkdtemp(join(tmpdir(), 'mcpreg-conformance-'));
  const started = Date.now();
  const dev = await startDev({
    dataDir: join(dir, 'data'),
    port: 0,
    apiPort: 0,
    resyncIntervalMs: 0,
    examples: true,
    log: silentLogger,
    env: { ...process.env, MCPREG_DEFAULT_REGISTRY: REGISTRY },
  });
  let ok = false;
  try {
    const registries = dev.examplesOutcome?.created.filter((c) => c.startsWith('MCPRegistry ')).length ?? 0;
    await waitSynced(dev.queryUrl, registries, 180_000);
    console.error(`conformance: local mode at ${dev.queryUrl}, ${registries} example registries synced in ${Math.round((Date.now() - started) / 1000)} s`);

    const runs: Array<{ spec: SpecName; target: string; location: string; url: string }> = [
      { spec: 'official', target: `/registries/${REGISTRY}`, location: OFFICIAL_SPEC, url: `${dev.queryUrl}/registries/${REGISTRY}` },
      { spec: 'official', target: '/ (default registry)', location: OFFICIAL_SPEC, url: dev.queryUrl },
      { spec: 'ours', target: '/openapi.json', location: `${dev.queryUrl}/openapi.json`, url: dev.queryUrl },
    ];
    const failures: Failure[] = [];
    for (const [i, run] of runs.entries()) {
      const report = join(dir, `run-${i + 1}.ndjson`);
      const excluded = allowList.excluded.filter((e) => e.spec === run.spec).flatMap((e) => ['--exclude-name', e.operation]);
      const args = [
        'run', run.location,
        '--url', run.url,
        '--max-examples', String(maxExamples),
        '--max-time', String(maxTime),
        '--seed', String(seed),
        '--workers', '1',
        '--request-timeout', '10',
        // no example database: a run depends on its seed and the code only, not on earlier runs
        '--generation-database', 'none',
        '--no-color',
        '--report', 'ndjson', '--report-ndjson-path', report,
        ...excluded,
      ];
      const t = Date.now();
      console.error(`conformance: run ${i + 1}/3: ${run.spec === 'official' ? `the official spec on ${run.target}` : 'our /openapi.json on the whole API'} (at most ${maxExamples} examples per operation, ${maxTime} s, seed ${seed})`);
      const code = await runSt(st, args, dir);
      if (!existsSync(report)) throw new Error(`conformance: schemathesis exited with ${code} and wrote no report`);
      const collect = failureCollector(run.spec, run.target);
      for await (const line of createInterface({ input: createReadStream(report), crlfDelay: Infinity })) collect.line(line);
      const found = collect.failures();
      // the report is large (megabytes a second of run); the failures are what is kept
      await rm(report, { force: true });
      console.error(`conformance: run ${i + 1} took ${Math.round((Date.now() - t) / 1000)} s, ${found.length} distinct failures`);
      failures.push(...found);
    }

    const verdict = judge(failures, allowList);
    const byEntry = new Map<string, number>();
    for (const a of verdict.allowed) byEntry.set(a.entry.id, (byEntry.get(a.entry.id) ?? 0) + 1);
    console.log('\nconformance: accepted by the allow-list:');
    for (const e of allowList.allowed) console.log(`  ${String(byEntry.get(e.id) ?? 0).padStart(3)}  ${e.id}${byEntry.has(e.id) ? '' : ' (not seen in this run)'}`);
    for (const e of allowList.excluded) console.log(`    -  ${e.spec}: ${e.operation} not run: ${e.reason}`);
    if (verdict.unexpected.length > 0) {
      console.log(`\nconformance: ${verdict.unexpected.length} failures no allow-list entry accepts:\n`);
      for (const f of verdict.unexpected) console.log(`${describeFailure(f)}\n`);
      console.log(`(local mode's data kept in ${dir})`);
    }
    ok = verdict.unexpected.length === 0;
    console.log(`conformance: ${failures.length} failures, ${verdict.allowed.length} allowed, ${verdict.unexpected.length} not; ${Math.round((Date.now() - started) / 1000)} s in all`);
    // the closing line CI reads: the suite is one test
    console.log(`conformance: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
  } finally {
    await dev.stop(2000);
    if (ok) await rm(dir, { recursive: true, force: true });
  }
  return ok ? 0 : 1;
}

process.exit(await main());
