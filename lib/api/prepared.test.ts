import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { PreparedResponse, chooseEncoding, tagOfKey } from './prepared.ts';
import { ResponseCache } from './response-cache.ts';

test('strong ETags per representation; If-None-Match uses weak comparison and lists', () => {
  const r = new PreparedResponse(200, 'application/json', Buffer.from(JSON.stringify({ a: 'x'.repeat(2000) })));
  const other = new PreparedResponse(200, 'application/json', Buffer.from(JSON.stringify({ a: 'y'.repeat(2000) })));
  assert.match(r.etag, /^"[A-Za-z0-9_-]{27}"$/);
  assert.notEqual(r.etag, other.etag);
  assert.notEqual(r.etagFor('gzip'), r.etag);
  assert.notEqual(r.etagFor('br'), r.etagFor('gzip'));
  assert.ok(r.matches(r.etag));
  assert.ok(r.matches(`"nope", W/${r.etagFor('br')}`));
  assert.ok(r.matches('*'));
  assert.ok(!r.matches(other.etag));
  assert.ok(!r.matches(undefined));
});

test('gzip and br variants decode to the body; small bodies stay identity', async () => {
  const body = Buffer.from(JSON.stringify({ servers: Array.from({ length: 200 }, (_, i) => ({ name: `n${i}` })) }));
  const r = new PreparedResponse(200, 'application/json', body);
  assert.deepEqual(gunzipSync(await r.variant('gzip')), body);
  assert.deepEqual(brotliDecompressSync(await r.variant('br')), body);
  assert.ok((await r.variant('br')).length < body.length / 3);
  assert.ok(r.variant('br') instanceof Buffer, 'memoised');
  const small = new PreparedResponse(200, 'application/json', Buffer.from('{}'));
  assert.equal(small.variant('gzip'), small.body);
});

test('Accept-Encoding negotiation honours q-values', () => {
  assert.equal(chooseEncoding(undefined), 'identity');
  assert.equal(chooseEncoding('gzip, deflate, br'), 'br');
  assert.equal(chooseEncoding('gzip'), 'gzip');
  assert.equal(chooseEncoding('br;q=0, gzip;q=0.5'), 'gzip');
  assert.equal(chooseEncoding('br;q=0.4, gzip;q=0.8'), 'gzip');
  assert.equal(chooseEncoding('*'), 'br');
  assert.equal(chooseEncoding('identity'), 'identity');
  assert.equal(chooseEncoding('gzip;q=0'), 'identity');
});

test('the response cache evicts least recently used entries by bytes', () => {
  const cache = new ResponseCache(10_000);
  const r = (n: number) => new PreparedResponse(200, 'application/json', Buffer.alloc(n, 32));
  cache.set('a|1', r(2500));
  cache.set('b|1', r(2500));
  cache.set('c|1', r(2500));
  assert.ok(cache.get('a|1'));
  cache.set('d|1', r(2500));
  cache.set('e|1', r(2500));
  assert.ok(cache.bytes <= 10_000);
  assert.equal(cache.get('b|1'), undefined, 'least recently used went first');
  assert.ok(cache.get('a|1'));
  cache.set('huge', r(9000));
  assert.equal(cache.get('huge'), undefined, 'an entry over a quarter of the budget is not kept');
  cache.dropPrefix('a|');
  assert.equal(cache.get('a|1'), undefined);
});

test('the response cache keeps an offered answer from its second offer on (distinct searches are not cached)', () => {
  const cache = new ResponseCache(1_000_000);
  const r = () => new PreparedResponse(200, 'application/json', Buffer.alloc(3000, 32));
  for (let i = 0; i < 1000; i++) assert.equal(cache.offer(`s|${i}`, r()), false, 'a first offer is not kept');
  assert.equal(cache.size, 0);
  assert.equal(cache.bytes, 0);
  // asked again: kept, and then answered from the cache
  assert.equal(cache.offer('s|7', r()), true);
  assert.ok(cache.get('s|7'));
  assert.equal(cache.get('s|8'), undefined);
  // a key already kept is replaced like set() does
  assert.equal(cache.offer('s|7', r()), true);
  assert.equal(cache.size, 1);
  // the seen-once table is bounded: many one-off keys later, an old one is new again
  for (let i = 0; i < 200_000; i++) cache.offer(`x|${i}`, r());
  assert.equal(cache.offer('s|9', r()), false);
  assert.ok(cache.size < 10, `one-off keys kept: ${cache.size - 1}`);
});

