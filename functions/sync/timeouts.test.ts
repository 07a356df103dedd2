/**
 * The sync function's HTTP server against slow clients (slowloris): with short configured
 * timeouts, raw sockets that send a partial request header, nothing at all, or a body one
 * byte at a time are each closed by the server within a bound, while a normal request is
 * answered meanwhile and a handler that runs longer than the request timeout still answers
 * (the timeouts bound receiving a request, never the sync it starts).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CloudEvent, HTTP } from 'cloudevents';
import { silentLogger } from '../../lib/log.ts';
import { syncConfigFromEnv } from '../../lib/sync/config.ts';
import { startSyncServer, type SyncServer } from './server.ts';

const HEADERS_TIMEOUT = 300;
const REQUEST_TIMEOUT = 600;
// generous for a loaded 2-core machine; without timeouts these sockets stay open for good
const BOUND = 5_000;

/** Opens a socket, sends `first`, then `drip` every `everyMs`; resolves with when the server closed it. */
async function slowClient(port: number, first: string, drip?: { text: string; everyMs: number }): Promise<{ socket: net.Socket; closed: Promise<number> }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const t0 = Date.now();
  if (first) socket.write(first);
  socket.on('error', () => {});
  socket.on('data', () => {});
  const timer = drip ? setInterval(() => socket.writable && socket.write(drip.text), drip.everyMs) : undefined;
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      resolve(Date.now() - t0);
    }),
  );
  return { socket, closed };
}

function ping(): { headers: Record<string, string>; body: string } {
  const m = HTTP.binary(new CloudEvent({ type: 'dev.knative.sources.ping', source: '/test', datacontenttype: 'application/json', data: { reason: 'resync' } }));
  return { headers: m.headers as Record<string, string>, body: String(m.body) };
}

describe('sync server timeouts', () => {
  let server: SyncServer;
  let port: number;
  let slowHandling = 0;

  before(async () => {
    server = await startSyncServer({
      log: silentLogger,
      headersTimeoutMs: HEADERS_TIMEOUT,
      requestTimeoutMs: REQUEST_TIMEOUT,
      keepAliveTimeoutMs: 500,
      handle: async () => {
        if (slowHandling > 0) await new Promise((r) => setTimeout(r, slowHandling));
        return { event: 'ping', registries: [] };
      },
    });
    port = Number(new URL(server.url).port);
  });
  after(async () => {
    server.server.closeAllConnections();
    await server.close();
  });

  it('closes connections that stall in the headers, send nothing, or trickle the body; normal requests go on', async () => {
    const clients = await Promise.all([
      ...Array.from({ length: 4 }, () => slowClient(port, 'POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ', { text: 'a', everyMs: 50 })),
      slowClient(port, 'POST / HTTP/1.1\r\nHost: x\r\n'),
      slowClient(port, ''),
      slowClient(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n', { text: '{', everyMs: 50 }),
    ]);
    // meanwhile a normal event is handled at once
    const { headers, body } = ping();
    const res = await fetch(`${server.url}/`, { method: 'POST', headers, body, signal: AbortSignal.timeout(BOUND) });
    assert.equal(res.status, 204);
    const times = await Promise.all(clients.map((c) => Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), BOUND))])));
    for (const c of clients) c.socket.destroy();
    times.forEach((ms, i) => assert.ok(ms < BOUND, `slow client ${i} closed by the server (after ${ms} ms)`));
    // none is closed before its timeout (the header stallers after the headers timeout)
    times.slice(0, 6).forEach((ms, i) => assert.ok(ms >= HEADERS_TIMEOUT - 50, `client ${i} not closed early (${ms} ms)`));
  });

  it('a handler that runs longer than the request timeout still answers', async () => {
    slowHandling = REQUEST_TIMEOUT * 2;
    try {
      const { headers, body } = ping();
      const t0 = Date.now();
      const res = await fetch(`${server.url}/`, { method: 'POST', headers, body, signal: AbortSignal.timeout(BOUND * 2) });
      assert.equal(res.status, 204);
      assert.ok(Date.now() - t0 >= slowHandling - 50);
    } finally {
      slowHandling = 0;
    }
  });

  it('the timeouts come from the environment, checked', () => {
    const c = syncConfigFromEnv({ MCPREG_SYNC_HEADERS_TIMEOUT: '5s', MCPREG_SYNC_REQUEST_TIMEOUT: '30s', MCPREG_SYNC_KEEPALIVE_TIMEOUT: '70s' });
    assert.deepEqual([c.headersTimeoutMs, c.requestTimeoutMs, c.keepAliveTimeoutMs], [5000, 30_000, 70_000]);
    const d = syncConfigFromEnv({});
    assert.deepEqual([d.headersTimeoutMs, d.requestTimeoutMs, d.keepAliveTimeoutMs], [20_000, 60_000, 65_000]);
    assert.throws(() => syncConfigFromEnv({ MCPREG_SYNC_HEADERS_TIMEOUT: '2m' }), /must not be longer/);
    assert.throws(() => syncConfigFromEnv({ MCPREG_SYNC_REQUEST_TIMEOUT: 'soon' }), /MCPREG_SYNC_REQUEST_TIMEOUT/);
  });
});
