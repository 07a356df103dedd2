/**
 * The memory budget end to end: a query server whose budget is small next to its snapshot
 * keeps its prepared responses within what the snapshot leaves of the budget while every
 * request is a different page, and still answers every page with the right bytes; a reply
 * remembered by URL (the fast path) never outlives its cached response, and one whose body
 * is still being compressed is written once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createLogger } from '../../lib/log.ts';
import { MIB, MIN_RESPONSE_CACHE } from '../../lib/api/memory-budget.ts';
import { publishEntries } from './fixture.ts';
import { startQuery, tempStore, type Running } from './harness.ts';
import { generateUpstreamServers } from '../bench/generate.ts';
import type { ServerResponse } from '../../lib/formats/upstream-schema.ts';

const REF = { namespace: 'team', name: 'budget' };

describe('memory budget', () => {
  let t: Awaited<ReturnType<typeof tempStore>>;
  let q: Running;
  let entries: ServerResponse[];
  const errors: string[] = [];

  before(async () => {
    t = await tempStore();
    entries = generateUpstreamServers(4000, { seed: 5 }).sort((a, b) => (a.server.name === b.server.name ? (a.server.version < b.server.version ? -1 : 1) : a.server.name < b.server.name ? -1 : 1));
    await publishEntries(t.store, REF, entries);
    const logger = createLogger({ level: 'error', write: (line) => errors.push(line) });
    q = await startQuery({ store: t.store, env: { MCPREG_DEFAULT_REGISTRY: 'team/budget', MCPREG_MEMORY_BUDGET_MB: '8' }, logger });
  });
  after(async () => {
    await q.close();
    await t.cleanup();
  });

  test('distinct pages keep the response cache within what the snapshot leaves of the budget', async () => {
    const responses = q.server.handler.ctx.responses;
    const first = await q.get('/v0.1/servers?limit=100', { 'accept-encoding': 'br' });
    assert.equal(first.status, 200);
    // the whole snapshot loaded (a page past the last name needs every version)
    assert.equal((await q.get(`/v0.1/servers?cursor=${encodeURIComponent(entries.at(-1)!.server.name)}`)).status, 200);
    const held = q.server.handler.ctx.cache.heldBytes();
    assert.ok(held > 3 * MIB, `the snapshot is counted (${held} bytes held)`);
    const bound = Math.max(MIN_RESPONSE_CACHE, 8 * MIB - held);
    let maxSeen = 0;
    for (let i = 0; i < entries.length; i += 40) {
      const e = entries[i]!;
      const r = await q.get(`/v0.1/servers?limit=100&cursor=${encodeURIComponent(`${e.server.name}:${e.server.version}`)}`, i % 80 === 0 ? { 'accept-encoding': 'gzip' } : {});
      assert.equal(r.status, 200);
      maxSeen = Math.max(maxSeen, responses.bytes);
      assert.ok(responses.bytes <= responses.maxBytes, `${responses.bytes} bytes cached over a bound of ${responses.maxBytes}`);
    }
    assert.ok(Math.abs(responses.maxBytes - bound) < MIB, `the bound (${responses.maxBytes}) is the budget less the snapshot (${bound})`);
    assert.ok(maxSeen > bound / 2, `the cache was used (${maxSeen} of ${bound} bytes)`);
    // the first page was evicted long ago: asked again, it is the same bytes and ETag
    const again = await q.get('/v0.1/servers?limit=100', { 'accept-encoding': 'br' });
    assert.equal(again.headers.etag, first.headers.etag);
    assert.deepEqual(brotliDecompressSync(again.body), brotliDecompressSync(first.body));
  });

  test('a URL answered from the fast path before its compressed variant exists is written once, compressed', async () => {
    const e = entries[1234]!;
    const path = `/v0.1/servers/${encodeURIComponent(e.server.name)}/versions`;
    const plain = await q.get(path);
    const plain2 = await q.get(path); // now remembered by URL
    assert.equal(plain.status, 200);
    assert.deepEqual(plain2.body, plain.body);
    assert.ok(plain.body.length > 1024, 'large enough to be compressed');
    const before = errors.length;
    const [br, gz] = await Promise.all([q.get(path, { 'accept-encoding': 'br' }), q.get(path, { 'accept-encoding': 'gzip' })]);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.deepEqual(brotliDecompressSync(br.body), plain.body);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(gunzipSync(gz.body), plain.body);
    assert.equal(br.headers.etag, `${plain.headers.etag!.slice(0, -1)}-br"`);
    assert.equal(br.headers.vary, 'Accept-Encoding');
    assert.equal(Number(br.headers['content-length']), br.body.length);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(errors.slice(before), [], 'no second write of the same response');
  });
});
