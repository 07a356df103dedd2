/**
 * `mcpreg dev` as a command (run from the sources, no build): help, usage errors, a port in
 * use and an unusable data directory are one readable line with a non-zero exit and nothing
 * left running; SIGTERM stops cleanly with exit 0; --log-format json gives JSON lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', '..', 'lib', 'cli', 'main.ts');

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function mcpreg(args: string[], options: { cwd: string; until?: (stdout: string) => boolean; then?: NodeJS.Signals; timeoutMs?: number }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'dev', ...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mcpreg dev ${args.join(' ')} did not finish in time\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!signalled && options.until?.(stdout)) {
        signalled = true;
        child.kill(options.then ?? 'SIGTERM');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** stderr without the log records of what had started (`2026-…Z INFO  …` lines) */
function withoutLogRecords(stderr: string): string {
  return stderr.split('\n').filter((l) => !/^\d{4}-\d\d-\d\dT[\d:.]+Z (DEBUG|INFO|WARN) /.test(l)).join('\n');
}

async function occupied(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('someone else'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function freePort(): Promise<number> {
  const s = await occupied();
  await s.close();
  return s.port;
}

describe('mcpreg dev (command line)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-dev-cli-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('--help lists every flag', async () => {
    const r = await mcpreg(['--help'], { cwd: dir });
    assert.equal(r.code, 0);
    for (const flag of ['--port', '--api-port', '--data', '--log-format', '--resync-interval', '--no-examples']) assert.match(r.stdout, new RegExp(`\\s${flag}\\b`));
  });

  test('usage errors: one line, exit 2', async () => {
    for (const [args, message] of [
      [['--port', 'abc'], /^mcpreg: dev: --port must be a number from 0 to 65535, not "abc"\n$/],
      [['--api-port', '70000'], /^mcpreg: dev: --api-port must be a number/],
      [['--log-format', 'xml'], /^mcpreg: dev: --log-format must be text or json, not "xml"\n$/],
      [['--resync-interval', 'often'], /^mcpreg: dev: --resync-interval must be a duration/],
      [['--port', '9000', '--api-port', '9000'], /^mcpreg: dev: --port and --api-port are both 9000\n$/],
      [['--bogus'], /^mcpreg: dev: Unknown option '--bogus'/],
    ] as const) {
      const r = await mcpreg([...args], { cwd: dir });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    }
  });

  test('a query port in use: one line naming the port and the flag, exit 1', async () => {
    const taken = await occupied();
    try {
      const r = await mcpreg(['--data', join(dir, 'a'), '--port', String(taken.port), '--api-port', '0', '--no-examples'], { cwd: dir });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `mcpreg: query API: port ${taken.port} is already in use (choose another with --port)\n`);
    } finally {
      await taken.close();
    }
  });

  test('a Kubernetes API port in use: one line; what had started is stopped again', async () => {
    const taken = await occupied();
    const port = await freePort();
    try {
      const r = await mcpreg(['--data', join(dir, 'b'), '--port', String(port), '--api-port', String(taken.port), '--no-examples'], { cwd: dir });
      assert.equal(r.code, 1);
      // the query API had started and logged as it does (its memory budget); the error is one line
      assert.match(withoutLogRecords(r.stderr), new RegExp(`^mcpreg: Kubernetes API: port ${taken.port} is already in use \\(choose another with --api-port\\)\\n$`));
      // the query API had started: it was closed on the way out
      const again = http.createServer();
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject);
        again.listen(port, '127.0.0.1', resolve);
      });
      await new Promise<void>((r) => again.close(() => r()));
    } finally {
      await taken.close();
    }
  });

  test('a data directory that cannot be one: one line, exit 1', async () => {
    const file = join(dir, 'plain-file');
    await writeFile(file, 'not a directory');
    const r = await mcpreg(['--data', join(file, 'data'), '--port', '0', '--api-port', '0'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `mcpreg: ${join(file, 'data')}: the data directory is not writable: not a directory\n`);
  });

  test('SIGTERM stops cleanly (exit 0); --log-format json logs JSON lines only', async () => {
    const data = join(dir, 'json');
    const r = await mcpreg(['--data', data, '--port', '0', '--api-port', '0', '--log-format', 'json', '--no-examples', '--resync-interval', '0'], {
      cwd: dir,
      until: (out) => out.includes('Ctrl-C stops everything'),
      then: 'SIGTERM',
    });
    assert.equal(r.code, 0, r.stderr);
    const records = r.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: string; msg: string; component?: string; queryUrl?: string });
    assert.ok(records.some((l) => l.msg === 'running' && typeof l.queryUrl === 'string'));
    assert.ok(records.some((l) => l.msg === 'control plane listening' && l.component === 'control-plane'));
    assert.equal(records.at(-1)!.msg, 'stopped; state saved in json');
    assert.ok(!records.some((l) => l.level === 'error'));
    assert.match(r.stdout, /REST API {10}http:\/\/127\.0\.0\.1:\d+/);
    assert.doesNotMatch(r.stdout, /example sources/);
  });
});
