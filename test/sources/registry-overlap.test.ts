/**
 * The registry source's walk overlaps parsing a page with the next page's request (the next
 * cursor read from the page's tail, lib/sources/registry.ts). It must keep what a plain
 * sequential walk gives: every entry in the peer's order, one request in flight at a time, the
 * page and byte limits, the error of the page that failed; and a wrong guess (a cursor-like
 * member after the metadata) never leaks the guessed page into the result.
 */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { createRegistrySource, peekNextCursor } from '../../lib/sources/registry.ts';
import { generateEntries, type Entry } from '../servers/upstream-api.ts';
import { rejectsWith, testContext } from './helpers.ts';

const keys = (entries: unknown[]) => entries.map((e) => `${(e as Entry).server.name}@${(e as Entry).server.version}`);

interface Peer {
  url: string;
  /** cursor of each list request, in arrival order ('' for the first page) */
  cursors: string[];
  maxInFlight: number;
  close(): Promise<void>;
}

/**
 * A peer with pages of `pageSize` over `entries` (cursor = index of the next entry);
 * `shape(page, body)` may rewrite a page's text.
 */
async function startPeer(entries: Entry[], pageSize: number, shape: (cursor: string, metadata: Record<string, unknown>, servers: Entry[]) => string = (_c, metadata, servers) => JSON.stringify({ servers, metadata })): Promise<Peer> {
  const cursors: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/v0.1/servers') {
      res.writeHead(404).end();
      return;
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = () => {
      if (!done) inFlight--;
      done = true;
    };
    res.on('finish', finish);
    res.on('close', finish);
    const cursor = url.searchParams.get('cursor') ?? '';
    cursors.push(cursor);
    const start = cursor.startsWith('poison') ? 0 : Number(cursor || 0);
    const servers = cursor.startsWith('poison') ? generateEntries(3).map((e) => ({ ...e, server: { ...e.server, name: `io.poison/${e.server.name}` } })) : entries.slice(start, start + pageSize);
    const metadata: Record<string, unknown> = { count: servers.length };
    if (!cursor.startsWith('poison') && start + pageSize < entries.length) metadata.nextCursor = String(start + pageSize);
    // a little later, so that the next request, when it comes early, overlaps this one's end
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(shape(cursor, metadata, servers)), 5);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cursors,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('registry source: parsing overlaps the next request', () => {
  const entries = generateEntries(1000);
  const peers: Peer[] = [];
  const peer = async (...args: Parameters<typeof startPeer> extends [unknown, unknown, ...infer R] ? R : never) => {
    const p = await startPeer(entries, 100, ...args);
    peers.push(p);
    return p;
  };
  after(async () => {
    for (const p of peers) await p.close();
  });

  it('peekNextCursor reads the last nextCursor of a page, or nothing', () => {
    const page = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    assert.equal(peekNextCursor(page({ servers: [], metadata: { count: 0, nextCursor: 'a"b\\c' } })), 'a"b\\c');
    assert.equal(peekNextCursor(page({ servers: [], metadata: { next_cursor: 'x:1.0.0', count: 1 } })), 'x:1.0.0');
    assert.equal(peekNextCursor(page({ servers: [], metadata: { count: 0 } })), undefined);
    assert.equal(peekNextCursor(page({ servers: [], metadata: { nextCursor: null } })), undefined);
    assert.equal(peekNextCursor(new TextEncoder().encode('{"metadata":{"nextCursor":"unterminated')), undefined);
  });

  it('every entry in the peer’s order, each page asked once, one request in flight', async () => {
    const p = await peer();
    const r = await createRegistrySource({ url: p.url, allowHttp: true, fullSyncEvery: 10 }).fetch(testContext());
    assert.equal(r.kind, 'entries');
    assert.deepEqual(keys(r.kind === 'entries' ? r.entries : []), keys(entries));
    assert.deepEqual(p.cursors, ['', '100', '200', '300', '400', '500', '600', '700', '800', '900']);
    assert.equal(p.maxInFlight, 1);
  });

  it('the next request goes out before the page is parsed: a page that is not JSON had its successor sent, and fails as itself', async () => {
    // page 2's tail holds a good cursor, its head is broken: only a walk that sends before parsing sends cursor=200
    const p = await peer((cursor, metadata, servers) => (cursor === '100' ? `{"servers":[{"broken" ${JSON.stringify(servers).slice(1)}, "metadata":${JSON.stringify(metadata)}}` : JSON.stringify({ servers, metadata })));
    const sent: string[] = [];
    const onSent = (m: unknown) => sent.push(String((m as { request: { path: string } }).request.path));
    diagnostics.subscribe('undici:client:sendHeaders', onSent);
    try {
      const e = await rejectsWith(createRegistrySource({ url: p.url, allowHttp: true, fullSyncEvery: 10 }).fetch(testContext()), 'invalid_json');
      assert.match(e.message, /page 2 is not JSON/);
    } finally {
      diagnostics.unsubscribe('undici:client:sendHeaders', onSent);
    }
    assert.deepEqual(
      sent.filter((path) => path.startsWith('/v0.1/servers')).map((path) => new URL(path, 'http://x').searchParams.get('cursor') ?? ''),
      ['', '100', '200'],
      'the request for page 3 was written before page 2 was parsed, and nothing after the failure',
    );
  });

  it('a wrong guess is dropped: the cursor of the parsed page is followed, the guessed page never reaches the result', async () => {
    // metadata first, a cursor-like member last: the tail guesses "poison…"
    const p = await peer((cursor, metadata, servers) => `{"metadata":${JSON.stringify(metadata)},"servers":${JSON.stringify(servers)},"debug":{"nextCursor":"poison-${cursor}"}}`);
    const r = await createRegistrySource({ url: p.url, allowHttp: true, fullSyncEvery: 10 }).fetch(testContext());
    assert.equal(r.kind, 'entries');
    const got = keys(r.kind === 'entries' ? r.entries : []);
    assert.deepEqual(got, keys(entries));
    assert.ok(!got.some((k) => k.startsWith('io.poison/')));
    assert.deepEqual(
      p.cursors.filter((c) => !c.startsWith('poison')),
      ['', '100', '200', '300', '400', '500', '600', '700', '800', '900'],
    );
  });

  it('the page limit holds: no request past the last page allowed, not even an early one', async () => {
    const p = await peer();
    const sent: string[] = [];
    const onSent = (m: unknown) => sent.push(String((m as { request: { path: string } }).request.path));
    diagnostics.subscribe('undici:client:sendHeaders', onSent);
    try {
      const e = await rejectsWith(createRegistrySource({ url: p.url, allowHttp: true, fullSyncEvery: 10 }).fetch(testContext({ policy: { maxPages: 3 } })), 'too_large');
      assert.match(e.message, /more than 3 pages/);
    } finally {
      diagnostics.unsubscribe('undici:client:sendHeaders', onSent);
    }
    assert.deepEqual(
      sent.filter((path) => path.startsWith('/v0.1/servers')).map((path) => new URL(path, 'http://x').searchParams.get('cursor') ?? ''),
      ['', '100', '200'],
    );
  });

  it('the byte limit holds for all pages together, the early request included', async () => {
    const p = await peer();
    const pageBytes = Buffer.byteLength(JSON.stringify({ servers: entries.slice(0, 100), metadata: { count: 100, nextCursor: '100' } }));
    const e = await rejectsWith(createRegistrySource({ url: p.url, allowHttp: true, fullSyncEvery: 10 }).fetch(testContext({ policy: { maxBytes: Math.floor(pageBytes * 2.5) } })), 'too_large');
    assert.match(e.message, /page 3 took the walk past/);
  });
});
