/**
 * `/api/v1/servers` served from toolhive.json's bytes (lib/api/toolhive-bytes.ts) must answer
 * exactly what the parsed document answered: the same servers in the same order with the same
 * facets, and every item byte for byte `JSON.stringify(toolhiveItem(server, registry))` of the
 * parsed entry. Checked on the real fixtures (ToolHive's registry.json, the converters' inputs
 * and outputs), on generated registries (compact as the sync writes them, and indented so that
 * no entry can be spliced), on the bench's converted snapshot, on hand-written documents with
 * what JSON.parse treats specially (duplicate keys, integer-like keys, escapes, numbers V8
 * writes otherwise, entries without `name`, with `registry`, empty, not objects), and broken
 * documents must fail to load as JSON.parse fails. The memory budget counts what the index
 * holds (its own estimate, then the search index built on the first `search=`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { indexToolhiveBytes, indexToolhiveBytesInSteps, toolhiveItemBytes, writeToolhiveItems } from '../../lib/api/toolhive-bytes.ts';
import { answersTo, indexToolhive, toolhiveItem } from '../../lib/api/toolhive-view.ts';
import { buildSnapshot, FIXTURES, publishEntries } from './fixture.ts';
import { startQuery, tempStore } from './harness.ts';
import { facetIndex } from '../../lib/api/server-search.ts';
import { generateToolhiveRegistry, iterateUpstreamServers } from '../bench/generate.ts';

const REGISTRY = 'team/toolhive';

/** every check of the byte-served index against the parsed one; returns how many items were spliced */
async function assertSame(text: string, what: string): Promise<number> {
  const parsed = indexToolhive(JSON.parse(text));
  const bytes = indexToolhiveBytes(Buffer.from(text));
  assert.equal(bytes.version, parsed.version, what);
  assert.equal(bytes.lastUpdated, parsed.lastUpdated, what);
  assert.deepEqual(
    bytes.servers.map((s) => [s.key, s.kind]),
    parsed.servers.map((s) => [s.key, s.kind]),
    `${what}: servers and order`,
  );
  let spliced = 0;
  const expected: string[] = [];
  bytes.servers.forEach((s, i) => {
    const p = parsed.servers[i]!;
    assert.deepEqual({ ...s.facets }, { ...p.facets }, `${what}: facets of ${s.key}`);
    assert.deepEqual(s.entry, p.entry, `${what}: entry of ${s.key}`);
    const item = JSON.stringify(toolhiveItem(p, REGISTRY));
    expected.push(item);
    assert.equal(toolhiveItemBytes(s, REGISTRY).toString('utf8'), item, `${what}: item of ${s.key}`);
    assert.equal(JSON.stringify(toolhiveItem(s, REGISTRY)), item, `${what}: toolhiveItem of ${s.key}`);
    if (s.pieces('""')) spliced++;
    // the names it answers to
    const upstream = typeof p.entry.name === 'string' ? p.entry.name : `io.github.stacklok/${p.key}`;
    for (const name of [p.key, upstream, `${upstream}x`]) assert.equal(answersTo(s, name), answersTo(p, name), `${what}: ${s.key} answers to ${name}`);
  });
  const joined = await writeToolhiveItems([{ servers: bytes.servers, registry: REGISTRY }], '{"servers":[', `],"total":${expected.length}}`);
  assert.equal(joined.toString('utf8'), `{"servers":[${expected.join(',')}],"total":${expected.length}}`, `${what}: the whole listing`);
  // several registries (an empty one between), parsed servers beside byte-served ones
  if (parsed.servers.length > 0) {
    const other = JSON.stringify(toolhiveItem(parsed.servers[0]!, 'b/other'));
    const groups = [{ servers: bytes.servers, registry: REGISTRY }, { servers: [], registry: 'a/empty' }, { servers: parsed.servers.slice(0, 1), registry: 'b/other' }];
    assert.equal((await writeToolhiveItems(groups, '[', ']')).toString('utf8'), `[${[...expected, other].join(',')}]`, `${what}: several registries`);
  }
  assert.equal((await writeToolhiveItems([], '[', ']')).toString('utf8'), '[]');
  return spliced;
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return jsonFiles(p);
    return f.endsWith('.json') ? [p] : [];
  });
}