test('a tag made from a cache key: stable, strong-looking, different per key', () => {
  assert.equal(tagOfKey('a|h1|L|x'), tagOfKey('a|h1|L|x'));
  assert.notEqual(tagOfKey('a|h1|L|x'), tagOfKey('a|h2|L|x'));
  const r = new PreparedResponse(200, 'application/json', Buffer.alloc(3000, 32), tagOfKey('k'));
  assert.match(r.etag, /^"[A-Za-z0-9_-]{27}"$/);
  assert.ok(r.matches(r.etag));
  assert.notEqual(r.etag, new PreparedResponse(200, 'application/json', Buffer.alloc(3000, 32)).etag);
});

test('the response cache follows a moving bound, counts compressed variants when ready and says what it evicts', async () => {
  let bound = 100_000;
  const evicted: string[] = [];
  const cache = new ResponseCache(() => bound, undefined, (key) => evicted.push(key));
  const body = (seed: number) => Buffer.from(JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ name: `server-${seed}-${i}`, n: i * seed }))));
  const a = new PreparedResponse(200, 'application/json', body(1));
  assert.ok(cache.set('a', a));
  const before = cache.bytes;
  assert.equal(before, a.body.length);
  await a.variant('br');
  assert.equal(cache.bytes, before + (a.variant('br') as Buffer).length, 'the br variant is counted as soon as it is ready');
  for (let i = 2; i < 12; i++) cache.set(`k${i}`, new PreparedResponse(200, 'application/json', body(i)));
  assert.ok(cache.bytes <= bound);
  assert.ok(evicted.includes('a'), 'the oldest went, and the listener heard of it');
  assert.equal(cache.has('a'), false);
  // the bound shrinks (snapshots loaded): trim frees down to it
  bound = 30_000;
  cache.trim();
  assert.ok(cache.bytes <= 30_000, `${cache.bytes} bytes kept under a bound of 30000`);
  for (const key of evicted) assert.equal(cache.has(key), false);
  // touch keeps an entry from being the next one evicted
  const keys = ['x1', 'x2'];
  for (const k of keys) cache.set(k, new PreparedResponse(200, 'application/json', Buffer.alloc(7000, 32)));
  cache.touch('x1');
  cache.set('x3', new PreparedResponse(200, 'application/json', Buffer.alloc(7000, 32)));
  cache.set('x4', new PreparedResponse(200, 'application/json', Buffer.alloc(7000, 32)));
  assert.ok(cache.has('x1'));
});

test('large bodies: variants decode to the body, ETags as for small ones, compressed once per content', async () => {
  const { LARGE_BYTES, largeVariantStats, prepareResponse } = await import('./prepared.ts');
  const body = Buffer.from(JSON.stringify({ servers: Array.from({ length: 30_000 }, (_, i) => ({ name: `io.github.acme/server-${i}`, description: `MCP server number ${i * 7919}` })) }));
  assert.ok(body.length > LARGE_BYTES);
  const a = await prepareResponse(200, 'application/json', body);
  const same = new PreparedResponse(200, 'application/json', body);
  assert.equal(a.etag, same.etag, 'the sliced hash is the same tag');
  assert.equal(a.etagFor('br'), `${a.etag.slice(0, -1)}-br"`);
  assert.equal(a.etagFor('gzip'), `${a.etag.slice(0, -1)}-gz"`);
  const [br, gz] = await Promise.all([a.variant('br'), a.variant('gzip')]);
  assert.deepEqual(brotliDecompressSync(br), body);
  assert.deepEqual(gunzipSync(gz), body);
  assert.ok(br.length < body.length / 4);
  const before = largeVariantStats();
  // the same body again (a large answer rebuilt for the same snapshot): no second compression
  const b = await prepareResponse(200, 'application/json', Buffer.from(body));
  assert.equal(await b.variant('br'), br, 'the remembered bytes, not a new compression');
  assert.deepEqual(largeVariantStats(), before);
  // another large body is its own entry
  const other = await prepareResponse(200, 'application/json', Buffer.concat([body, Buffer.from(' ')]));
  assert.notEqual(other.etag, a.etag);
  assert.deepEqual(brotliDecompressSync(await other.variant('br')), Buffer.concat([body, Buffer.from(' ')]));
  assert.equal(largeVariantStats().entries, before.entries + 1);
});
