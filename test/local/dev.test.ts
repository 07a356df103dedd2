/**
 * Local mode as a new user meets it: `npm start` in a fresh checkout-like directory (its own
 * dist/ and .mcpreg/, so the repository's build output is never touched while other tests
 * use it), on free ports. It waits for /readyz and the first synced registries, runs the
 * five-minute tour in README.md (every ```sh block, output compared with the ```text block
 * after it), stops with Ctrl-C (SIGINT to the process group, as a terminal sends it), starts
 * again on the same data directory and finds everything kept: the same registries and
 * snapshot hashes, the API answering at once, no example applied twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const README = join(ROOT, 'README.md');
const TOUR_HEADING = '## Five-minute tour of local mode';

/** The tour: README.md's section under TOUR_HEADING, up to the next `## ` heading. */
async function readTour(): Promise<string> {
  const readme = await readFile(README, 'utf8');
  const start = readme.indexOf(`${TOUR_HEADING}\n`);
  assert.ok(start >= 0, `README.md has a "${TOUR_HEADING}" section`);
  const end = readme.indexOf('\n## ', start + TOUR_HEADING.length);
  return readme.slice(start, end < 0 ? undefined : end);
}
/** what a checkout needs for `npm start` (dist/ and .mcpreg/ are made by it) */
const CHECKOUT = ['package.json', 'tsconfig.json', 'scripts', 'lib', 'functions', 'crds', 'knative', 'node_modules'];
const REGISTRIES = ['database-servers', 'platform', 'remote-servers', 'toolhive', 'upstream-mirror'];

// ---------------------------------------------------------------------------------------------
// The tour document

interface Block {
  lang: string;
  code: string;
}

function fencedBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w+)[^\n]*\n([\s\S]*?)^```\s*$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

/** `<word>` is any one word; whitespace runs are any whitespace; `…` alone is any lines. */
function lineMatcher(line: string): RegExp | 'any' {
  const t = line.trim();
  if (t === '…') return 'any';
  const parts = t.split(/(<[^<>\s]+>)/);
  const source = parts.map((p) => (/^<[^<>\s]+>$/.test(p) ? '\\S+' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+'))).join('');
  return new RegExp(`^${source}$`);
}

function outputMatches(actual: string, expected: string): boolean {
  const got = actual.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const want = expected.split('\n').filter((l) => l.trim() !== '').map(lineMatcher);
  const match = (i: number, j: number): boolean => {
    if (j === want.length) return i === got.length;
    const m = want[j]!;
    if (m === 'any') {
      for (let k = i; k <= got.length; k++) if (match(k, j + 1)) return true;
      return false;
    }
    return i < got.length && m.test(got[i]!) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

// ---------------------------------------------------------------------------------------------
// Processes and HTTP

function sh(script: string, cwd: string, timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', script], { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function have(tool: string): Promise<boolean> {
  return (await sh(`command -v ${tool}`, ROOT, 5_000)).code === 0;
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface Running {
  child: ChildProcess;
  started: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start -- …` in its own process group, as a terminal runs it. */
function npmStart(cwd: string, args: string[]): Running {
  const env: NodeJS.ProcessEnv = {};
  // the outer `npm test` leaves npm_* variables behind; a user's shell has none
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('npm_')) env[k] = v;
  const child = spawn('npm', ['start', '--', ...args], { cwd, detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, started: performance.now(), stdout: () => out, stderr: () => err, exited };
}