test('the real ToolHive registry: every item and the listing as from the parsed document', async () => {
  const text = readFileSync(join(FIXTURES, 'toolhive-registry.2026-02-20.json'), 'utf8');
  const spliced = await assertSame(text, 'toolhive-registry');
  assert.ok(indexToolhive(JSON.parse(text)).servers.length > 50);
  // the real file is indented: nothing can be spliced, everything is serialised from the entry
  assert.equal(spliced, 0);
  // the same registry written compactly (as the sync writes toolhive.json): spliced
  const compact = JSON.stringify(JSON.parse(text));
  assert.equal(await assertSame(compact, 'toolhive-registry compact'), indexToolhive(JSON.parse(text)).servers.length);
});

test('every other real fixture that is a JSON object', async () => {
  let checked = 0;
  for (const file of jsonFiles(FIXTURES)) {
    const text = readFileSync(file, 'utf8');
    const doc = JSON.parse(text) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) continue;
    await assertSame(text, file);
    await assertSame(JSON.stringify(doc), `${file} compact`);
    // a converter's single entry as a registry of one
    if (!('servers' in doc) && !('remote_servers' in doc)) await assertSame(JSON.stringify({ servers: { one: doc }, remote_servers: { one: doc } }), `${file} as an entry`);
    checked++;
  }
  assert.ok(checked >= 4, `checked ${checked} fixtures`);
});

test('generated registries, compact and indented, and the bench snapshot converted', async () => {
  for (const seed of [1, 8, 21]) {
    const doc = generateToolhiveRegistry(800, { seed });
    const n = indexToolhive(doc).servers.length;
    assert.equal(await assertSame(JSON.stringify(doc), `generated ${seed}`), n);
    assert.equal(await assertSame(JSON.stringify(doc, null, 2), `generated ${seed} indented`), 0);
  }
  const entries = [...iterateUpstreamServers(3000, { seed: 42 })].sort((a, b) => (a.server.name === b.server.name ? (a.server.version < b.server.version ? -1 : 1) : a.server.name < b.server.name ? -1 : 1));
  const toolhive = buildSnapshot(entries).toolhive.toString('utf8');
  assert.equal(await assertSame(toolhive, 'bench snapshot'), indexToolhive(JSON.parse(toolhive)).servers.length);
});

test('indexed in steps: the same index, and the event loop turns meanwhile', async () => {
  const text = JSON.stringify(generateToolhiveRegistry(3500, { seed: 4 }));
  const whole = indexToolhiveBytes(Buffer.from(text));
  let turns = 0;
  const timer = setInterval(() => turns++, 0);
  const stepped = await indexToolhiveBytesInSteps(Buffer.from(text));
  clearInterval(timer);
  assert.ok(turns > 0, 'timers ran while it was built');
  assert.equal(stepped.heldBytes, whole.heldBytes);
  assert.deepEqual(
    stepped.servers.map((s) => [s.key, s.kind, s.upstreamName, { ...s.facets }, toolhiveItemBytes(s, REGISTRY).toString()]),
    whole.servers.map((s) => [s.key, s.kind, s.upstreamName, { ...s.facets }, toolhiveItemBytes(s, REGISTRY).toString()]),
  );
  await assert.rejects(indexToolhiveBytesInSteps(Buffer.from(`${text.slice(0, -2)},}`)), SyntaxError);
});

