/**
 * GET /api/v1/search over real registries: the real ToolHive registry (its registry.json as
 * toolhive.json) and the real upstream fixture, published to a real store and served by the
 * real query server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as S from '../../lib/api/schemas.ts';
import { fixtureEntries, publishEntries, publishRealToolhive } from './fixture.ts';
import { startQuery, tempStore, type Running } from './harness.ts';

interface Result {
  registry: string;
  name: string;
  score: number;
  exactName?: boolean;
  matches: Record<string, string[]>;
  server: Record<string, unknown> & { name: string; registry: string };
}
interface Body {
  query: string;
  results: Result[];
  total: number;
  offset: number;
  limit: number;
  nextOffset?: number;
}

let api: Running;
let cleanup: () => Promise<void>;
const search = async (query: string) => {
  const r = await api.get(`/api/v1/search?${query}`);
  assert.equal(r.status, 200, r.text);
  return r.json() as Body;
};

before(async () => {
  const t = await tempStore();
  cleanup = t.cleanup;
  await publishEntries(t.store, { namespace: 'mcp', name: 'upstream' }, fixtureEntries());
  await publishRealToolhive(t.store, { namespace: 'team', name: 'toolhive' });
  api = await startQuery({ store: t.store });
});
after(async () => {
  await api?.close();
  await cleanup?.();
});

describe('GET /api/v1/search', () => {
  test('relevance-ranked across registries: an exact name first, each hit with its registry, score and what matched', async () => {
    const body = await search('q=github');
    S.SearchResults.parse(body);
    assert.equal(body.query, 'github');
    assert.equal(body.results[0]!.name, 'github');
    assert.equal(body.results[0]!.exactName, true);
    assert.deepEqual([...new Set(body.results.filter((r) => r.exactName).map((r) => r.registry))].sort(), ['mcp/upstream', 'team/toolhive'], 'the same server in both registries, each named');
    for (const r of body.results) {
      assert.ok(r.score > 0);
      assert.equal(r.server.name, r.name);
      assert.equal(r.server.registry, r.registry);
      assert.ok(Object.values(r.matches).flat().length > 0);
    }
    const scores = body.results.map((r) => r.score);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'best first');
    assert.ok(body.results.some((r) => !r.exactName), 'other servers that mention github follow');
  });

  test('prefix and typo tolerant: postgre and postgress find the postgres servers', async () => {
    for (const q of ['postgres', 'postgre', 'postgress']) {
      const body = await search(`q=${q}&registry=team/toolhive`);
      assert.equal(body.results[0]!.name, 'postgres-mcp-pro', q);
      assert.ok(body.results.some((r) => r.name === 'neon'), q);
    }
  });

  test('name and title above tags and tool names above description', async () => {
    const body = await search('q=database&registry=team/toolhive&limit=100');
    const top = body.results[0]!;
    assert.equal(top.name, 'database-toolbox', 'database in its name and title');
    const rank = (name: string) => body.results.findIndex((r) => r.name === name);
    const inDescriptionOnly = body.results.find((r) => Object.values(r.matches).every((fields) => fields.every((f) => f === 'description')));
    const inTags = body.results.find((r) => Object.values(r.matches).some((fields) => fields.includes('tags')) && !Object.values(r.matches).some((f) => f.includes('names') || f.includes('title')));
    assert.ok(inDescriptionOnly && inTags, 'the corpus has both kinds');
    assert.ok(rank(inTags!.name) < rank(inDescriptionOnly!.name));
  });

  test('the filters of /api/v1/servers apply', async () => {
    const all = await search('q=database&limit=100');
    const tagged = await search('q=database&tag=postgres&limit=100');
    assert.ok(tagged.total > 0 && tagged.total < all.total);
    for (const r of tagged.results) assert.ok((r.server.tags as string[]).map((t) => t.toLowerCase()).includes('postgres'));
    const community = await search('q=server&tier=community&limit=100');
    assert.ok(community.total > 0);
    for (const r of community.results) assert.equal(String(r.server.tier).toLowerCase(), 'community');
    const remote = await search('q=github&transport=streamable-http&registry=team/toolhive');
    assert.deepEqual(remote.results.map((r) => r.name), ['github-remote']);
    const one = await search('q=github&registry=mcp/upstream');
    assert.ok(one.results.every((r) => r.registry === 'mcp/upstream'));
  });

  test('paged: limit and offset over the ranked hits; nextOffset while there are more', async () => {
    const all = await search('q=data&limit=100');
    assert.ok(all.total > 6);
    const pages: Result[] = [];
    let offset: number | undefined = 0;
    while (offset !== undefined) {
      const page: Body = await search(`q=data&limit=3&offset=${offset}`);
      assert.equal(page.total, all.total);
      assert.ok(page.results.length <= 3);
      pages.push(...page.results);
      offset = page.nextOffset;
    }
    assert.deepEqual(pages.map((r) => `${r.registry}/${r.name}`), all.results.map((r) => `${r.registry}/${r.name}`));
    const none = await search('q=zzzzqqqqxxxx');
    assert.deepEqual([none.total, none.results.length, none.nextOffset], [0, 0, undefined]);
  });

  test('bad requests are 400 problems naming the parameter', async () => {
    for (const [query, location] of [
      ['', 'query.q'],
      ['q=%20', 'query.q'],
      ['q=x&limit=0', 'query.limit'],
      ['q=x&limit=101', 'query.limit'],
      ['q=x&offset=-1', 'query.offset'],
      [`q=${'x'.repeat(300)}`, 'query.q'],
      ['q=x&registry=nonsense', 'query.registry'],
    ] as const) {
      const r = await api.get(`/api/v1/search?${query}`);
      assert.equal(r.status, 400, query);
      assert.match(String(r.headers['content-type']), /application\/problem\+json/);
      assert.equal(r.json().errors[0].location, location, query);
    }
    assert.equal((await api.get('/api/v1/search/x')).status, 404);
  });

  test('described in /openapi.json', async () => {
    const doc = (await api.get('/openapi.json')).json();
    assert.ok(doc.paths['/api/v1/search'].get.parameters.some((p: { name: string }) => p.name === 'q'));
    assert.ok(doc.components.schemas.SearchResults);
  });

  test('answers carry a strong ETag; a repeated search is a 304', async () => {
    const first = await api.get('/api/v1/search?q=fetch');
    const etag = String(first.headers.etag);
    assert.match(etag, /^"/);
    assert.equal((await api.get('/api/v1/search?q=fetch', { 'If-None-Match': etag })).status, 304);
  });
});