/** Ctrl-C: SIGINT to the whole process group (npm, its shell, node). */
async function ctrlC(run: Running, timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  process.kill(-run.child.pid!, 'SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([run.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
  clearTimeout(timer);
  if (result === 'timeout') {
    process.kill(-run.child.pid!, 'SIGKILL');
    throw new Error(`npm start did not stop within ${timeoutMs} ms of SIGINT\n${run.stderr().slice(-2000)}`);
  }
  return result;
}

async function portIsFree(port: number): Promise<boolean> {
  const server = http.createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((r) => server.close(() => r()));
  return ok;
}

interface RegistryView {
  generation: number;
  hash: string;
  servers: number;
  ready: string;
  url?: string;
}

async function registries(cwd: string): Promise<Record<string, RegistryView>> {
  const r = await sh('kubectl --kubeconfig .mcpreg/kubeconfig get mcpregistries -o json', cwd);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as {
    items: Array<{ metadata: { name: string; generation: number }; spec: { source: { url?: { url: string }; git?: { repository: string }; registry?: { url: string } } }; status?: { snapshot?: { hash: string }; serverCount?: number; conditions?: Array<{ type: string; status: string }> } }>;
  };
  return Object.fromEntries(
    list.items.map((i) => [
      i.metadata.name,
      {
        generation: i.metadata.generation,
        hash: i.status?.snapshot?.hash ?? '',
        servers: i.status?.serverCount ?? -1,
        ready: i.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '',
        url: i.spec.source.url?.url ?? i.spec.source.git?.repository ?? i.spec.source.registry?.url,
      },
    ]),
  );
}

// ---------------------------------------------------------------------------------------------

describe('the README tour', () => {
  test('every ```sh block is followed by the ```text block of its output', async () => {
    const blocks = fencedBlocks(await readTour());
    const shells = blocks.map((b, i) => ({ ...b, i })).filter((b) => b.lang === 'sh');
    assert.ok(shells.length >= 8, `the tour has ${shells.length} command blocks`);
    for (const b of shells) assert.equal(blocks[b.i + 1]?.lang, 'text', `block ${b.i} (${b.code.split('\n')[0]}) has no expected output after it`);
    assert.equal(blocks.filter((b) => b.lang === 'console').length, 2, 'the start and the restart');
  });

  test('the output matcher: words, whitespace and … lines', () => {
    assert.ok(outputMatches('NAME   AGE\na      3s\n', 'NAME AGE\na <age>'));
    assert.ok(!outputMatches('NAME   AGE\na      3s\nb 4s\n', 'NAME AGE\na <age>'));
    assert.ok(outputMatches('x\n1\n2\ny\n', 'x\n…\ny'));
    assert.ok(!outputMatches('x\n1 2\n', 'x\n<n>'));
    assert.ok(outputMatches('a.b (c)\n', 'a.b (c)'));
    assert.ok(!outputMatches('aXb (c)\n', 'a.b (c)'));
  });
});

describe('npm start, the tour, a restart', async () => {
  const missing: string[] = [];
  for (const tool of ['kubectl', 'curl', 'jq', 'git', 'npm']) if (!(await have(tool))) missing.push(tool);
  const skip = missing.length > 0 ? `needs ${missing.join(', ')} on the PATH (the tour uses them)` : false;

  let dir = '';
  let first: Running | undefined;
  let second: Running | undefined;
  let port = 0;
  let apiPort = 0;
  const timings: Record<string, number> = {};
  let saved: Record<string, RegistryView> = {};
  let servedBefore = '';
  let firstStopped = false;

  const localize = (text: string) => text.replaceAll('localhost:8080', `localhost:${port}`).replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`).replaceAll('127.0.0.1:6443', `127.0.0.1:${apiPort}`);

  before(async () => {
    if (skip) return;
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-dev-'));
    for (const entry of CHECKOUT) await symlink(join(ROOT, entry), join(dir, entry));
    port = await freePort();
    apiPort = await freePort();
  });

  after(async () => {
    for (const run of [first, second]) {
      if (run && run.child.exitCode === null && run.child.signalCode === null) {
        process.kill(-run.child.pid!, 'SIGKILL');
        await run.exited;
      }
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('first start: ready, synced, the tour works, Ctrl-C stops cleanly', { skip, timeout: 240_000 }, async (t) => {
    first = npmStart(dir, ['--port', String(port), '--api-port', String(apiPort)]);
    const run = first;
    const base = `http://127.0.0.1:${port}`;
    try {
      await until('/readyz 200', async () => ((await get(`${base}/readyz`)).status === 200 ? true : undefined), 45_000, 25);
      timings.readyz = performance.now() - run.started;
      await until('a synced registry', async () => {
        const r = await get(`${base}/api/v1/registries`);
        return r.status === 200 && (JSON.parse(r.body) as { registries: unknown[] }).registries.length > 0 ? true : undefined;
      }, 30_000, 25);
      timings.firstSync = performance.now() - run.started;
      await until('all five registries synced', async () => {
        const r = await get(`${base}/api/v1/registries`);
        return r.status === 200 && (JSON.parse(r.body) as { registries: unknown[] }).registries.length === REGISTRIES.length ? true : undefined;
      }, 30_000, 25);
      timings.allSynced = performance.now() - run.started;
      await until('the start-up summary', () => (run.stdout().includes('Ctrl-C stops everything') ? true : undefined), 10_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- stdout\n${run.stdout()}\n--- stderr\n${run.stderr().slice(-4000)}`);
    }
    const startedIn = /started in (\d+) ms/.exec(run.stdout())?.[1];

    const blocks = fencedBlocks(await readTour());
    const consoles = blocks.filter((b) => b.lang === 'console');
    const startBlock = consoles[0]!.code.split('\n');
    assert.match(startBlock[0]!, /^\$ npm start$/);
    // npm echoes the arguments after the script
    const expectedStart = localize(startBlock.slice(1).join('\n')).replace('node dist/cli.js dev\n', `node dist/cli.js dev --port ${port} --api-port ${apiPort}\n`);
    assert.ok(outputMatches(run.stdout(), expectedStart), `npm start printed:\n${run.stdout()}\nthe tour shows:\n${expectedStart}`);

    // the tour, block by block
    for (let i = 0; i < blocks.length; i++) {
      const block = blocks[i]!;
      if (block.lang !== 'sh') continue;
      const script = localize(block.code);
      const started = performance.now();
      const result = await sh(script, dir);
      const ms = Math.round(performance.now() - started);
      const title = script.split('\n')[0]!;
      assert.equal(result.code, 0, `tour block "${title}" failed (exit ${result.code}):\n${result.stderr}\n${result.stdout}\n--- npm start stderr (end)\n${run.stderr().slice(-3000)}`);
      const expected = localize(blocks[i + 1]!.code);
      assert.ok(outputMatches(result.stdout, expected), `tour block "${title}" printed:\n${result.stdout}\nthe tour shows:\n${expected}`);
      t.diagnostic(`tour: ${title.slice(0, 90)} (${ms} ms)`);
    }

    // the state that must survive the restart
    saved = await registries(dir);
    assert.deepEqual(Object.keys(saved).sort(), REGISTRIES);
    for (const name of REGISTRIES) {
      assert.equal(saved[name]!.ready, 'True', `${name} Ready`);
      assert.match(saved[name]!.hash, /^[0-9a-f]{64}$/, `${name} has a snapshot`);
    }
    assert.equal(saved.toolhive!.servers, 14, 'the tour changed the filter');
    assert.equal(saved.toolhive!.generation, 2);
    const served = await get(`${base}/registries/default/toolhive/v0.1/servers?limit=2`);
    assert.equal(served.status, 200);
    servedBefore = served.body;

    const exit = await ctrlC(run);
    // npm re-raises the signal its script ended with; node itself exits 0
    assert.ok(exit.code === 0 || exit.signal === 'SIGINT', `exit ${JSON.stringify(exit)}`);
    assert.match(run.stderr(), /mcpreg dev: SIGINT: stopping/);
    assert.match(run.stderr(), /mcpreg dev: stopped; state saved in \.mcpreg/);
    assert.doesNotMatch(run.stderr(), /^\S+ ERROR /m, 'no error was logged');
    assert.ok(await portIsFree(port), 'the query port is released');
    assert.ok(await portIsFree(apiPort), 'the Kubernetes API port is released');
    assert.ok(existsSync(join(dir, '.mcpreg', 'state.json')));

    firstStopped = true;
    t.diagnostic(`npm start → /readyz 200: ${Math.round(timings.readyz!)} ms; → first synced registry: ${Math.round(timings.firstSync!)} ms; → all five: ${Math.round(timings.allSynced!)} ms (including the esbuild build; mcpreg dev itself reported "started in ${startedIn} ms")`);
  });

  test('second start on the same data directory: state kept, API serves at once', { skip, timeout: 60_000 }, async (t) => {
    if (!firstStopped) return t.skip('the first start did not complete');
    second = npmStart(dir, ['--port', String(port), '--api-port', String(apiPort)]);
    const run = second;
    const base = `http://127.0.0.1:${port}`;
    await until('the start-up summary', () => (run.stdout().includes('Ctrl-C stops everything') ? true : run.child.exitCode !== null ? 'exited' : undefined), 45_000).then((v) => {
      if (v === 'exited') throw new Error(`npm start exited:\n${run.stderr()}`);
    });
    const summaryAt = performance.now() - run.started;

    // before any sync could run: the saved snapshots answer
    const ready = await get(`${base}/readyz`);
    assert.equal(ready.status, 200);
    const served = await get(`${base}/registries/default/toolhive/v0.1/servers?limit=2`);
    assert.equal(served.status, 200);
    assert.deepEqual(JSON.parse(served.body), JSON.parse(servedBefore), 'the same servers, from the saved snapshot');
    const listed = JSON.parse((await get(`${base}/api/v1/registries`)).body) as { registries: Array<{ name: string; snapshot: { hash: string } }> };
    assert.deepEqual(
      Object.fromEntries(listed.registries.map((r) => [r.name, r.snapshot.hash])),
      Object.fromEntries(REGISTRIES.map((n) => [n, saved[n]!.hash])),
      'the API serves the same snapshots',
    );

    // the restart block of the tour: what follows its `$ npm start` line
    const restartBlock = fencedBlocks(await readTour()).filter((b) => b.lang === 'console')[1]!.code.split('\n');
    assert.match(restartBlock[0]!, /^\$ npm start$/);
    assert.ok(outputMatches(run.stdout(), localize(restartBlock.slice(1).join('\n'))), `the restart printed:\n${run.stdout()}\nthe tour shows:\n${restartBlock.join('\n')}`);
    assert.doesNotMatch(run.stdout(), /applied \(first start\)/, 'examples are applied once only');

    // let the start-up resync tick run, then compare the control plane's view
    await new Promise((r) => setTimeout(r, 1_500));
    const now = await registries(dir);
    assert.deepEqual(Object.keys(now).sort(), REGISTRIES, 'the same registries, none duplicated');
    const repointed = new Set([...run.stderr().matchAll(/pointed at its server's new port registry=default\/(\S+)/g)].map((m) => m[1]!));
    for (const name of REGISTRIES) {
      const a = now[name]!;
      const b = saved[name]!;
      assert.equal(a.ready, 'True', `${name} still Ready`);
      assert.equal(a.servers, b.servers, `${name} server count`);
      if (repointed.has(name)) {
        t.diagnostic(`${name}: its example server's port was taken; re-pointed and re-synced`);
        continue;
      }
      assert.equal(a.url, b.url, `${name}: its example server came back on the same port`);
      assert.equal(a.generation, b.generation, `${name} spec untouched`);
      assert.equal(a.hash, b.hash, `${name} snapshot kept`);
    }
    const cms = await sh("kubectl --kubeconfig .mcpreg/kubeconfig get configmaps -n default -o jsonpath='{.items[*].metadata.name}'", dir);
    // the example's ConfigMap once (examples are applied on the first start only), those the tour's import and export jobs wrote, and its deploy's permission profile
    assert.deepEqual(cms.stdout.trim().split(/\s+/).filter((n) => n !== 'kube-root-ca.crt'), ['chroma-mcp-permissions', 'curated-registry', 'toolhive-export', 'toolhive-import-report', 'toolhive-registry']);
    const deployed = await sh("kubectl --kubeconfig .mcpreg/kubeconfig get mcpserver chroma-mcp -o jsonpath='{.spec.image}'", dir);
    assert.equal(deployed.stdout, 'ghcr.io/stacklok/dockyard/uvx/chroma-mcp:0.2.7', 'the workload of the tour is still there, as its entry left it');
    const exportJob = await sh("kubectl --kubeconfig .mcpreg/kubeconfig get mcpregistryexportjob toolhive-export -o jsonpath='{.status.phase}'", dir);
    assert.equal(exportJob.stdout, 'Succeeded', 'the export job of the tour is still there');
    const job = await sh("kubectl --kubeconfig .mcpreg/kubeconfig get mcpregistrysyncjob toolhive-sync-now -o jsonpath='{.status.phase}'", dir);
    assert.equal(job.stdout, 'Succeeded', 'the sync job of the tour is still there');

    const exit = await ctrlC(run);
    assert.ok(exit.code === 0 || exit.signal === 'SIGINT', `exit ${JSON.stringify(exit)}`);
    assert.match(run.stderr(), /mcpreg dev: stopped; state saved in \.mcpreg/);
    assert.doesNotMatch(run.stderr(), /^\S+ ERROR /m, 'no error was logged');
    t.diagnostic(`restart: npm start → serving: ${Math.round(summaryAt)} ms (including the build)`);
  });

});