test('what JSON.parse treats specially', async () => {
  const docs = [
    // duplicate keys: the last wins, in a map, in an entry and at the top level
    '{"servers":{"a":{"name":"x","tags":["t"]},"b":{"description":"B"},"a":{"name":"y","title":"second"}},"version":"1","version":"2"}',
    '{"servers":{"a":{"name":"x"}},"servers":{"b":{"name":"y","name":"z"}}}',
    '{"servers":{"a":{"name":"x"}},"servers":"gone","remote_servers":{"a":{"url":"u"}}}',
    // integer-like keys (V8 orders them first), __proto__, numbers and escapes V8 writes otherwise
    '{"servers":{"10":{"2":"two","1":"one","name":"n"},"__proto__":{"__proto__":{"x":1},"name":"p"},"n":{"v":1.0,"w":1e2,"x":-0,"s":"\\u0041\\/","u":"\\ud83d\\ude00é"}}}',
    '{"servers":{"c":{"1":"a","name":"m"}}}',
    // no name, a registry of its own, empty, not objects
    '{"servers":{"plain":{"description":"no name"},"reg":{"registry":"mine","name":"r"},"reg2":{"registry":"mine"},"empty":{},"arr":[1],"nul":null,"str":"s","num":3}}',
    // whitespace everywhere, keys with escapes
    ' \n{ "servers" : { "k\\"q" : { "name" : "a" } , "é\\u00e9" : {"tags":["A","b"],"transport":"SSE","tier":"Official"} } , "remote_servers":{"r":{"url":"x","name":"io.github.x/r"}} , "last_updated":"2025-01-01T00:00:00Z" } \r\n',
    // servers in both maps under one key, nothing at all
    '{"servers":{"same":{"name":"img"}},"remote_servers":{"same":{"name":"rem"}}}',
    '{}',
    '{"servers":{},"remote_servers":[]}',
  ];
  for (const d of docs) await assertSame(d, d);
});

test('a broken document fails to load as JSON.parse fails', () => {
  const broken = [
    '',
    ' ',
    '{',
    '{"servers":{"a":{"name":"x"}}',
    '{"servers":{"a":{"name":"x"}}}x',
    '{"servers":{"a":{"name":"x"},}}',
    '{"servers":{"a":{"name":"x"} "b":{}}}',
    '{"servers":{"a":{"name":tru}}}',
    '{"servers":{"a":{"name":"x"]}}',
    '{"servers":{"a" {"name":"x"}}}',
    '{"servers":{"a":{"name":"\\x"}}}',
    '{"servers":{"a\\q":{}}}',
    '{"version":01}',
    '{"servers":{"a":{}},"servers":{"b":[}}',
    '{"groups":[1,]}',
    '\ufeff{}',
    '{"a":"\u0001"}',
  ];
  for (const d of broken) {
    assert.throws(() => JSON.parse(d), SyntaxError, `JSON.parse accepts ${JSON.stringify(d)}`);
    assert.throws(() => indexToolhiveBytes(Buffer.from(d)), SyntaxError, JSON.stringify(d));
  }
  for (const d of ['[]', '"x"', '3', 'null']) {
    assert.throws(() => indexToolhive(JSON.parse(d)), /toolhive.json is not an object/);
    assert.throws(() => indexToolhiveBytes(Buffer.from(d)), /toolhive.json is not an object/);
  }
});

test('the memory budget counts what the index holds: the document, its facets, then the search index', async () => {
  const t = await tempStore();
  const entries = [...iterateUpstreamServers(3000, { seed: 9 })].sort((a, b) => (a.server.name === b.server.name ? (a.server.version < b.server.version ? -1 : 1) : a.server.name < b.server.name ? -1 : 1));
  const snap = await publishEntries(t.store, { namespace: 'team', name: 'held' }, entries);
  const q = await startQuery({ store: t.store, env: { MCPREG_DEFAULT_REGISTRY: 'team/held' } });
  try {
    const cache = q.server.handler.ctx.cache;
    assert.equal((await q.get(`/v0.1/servers?cursor=${encodeURIComponent(entries.at(-1)!.server.name)}`)).status, 200);
    const before = cache.heldBytes();
    assert.equal((await q.get('/api/v1/servers?limit=5')).status, 200);
    const index = indexToolhiveBytes(snap.toolhive);
    assert.equal(cache.heldBytes() - before, index.heldBytes, 'the ToolHive index counts its bytes and facets');
    assert.ok(index.heldBytes > snap.toolhive.length && index.heldBytes < 3 * snap.toolhive.length, `${index.heldBytes} bytes for a ${snap.toolhive.length}-byte document`);
    // the first search starts the substring index (built in steps); once built it is counted too
    const searchIndex = facetIndex(index.servers).bytes;
    const deadline = performance.now() + 10_000;
    while (cache.heldBytes() - before === index.heldBytes && performance.now() < deadline) {
      assert.equal((await q.get('/api/v1/servers?search=tools')).status, 200);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(cache.heldBytes() - before, index.heldBytes + searchIndex, 'and the search index once built');
  } finally {
    await q.close();
    await t.cleanup();
  }
});
