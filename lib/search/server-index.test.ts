import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { toolhiveSearchDocument, upstreamSearchDocument, type SearchDocument } from './documents.ts';
import { nameKey, ServerSearchIndex } from './server-index.ts';

const REAL = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'real', 'toolhive-registry.2026-02-20.json');
const registry = JSON.parse(readFileSync(REAL, 'utf8')) as { servers: Record<string, Record<string, unknown>>; remote_servers: Record<string, Record<string, unknown>> };
const entries = [...Object.entries(registry.servers), ...Object.entries(registry.remote_servers)];
const docs = entries.map(([key, entry], i) => toolhiveSearchDocument(i, key, entry));
const keyOf = (id: number) => entries[id]![0];

describe('server search index on the real ToolHive registry', async () => {
  const index = await ServerSearchIndex.build(docs, { chunkSize: 10 });
  const names = (q: string, n = 5) => index.search(q).slice(0, n).map((h) => keyOf(h.id));

  it('indexes every server', () => assert.equal(index.size, entries.length));

  it('an exact name comes first, flagged, even when the word is in many other servers', () => {
    const hits = index.search('github');
    assert.equal(keyOf(hits[0]!.id), 'github');
    assert.equal(hits[0]!.exactName, true);
    assert.ok(hits.length >= 2, 'other servers mention github too');
    assert.ok(hits.slice(1).every((h) => !h.exactName));
    assert.equal(names('Postgres MCP Pro', 1)[0], 'postgres-mcp-pro', 'case, spaces and hyphens aside');
  });

  it('prefixes and typos find postgres servers', () => {
    for (const q of ['postgres', 'postgre', 'postgress', 'PostgreSQL']) assert.ok(names(q, 3).includes('postgres-mcp-pro'), `${q}: ${names(q)}`);
    const typo = index.search('postgress').find((h) => keyOf(h.id) === 'postgres-mcp-pro')!;
    assert.ok(Object.keys(typo.matches).includes('postgres'), 'the fuzzy match names the indexed term');
  });

  it('camelCase tool names match their words', () => {
    assert.ok(names('email notification', 3).includes('graphlit'), names('email notification').join(', '));
  });

  it('several words: servers matching more of them rank higher', () => {
    const top = names('kubernetes cluster management', 3);
    assert.ok(top.some((k) => /k8s|kubernetes/.test(k)), top.join(', '));
  });

  it('the filter keeps only the ids it accepts; an empty query finds nothing', () => {
    const remotes = new Set(entries.map(([k], i) => (registry.remote_servers[k] ? i : -1)).filter((i) => i >= 0));
    const hits = index.search('github', { filter: (id) => remotes.has(id) });
    assert.ok(hits.length > 0 && hits.every((h) => remotes.has(h.id)));
    assert.deepEqual(index.search('  --  '), []);
  });

  it('a serialised index answers the same', () => {
    const loaded = ServerSearchIndex.load(index.serialize());
    for (const q of ['github', 'postgress', 'database query']) {
      const a = loaded.search(q);
      const b = index.search(q);
      assert.deepEqual(a.map((h) => [h.id, h.matches]), b.map((h) => [h.id, h.matches]));
      a.forEach((h, i) => assert.ok(Math.abs(h.score - b[i]!.score) < 1e-9 * b[i]!.score, `${q}: scores equal up to rounding`));
    }
  });
});

describe('field weights: name and title above tags and tool names above description', () => {
  const doc = (id: number, fields: Partial<SearchDocument>): SearchDocument => ({ id, names: [`server-${id}`], title: '', tags: [], tools: [], description: 'an unrelated sentence of filler words', ...fields });
  const corpus = [
    doc(0, { description: 'talks to the zebra service and more filler words' }),
    doc(1, { tools: ['zebra_list'] }),
    doc(2, { tags: ['zebra'] }),
    doc(3, { title: 'Zebra' }),
    doc(4, { names: ['zebra-server'] }),
    doc(5, {}),
  ];
  const index = ServerSearchIndex.buildSync(corpus);

  it('orders the fields by weight', () => {
    const order = index.search('zebra').map((h) => h.id);
    const rank = (id: number) => order.indexOf(id);
    assert.ok(rank(4) < rank(2) && rank(3) < rank(2), `names and title above tags: ${order}`);
    assert.ok(rank(2) < rank(0) && rank(1) < rank(0), `tags and tools above description: ${order}`);
    assert.ok(!order.includes(5));
  });

  it('prefixes for the last word and unknown words, one edit for unknown words; searching teaches the index nothing', () => {
    const idx = ServerSearchIndex.buildSync([doc(0, { title: 'Cluster' }), doc(1, { title: 'Clusters' }), doc(2, { title: 'Tools' })]);
    const ids = (q: string) => idx.search(q).map((h) => h.id).sort();
    assert.deepEqual(ids('cluster'), [0, 1], 'the last word also matches as a prefix');
    assert.deepEqual(ids('cluster tools'), [0, 2], 'a known word before the last matches exactly');
    assert.deepEqual(ids('clust tools'), [0, 1, 2], 'an unknown word matches as a prefix');
    assert.deepEqual(ids('clustr'), [0], 'an unknown word matches within one edit');
    assert.deepEqual(ids('clustr'), [0], 'the query did not become a known word');
  });

  it('names: the key and the last segment of the upstream name', () => {
    const d = toolhiveSearchDocument(7, 'gh', { name: 'io.github.stacklok/github', description: 'x' });
    assert.deepEqual(d.names, ['gh', 'github']);
    const u = upstreamSearchDocument(8, { name: 'io.github.acme/widgets', description: 'Widgets', version: '1.0.0' } as never);
    assert.deepEqual(u.names, ['widgets']);
    assert.equal(nameKey('Postgres_MCP-Pro'), 'postgres mcp pro');
  });
});
