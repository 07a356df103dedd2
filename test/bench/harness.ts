/**
 * What the benchmarks share for the processes they measure: one plain GET, starting a child
 * until it answers, stopping it, its resident memory from /proc, the arithmetic of the printed
 * figures (median, rounding), and alternating a measurement with its floor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { freePort } from '../harness/ports.ts';

/** one GET without keep-alive: status, whole body, headers and the milliseconds it took */
export function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined>; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end();
  });
}

export interface SpawnUntilOptions {
  /** the status that counts as answering (default 200); any other status is an error */
  okStatus?: number;
  /** milliseconds between attempts while the port refuses (default 1) */
  pollMs?: number;
  /** give up (killing the child) after this many milliseconds (default: never) */
  timeoutMs?: number;
  /** names the step in the error for a wrong status (default: the path) */
  what?: string;
}

/**
 * Spawns `node args…` with `env` and a free PORT, then polls `path` until the port accepts:
 * `ms` is spawn → first answer. A wrong status, a failure other than ECONNREFUSED, or the child
 * exiting is an error.
 */
export async function spawnUntilAnswering(args: string[], env: Record<string, string>, path: string, options: SpawnUntilOptions = {}): Promise<{ ms: number; child: ChildProcess; url: string }> {
  const { okStatus = 200, pollMs = 1, timeoutMs = Number.POSITIVE_INFINITY, what = path } = options;
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  for (const deadline = started + timeoutMs; performance.now() < deadline; ) {
    try {
      const r = await get(`http://127.0.0.1:${port}${path}`);
      if (r.status === okStatus) return { ms: performance.now() - started, child, url: `http://127.0.0.1:${port}` };
      throw new Error(`${what} answered ${r.status}: ${r.body.toString().slice(0, 200)}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNREFUSED') {
        child.kill('SIGKILL');
        throw e;
      }
      if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`${args[0]} did not answer within ${timeoutMs / 1000} s`);
}

/** SIGTERM, SIGKILL after 5 s; resolves once the child has exited */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
}

/** resident memory of a process in MB (unrounded): `peak` = VmHWM, `now` = VmRSS */
export function rssMb(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** runs `a` then `b` in even rounds and `b` then `a` in odd ones, so neither always goes first */
export async function alternating(round: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<void> {
  if (round % 2 === 0) {
    await a();
    await b();
  } else {
    await b();
    await a();
  }
}
