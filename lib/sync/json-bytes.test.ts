import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { JsonBytes, sha256OfJsonArray } from './json-bytes.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const decode = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

const entries = [
  { server: { name: 'io.example/a', version: '1.0.0', description: 'plain' }, _meta: { k: { isLatest: true } } },
  { server: { name: 'io.example/ü', version: '2.0.0', description: 'non-ASCII: ü € 𝄞 and a lone \ud800 surrogate', title: undefined } },
  { server: { name: 'io.example/q', version: '1.0.0', description: 'quotes " \\ and \n newlines \u0001' } },
];

test('array and object write exactly what JSON.stringify writes, across buffer growth', () => {
  const out = new JsonBytes(1); // far too small: grows many times
  out.text('{"servers":');
  out.array(entries);
  out.text(',"metadata":{"count":3}}');
  assert.equal(decode(out.bytes()), JSON.stringify({ servers: entries, metadata: { count: 3 } }));
  assert.equal(out.length, Buffer.byteLength(JSON.stringify({ servers: entries, metadata: { count: 3 } })));

  const registry = {
    $schema: 'https://example.com/schema.json',
    version: '1.0.0',
    last_updated: '2026-01-01T00:00:00Z',
    skipped: undefined,
    fn: () => 1,
    servers: { 'a-b': { image: 'x', tags: ['é'] }, gone: undefined, 'wéird "key"': { image: 'y' } },
    remote_servers: {},
    groups: [{ name: 'g', servers: { c: { image: 'z' } } }],
  };
  const th = new JsonBytes(16);
  th.object(registry, { entryMaps: ['servers', 'remote_servers'] });
  assert.equal(decode(th.bytes()), JSON.stringify(registry));
});

test('sha256 hashes the stand-ins in place of their values, and the bytes keep the real ones', () => {
  const registry = { version: '1.0.0', last_updated: '2026-05-01T10:00:00Z', servers: { a: { image: 'x' } } };
  const out = new JsonBytes(1024);
  out.object(registry, { entryMaps: ['servers'], standIns: { last_updated: 'null' } });
  assert.equal(decode(out.bytes()), JSON.stringify(registry));
  assert.equal(out.sha256(), sha256(JSON.stringify({ ...registry, last_updated: null })));
  const later = new JsonBytes(1024);
  later.object({ ...registry, last_updated: '2027-01-01T00:00:00Z' }, { entryMaps: ['servers'], standIns: { last_updated: 'null' } });
  assert.equal(later.sha256(), out.sha256(), 'last_updated does not change the hash');
  const changed = new JsonBytes(1024);
  changed.object({ ...registry, servers: { a: { image: 'y' } } }, { entryMaps: ['servers'], standIns: { last_updated: 'null' } });
  assert.notEqual(changed.sha256(), out.sha256(), 'content does');

  const plain = new JsonBytes(8);
  plain.array(entries);
  assert.equal(plain.sha256(), sha256(JSON.stringify(entries)));
});

test('sha256OfJsonArray equals the hash of JSON.stringify(array)', () => {
  assert.equal(sha256OfJsonArray(entries), sha256(JSON.stringify(entries)));
  assert.equal(sha256OfJsonArray([]), sha256('[]'));
  assert.equal(sha256OfJsonArray([undefined, 1]), sha256(JSON.stringify([undefined, 1])));
});
