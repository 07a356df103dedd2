/**
 * The compression path of large responses over HTTP: a registry listing over 1 MiB is served
 * in br and gzip that decode to the identity bytes, with the same ETag/Vary/304 behaviour as
 * small ones (that small requests keep being answered meanwhile is a timing matter: measured
 * by npm run bench -- query, compression-stall).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { LARGE_BYTES } from '../../lib/api/prepared.ts';
import { publishEntries } from './fixture.ts';
import { request, startQuery, tempStore, type Running } from './harness.ts';
import { generateUpstreamServers } from '../bench/generate.ts';

const REF = { namespace: 'team', name: 'large' };

describe('large responses', () => {
  let t: Awaited<ReturnType<typeof tempStore>>;
  let q: Running;

  before(async () => {
    t = await tempStore();
    const entries = generateUpstreamServers(6000, { seed: 17 }).sort((a, b) => (a.server.name === b.server.name ? (a.server.version < b.server.version ? -1 : 1) : a.server.name < b.server.name ? -1 : 1));
    await publishEntries(t.store, REF, entries);
    // a budget the large answers do not fit (the response cache keeps its minimum)
    q = await startQuery({ store: t.store, env: { MCPREG_DEFAULT_REGISTRY: 'team/large', MCPREG_MEMORY_BUDGET_MB: '8' } });
  });
  after(async () => {
    await q.close();
    await t.cleanup();
  });

  for (const path of ['/api/v1/servers?format=upstream', '/api/v1/servers', '/registries/team/large/registry.json']) {
    test(`${path}: br and gzip decode to the identity bytes; ETag per representation, Vary, 304`, async () => {
      const [br, gz] = await Promise.all([q.get(path, { 'accept-encoding': 'br' }), q.get(path, { 'accept-encoding': 'gzip' })]);
      const identity = await q.get(path);
      assert.equal(identity.status, 200);
      assert.ok(identity.body.length > LARGE_BYTES, `large (${identity.body.length} bytes)`);
      assert.equal(identity.headers['content-encoding'], undefined);
      assert.equal(br.headers['content-encoding'], 'br');
      assert.equal(gz.headers['content-encoding'], 'gzip');
      assert.deepEqual(brotliDecompressSync(br.body), identity.body);
      assert.deepEqual(gunzipSync(gz.body), identity.body);
      assert.equal(br.headers.etag, `${identity.headers.etag!.slice(0, -1)}-br"`);
      assert.equal(gz.headers.etag, `${identity.headers.etag!.slice(0, -1)}-gz"`);
      assert.match(String(br.headers.vary), /Accept-Encoding/);
      assert.equal(br.headers.vary, identity.headers.vary);
      assert.equal(Number(br.headers['content-length']), br.body.length);
      const again = await q.get(path, { 'accept-encoding': 'br' });
      assert.deepEqual(again.body, br.body, 'the same bytes the second time');
      // answered from the remembered compressed bytes (the listing is not built again): the
      // same representation, and identity still whole
      const [gzAgain, plainAgain] = await Promise.all([q.get(path, { 'accept-encoding': 'gzip;q=0.5, br;q=0' }), q.get(path, { 'accept-encoding': 'identity' })]);
      assert.deepEqual(gzAgain.body, gz.body);
      assert.equal(gzAgain.headers.etag, gz.headers.etag);
      assert.equal(gzAgain.headers.vary, identity.headers.vary);
      assert.deepEqual(plainAgain.body, identity.body);
      assert.equal(plainAgain.headers.etag, identity.headers.etag);
      const head = await request(`${q.url}${path}`, { method: 'HEAD', headers: { 'accept-encoding': 'br' } });
      assert.equal(head.status, 200);
      assert.equal(Number(head.headers['content-length']), br.body.length);
      assert.equal(head.headers.etag, br.headers.etag);
      const notModified = await q.get(path, { 'accept-encoding': 'br', 'if-none-match': br.headers.etag! });
      assert.equal(notModified.status, 304);
      assert.equal(notModified.headers.etag, br.headers.etag);
    });
  }
});
