import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, writeCanonicalJson } from './canonical-json.ts';
import { contentHash, createContentHasher } from './content-hash.ts';

describe('canonical JSON', () => {
  it('sorts keys at every level, keeps array order, writes no whitespace', () => {
    assert.equal(canonicalJson({ b: [3, { z: 1, a: 'x' }], a: null, c: { y: true, x: -0 } }), '{"a":null,"b":[3,{"a":"x","z":1}],"c":{"x":0,"y":true}}');
  });
  it('writes strings and numbers exactly as JSON.stringify does', () => {
    const value = { s: 'quote " backslash \\ newline \n tab \t nul \u0000 é 🎉 lone \ud800', n: [1e21, 0.1, -5, 1.5e-7] };
    assert.deepEqual(JSON.parse(canonicalJson(value)), JSON.parse(JSON.stringify(value)));
    assert.equal(canonicalJson('\ud800'), JSON.stringify('\ud800'));
  });
  it('leaves out undefined properties like JSON.stringify', () => {
    assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
  });
  it('streams in chunks that add up to the same text', () => {
    const value = { list: Array.from({ length: 500 }, (_, i) => ({ i, name: `n${i}` })) };
    const chunks: string[] = [];
    writeCanonicalJson(value, (c) => chunks.push(c), { chunkSize: 256 });
    assert.ok(chunks.length > 10);
    assert.equal(chunks.join(''), canonicalJson(value));
  });
});

describe('contentHash', () => {
  const registry = (lastUpdated: string, stars: number) => ({
    version: '1.0.0',
    last_updated: lastUpdated,
    servers: { a: { description: 'd', image: 'x', metadata: { stars, last_updated: lastUpdated } } },
  });
  const response = (updatedAt: string, status = 'active') => ({
    servers: [{ server: { name: 'io.github.a/b', version: '1.0.0', description: 'd' }, _meta: { 'io.modelcontextprotocol.registry/official': { status, publishedAt: updatedAt, updatedAt, statusChangedAt: updatedAt, isLatest: true } } }],
    metadata: { count: 1 },
  });

  it('is sha256 hex and independent of key order', () => {
    const h = contentHash({ a: 1, b: 2 });
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.equal(h, contentHash({ b: 2, a: 1 }));
  });
  it('ignores timestamps, not content', () => {
    assert.equal(contentHash(registry('2026-01-01T00:00:00Z', 5)), contentHash(registry('2026-02-02T00:00:00Z', 5)));
    assert.notEqual(contentHash(registry('2026-01-01T00:00:00Z', 5)), contentHash(registry('2026-01-01T00:00:00Z', 6)));
    assert.equal(contentHash(response('2025-01-01T00:00:00Z')), contentHash(response('2025-06-01T00:00:00Z')));
    assert.notEqual(contentHash(response('2025-01-01T00:00:00Z')), contentHash(response('2025-01-01T00:00:00Z', 'deprecated')));
    assert.equal(contentHash({ meta: { last_updated: 'a' }, data: { servers: [] } }), contentHash({ meta: { last_updated: 'b' }, data: { servers: [] } }));
  });
  it('counts a last_updated that is not a timestamp of the registry', () => {
    assert.notEqual(contentHash({ custom_metadata: { last_updated: 'a' } }), contentHash({ custom_metadata: { last_updated: 'b' } }));
  });
  it('hashes several values apart from each other', () => {
    assert.equal(contentHash('a', 'b'), createContentHasher().add('a').add('b').digest());
    assert.notEqual(contentHash(['a', 'b']), contentHash('a', 'b'));
    assert.notEqual(contentHash('ab'), contentHash('a', 'b'));
  });
});
