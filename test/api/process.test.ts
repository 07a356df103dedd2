/**
 * The query function as a process (functions/query/main.ts): it listens on $PORT, answers,
 * and on SIGTERM stops accepting, finishes the request in flight, and exits 0. A bad
 * configuration exits 1 with a message naming the variable, without a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CloudEvent, HTTP } from 'cloudevents';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { request, tempStore } from './harness.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'functions', 'query', 'main.ts');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      if ((await request(`${url}/healthz`)).status === 200) return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error('the query function did not start');
}

test('SIGTERM: in-flight requests finish, new connections are refused, exit 0', async () => {
  const t = await tempStore();
  await publishEntries(t.store, { namespace: 'mcp', name: 'reg' }, fixtureEntries());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: String(port), MCPREG_STORE: 'fs', MCPREG_STORE_DIR: t.dir, MCPREG_DEFAULT_REGISTRY: 'mcp/reg', MCPREG_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitReady(url);
    assert.equal((await request(`${url}/v0.1/servers?limit=2`)).status, 200);

    // a request in flight: an event whose body is still being sent
    const event = HTTP.binary(new CloudEvent({ type: 'io.toolhive.registry.snapshot.published', source: '/sync', subject: 'mcp/reg', datacontenttype: 'application/json', data: { hash: 'a'.repeat(64) } }));
    const body = Buffer.from(String(event.body));
    const inflight = new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${url}/events`, { method: 'POST', headers: { ...(event.headers as Record<string, string>), 'content-length': String(body.length) }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write(body.subarray(0, 10));
      setTimeout(() => {
        child.kill('SIGTERM');
        setTimeout(() => req.end(body.subarray(10)), 300);
      }, 100);
    });
    assert.equal(await inflight, 204, 'the request in flight was answered');
    assert.equal(await exited, 0);
    await assert.rejects(request(`${url}/healthz`), 'no longer listening');
    assert.match(stderr, /shutting down/);
  } finally {
    child.kill('SIGKILL');
    await exited;
    await t.cleanup();
  }
});

test('a bad configuration exits 1 naming the variable, no stack trace', async () => {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, PORT: '0', MCPREG_DEFAULT_REGISTRY: 'not a registry' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 1);
  assert.match(stderr, /MCPREG_DEFAULT_REGISTRY: expected namespace\/name/);
  assert.doesNotMatch(stderr, /\n\s+at /);
});
