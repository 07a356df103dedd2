/**
 * HTTP behaviour of the query function beyond the upstream contract: validators and 304,
 * compression, caching headers, snapshot revalidation and the published event, cursors that
 * survive a snapshot change, the last good snapshot when a new one is broken, readiness.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { CloudEvent, HTTP } from 'cloudevents';
import { OFFICIAL_META } from '../../lib/api/entry.ts';
import type { ServerResponse } from '../../lib/formats/upstream-schema.ts';
import { pointerKey } from '../../lib/snapshots/layout.ts';
import { readPointer } from '../../lib/snapshots/read.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { request, startQuery, tempStore, type Running } from './harness.ts';

const enc = encodeURIComponent;
const REF = { namespace: 'mcp', name: 'reg' };

function addVersion(entries: ServerResponse[], name: string, version: string): ServerResponse[] {
  const base = structuredClone(entries.find((e) => e.server.name === name)!);
  base.server.version = version;
  base._meta![OFFICIAL_META] = { status: 'active', publishedAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', isLatest: false };
  return [...entries, base].sort((a, b) => (a.server.name === b.server.name ? (a.server.version < b.server.version ? -1 : 1) : a.server.name < b.server.name ? -1 : 1));
}

describe('validators, compression and headers', () => {
  let api: Running;
  let cleanup: () => Promise<void>;
  before(async () => {
    const t = await tempStore();
    cleanup = t.cleanup;
    await publishEntries(t.store, REF, fixtureEntries());
    api = await startQuery({ store: t.store, env: { MCPREG_DEFAULT_REGISTRY: 'mcp/reg', MCPREG_CACHE_MAX_AGE: '15' } });
  });
  after(async () => {
    await api?.close();
    await cleanup?.();
  });

  test('strong ETag and 304 on If-None-Match; a different page has a different ETag', async () => {
    const first = await api.get('/v0.1/servers?limit=5');
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[^"]+"$/);
    const again = await api.get('/v0.1/servers?limit=5', { 'If-None-Match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, etag);
    assert.equal((await api.get('/v0.1/servers?limit=5', { 'If-None-Match': `W/${etag}` })).status, 304);
    const other = await api.get('/v0.1/servers?limit=6', { 'If-None-Match': etag });
    assert.equal(other.status, 200);
    assert.notEqual(other.headers.etag, etag);
  });

  test('gzip and br when accepted, identity otherwise; Vary: Accept-Encoding; Cache-Control', async () => {
    const plain = await api.get('/v0.1/servers?limit=50');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.match(String(plain.headers.vary), /Accept-Encoding/);
    assert.equal(plain.headers['cache-control'], 'public, max-age=15');
    const gz = await api.get('/v0.1/servers?limit=50', { 'Accept-Encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(gunzipSync(gz.body), plain.body);
    const br = await api.get('/v0.1/servers?limit=50', { 'Accept-Encoding': 'gzip, deflate, br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.deepEqual(brotliDecompressSync(br.body), plain.body);
    assert.ok(br.body.length < plain.body.length / 4);
    assert.notEqual(br.headers.etag, plain.headers.etag, 'each representation has its own strong ETag');
    assert.equal(Number(br.headers['content-length']), br.body.length);
    // a 304 for the compressed representation too
    assert.equal((await api.get('/v0.1/servers?limit=50', { 'Accept-Encoding': 'br', 'If-None-Match': String(br.headers.etag) })).status, 304);
  });

  test('HEAD has the headers and no body; errors are not cacheable', async () => {
    const head = await request(`${api.url}/v0.1/servers?limit=3`, { method: 'HEAD' });
    const get = await api.get('/v0.1/servers?limit=3');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers.etag, get.headers.etag);
    assert.equal(head.headers['content-length'], get.headers['content-length']);
    const bad = await api.get('/v0.1/servers?limit=0');
    assert.equal(bad.headers['cache-control'], 'no-store');
    assert.equal(bad.headers.etag, undefined);
  });

  test('methods: POST on a read endpoint is 405 with Allow; unknown paths 404', async () => {
    const r = await request(`${api.url}/v0.1/servers`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 405);
    assert.match(String(r.headers.allow), /GET/);
    assert.equal(r.json().status, 405);
    assert.equal((await request(`${api.url}/nowhere`, { method: 'DELETE' })).status, 404);
  });

  test('status updates (PATCH in the official API) are 405 with Allow like PUT and DELETE, on both status paths and per registry', async () => {
    for (const path of ['/v0.1/servers/io.github.x%2Fw/status', '/v0.1/servers/io.github.x%2Fw/versions/1.0.0/status', '/registries/mcp/reg/v0/servers/a%2Fb/versions/latest/status']) {
      for (const method of ['PATCH', 'PUT', 'DELETE', 'GET']) {
        const body = '{"status":"deprecated"}';
        const r = await request(`${api.url}${path}`, method === 'GET' ? { method } : { method, body, headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } });
        assert.equal(r.status, 405, `${method} ${path}`);
        assert.equal(r.headers.allow, 'OPTIONS', `${method} ${path}`);
        assert.match(r.json().detail, /status updates are not supported/);
      }
    }
    // the neighbouring version endpoint still answers PATCH 405 with its own Allow
    const patch = await request(`${api.url}/v0.1/servers/io.github.x%2Fw/versions/1.0.0`, { method: 'PATCH', body: '{}' });
    assert.equal(patch.status, 405);
    assert.equal(patch.headers.allow, 'GET, HEAD, OPTIONS');
  });

  test('healthz, readyz and openapi.json', async () => {
    assert.deepEqual((await api.get('/healthz')).json(), { status: 'ok' });
    const ready = await api.get('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.json().status, 'ready');
    const doc = (await api.get('/openapi.json')).json();
    assert.equal(doc.openapi, '3.1.0');
    for (const p of ['/v0.1/servers', '/v0.1/servers/{serverName}/versions/{version}', '/registries/{namespace}/{name}/v0.1/servers', '/api/v1/servers', '/api/v1/registries']) assert.ok(doc.paths[p], p);
    const list = doc.components.schemas.ServerList;
    assert.deepEqual(Object.keys(list.properties).sort(), ['metadata', 'servers']);
    const limit = doc.paths['/v0.1/servers'].get.parameters.find((p: { name: string }) => p.name === 'limit');
    assert.deepEqual([limit.schema.minimum, limit.schema.maximum, limit.schema.default], [1, 100, 30]);
  });
});

describe('snapshot changes', () => {
  let store: SnapshotStore;
  let cleanup: () => Promise<void>;
  let api: Running;
  let entries: ServerResponse[];
  before(async () => {
    const t = await tempStore();
    store = t.store;
    cleanup = t.cleanup;
    entries = fixtureEntries();
    await publishEntries(store, REF, entries);
  });
  after(async () => {
    await api?.close();
    await cleanup?.();
  });

  test('a new snapshot is seen after the pointer TTL, not before', async () => {
    api = await startQuery({ store, env: { MCPREG_DEFAULT_REGISTRY: 'mcp/reg', MCPREG_POINTER_TTL: '300ms' } });
    const before = (await api.get('/v0.1/servers/io.github.stacklok%2Ffetch/versions')).json();
    entries = addVersion(entries, 'io.github.stacklok/fetch', '3.0.0');
    await publishEntries(store, REF, entries);
    const soon = (await api.get('/v0.1/servers/io.github.stacklok%2Ffetch/versions')).json();
    assert.deepEqual(soon, before, 'within the TTL the cached snapshot answers');
    await new Promise((r) => setTimeout(r, 350));
    const later = (await api.get('/v0.1/servers/io.github.stacklok%2Ffetch/versions')).json();
    assert.equal(later.servers.length, before.servers.length + 1);
    await api.close();
  });

  test('the published CloudEvent (binary and structured) switches at once; garbage is a 4xx', async () => {
    api = await startQuery({ store, env: { MCPREG_DEFAULT_REGISTRY: 'mcp/reg', MCPREG_POINTER_TTL: '1h' } });
    const count = async () => (await api.get('/v0.1/servers/io.github.stacklok%2Ffetch/versions')).json().servers.length;
    const n = await count();
    for (const [i, mode] of (['binary', 'structured'] as const).entries()) {
      entries = addVersion(entries, 'io.github.stacklok/fetch', `4.0.${i}`);
      await publishEntries(store, REF, entries);
      assert.equal(await count(), n + i, 'the TTL is long: no revalidation without the event');
      const pointer = (await readPointer(store, REF))!.pointer;
      const event = new CloudEvent({ type: 'io.toolhive.registry.snapshot.published', source: '/sync', subject: 'mcp/reg', datacontenttype: 'application/json', data: pointer });
      const message = mode === 'binary' ? HTTP.binary(event) : HTTP.structured(event);
      const r = await request(`${api.url}/events`, { method: 'POST', headers: message.headers as Record<string, string>, body: String(message.body) });
      assert.equal(r.status, 204, r.text);
      assert.equal(await count(), n + i + 1);
    }
    const post = (headers: Record<string, string>, body: string) => request(`${api.url}/events`, { method: 'POST', headers, body });
    assert.equal((await post({ 'content-type': 'application/json' }, '{"not":"an event"}')).status, 400);
    assert.equal((await post({ 'content-type': 'application/cloudevents+json' }, '{garbage')).status, 400);
    const other = HTTP.binary(new CloudEvent({ type: 'dev.knative.sources.ping', source: '/x', data: {} }));
    assert.equal((await post(other.headers as Record<string, string>, String(other.body))).status, 400);
    const noSubject = HTTP.binary(new CloudEvent({ type: 'io.toolhive.registry.snapshot.published', source: '/x', subject: 'not a registry', data: {} }));
    const bad = await post(noSubject.headers as Record<string, string>, String(noSubject.body));
    assert.equal(bad.status, 400);
    assert.match(bad.json().detail, /subject must be "namespace\/name"/);
    assert.equal((await post({ 'content-type': 'application/json' }, 'x'.repeat(2 * 1024 * 1024))).status, 413);
    assert.equal((await api.get('/events')).status, 405);
    await api.close();
  });

  test('a cursor taken before a snapshot change continues without duplicates or gaps', async () => {
    api = await startQuery({ store, env: { MCPREG_DEFAULT_REGISTRY: 'mcp/reg', MCPREG_POINTER_TTL: '0' } });
    const first = (await api.get('/v0.1/servers?limit=20')).json();
    const cursor = first.metadata.nextCursor as string;
    const beforeAll = entries.filter((e) => e._meta![OFFICIAL_META]!.status !== 'deleted').map((e) => `${e.server.name}:${e.server.version}`);
    // one version inserted behind the cursor (missed by this walk) and one ahead (seen)
    const behind = entries[0]!.server.name;
    const ahead = entries[entries.length - 1]!.server.name;
    entries = addVersion(addVersion(entries, behind, '0.0.1-new'), ahead, '9.9.9');
    await publishEntries(store, REF, entries);
    const rows: string[] = first.servers.map((s: ServerResponse) => `${s.server.name}:${s.server.version}`);
    let next: string | undefined = cursor;
    while (next) {
      const page = (await api.get(`/v0.1/servers?limit=20&cursor=${enc(next)}`)).json();
      rows.push(...page.servers.map((s: ServerResponse) => `${s.server.name}:${s.server.version}`));
      next = page.metadata.nextCursor;
    }
    assert.equal(new Set(rows).size, rows.length, 'no duplicates');
    for (const k of beforeAll) assert.ok(rows.includes(k), `${k} existed throughout and was not skipped`);
    assert.ok(rows.includes(`${ahead}:9.9.9`));
    assert.ok(!rows.includes(`${behind}:0.0.1-new`));
    await api.close();
  });

  test('a broken new snapshot or pointer leaves the last good one serving; a removed pointer is 404', async () => {
    api = await startQuery({ store, env: { MCPREG_DEFAULT_REGISTRY: 'mcp/reg', MCPREG_POINTER_TTL: '0' } });
    const good = await api.get('/v0.1/servers?limit=100');
    assert.equal(good.status, 200);
    // a pointer whose upstream.json is truncated garbage
    const current = (await readPointer(store, REF))!;
    const brokenHash = 'f'.repeat(64);
    await store.put(`registries/mcp/reg/snapshots/${brokenHash}/upstream.json`, Buffer.from('{"servers":[{"server":'));
    await store.put(`registries/mcp/reg/snapshots/${brokenHash}/toolhive.json`, Buffer.from('{}'));
    const broken = { ...current.pointer, hash: brokenHash, objects: { upstream: `registries/mcp/reg/snapshots/${brokenHash}/upstream.json`, toolhive: `registries/mcp/reg/snapshots/${brokenHash}/toolhive.json` } };
    await store.put(pointerKey(REF), Buffer.from(JSON.stringify(broken)), { ifMatch: current.etag });
    const during = await api.get('/v0.1/servers?limit=100');
    assert.equal(during.status, 200);
    assert.deepEqual(during.body, good.body);
    // a pointer that is not JSON at all
    await store.put(pointerKey(REF), Buffer.from('not json'));
    assert.deepEqual((await api.get('/v0.1/servers?limit=100')).body, good.body);
    await store.delete([pointerKey(REF)]);
    const gone = await api.get('/v0.1/servers?limit=100');
    assert.equal(gone.status, 404);
    assert.equal(gone.json().detail, 'Registry not found');
    await api.close();
  });
});

test('without a default registry the root API says how to configure one', async () => {
  const t = await tempStore();
  const api = await startQuery({ store: t.store });
  try {
    const r = await api.get('/v0.1/servers');
    assert.equal(r.status, 404);
    assert.match(r.json().detail, /MCPREG_DEFAULT_REGISTRY/);
  } finally {
    await api.close();
    await t.cleanup();
  }
});
