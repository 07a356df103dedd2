/**
 * `/api/v1/servers?limit=…&cursor=…`: the cross-registry listing in pages. Walking every page
 * gives exactly the whole listing (same items, same order) in both formats and with filters;
 * a page reads only the registries it reaches; bad limits and cursors are 400s naming the
 * parameter. Registries from the real fixtures, in namespaces whose string order differs from
 * the (namespace, name) order of the listing (`team` before `team-a`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as S from '../../lib/api/schemas.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { fixtureEntries, publishEntries, publishRealToolhive } from './fixture.ts';
import { startQuery, tempStore, type Running } from './harness.ts';

let api: Running;
let cleanup: () => Promise<void>;
const reads: string[] = [];

/** the real store, recording the keys read */
function recording(store: SnapshotStore): SnapshotStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'get') return (key: string, options?: object) => (reads.push(key), store.get(key, options));
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

before(async () => {
  const t = await tempStore();
  cleanup = t.cleanup;
  await publishEntries(t.store, { namespace: 'mcp', name: 'upstream' }, fixtureEntries());
  await publishRealToolhive(t.store, { namespace: 'team', name: 'toolhive' });
  await publishRealToolhive(t.store, { namespace: 'team-a', name: 'toolhive' });
  await publishEntries(t.store, { namespace: 'team', name: 'z-upstream' }, fixtureEntries().slice(0, 7));
  api = await startQuery({ store: recording(t.store), config: { prefetch: false } });
});
after(async () => {
  await api?.close();
  await cleanup?.();
});

async function walk(query: string, limit: number): Promise<{ items: string[]; pages: number }> {
  const items: string[] = [];
  let cursor: string | undefined;
  for (let pages = 1; ; pages++) {
    const r = await api.get(`/api/v1/servers?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, r.body.toString());
    const body = r.json() as { servers: Array<{ name?: string; registry?: string; server?: { name: string }; _meta?: Record<string, { namespace: string; name: string }> }>; metadata: { count: number; nextCursor?: string }; total?: number };
    assert.equal(body.metadata.count, body.servers.length);
    assert.equal(body.total, undefined, 'a page has no total');
    assert.ok(body.servers.length <= limit);
    for (const s of body.servers) items.push(s.registry !== undefined ? `${s.registry}:${s.name}` : `${s._meta!['io.toolhive.registry/source']!.namespace}/${s._meta!['io.toolhive.registry/source']!.name}:${s.server!.name}`);
    if (!body.metadata.nextCursor) return { items, pages };
    cursor = body.metadata.nextCursor;
    assert.ok(pages < 1000, 'the walk ends');
  }
}

async function whole(query: string): Promise<string[]> {
  const r = await api.get(`/api/v1/servers?${query}`);
  assert.equal(r.status, 200);
  const body = r.json() as { servers: Array<{ name?: string; registry?: string; server?: { name: string }; _meta?: Record<string, { namespace: string; name: string }> }> };
  return body.servers.map((s) => (s.registry !== undefined ? `${s.registry}:${s.name}` : `${s._meta!['io.toolhive.registry/source']!.namespace}/${s._meta!['io.toolhive.registry/source']!.name}:${s.server!.name}`));
}

test('walking the pages gives the whole listing, in order, for several page sizes', async () => {
  const all = await whole('format=toolhive');
  assert.ok(all.length > 200, `${all.length} servers`);
  const registries = [...new Set(all.map((i) => i.split(':')[0]))];
  assert.deepEqual(registries, ['mcp/upstream', 'team/toolhive', 'team/z-upstream', 'team-a/toolhive'], 'namespace, then name');
  for (const limit of [1000, 100, 37, 7]) {
    const { items, pages } = await walk('format=toolhive', limit);
    assert.deepEqual(items, all, `limit ${limit}`);
    assert.equal(pages, Math.max(1, Math.ceil(all.length / limit)), `limit ${limit}: no empty last page`);
  }
});

test('upstream format and filters page the same way', async () => {
  for (const query of ['format=upstream', 'tier=community', 'format=upstream&transport=sse,streamable-http', 'registry=team/toolhive,team-a/toolhive&tag=database']) {
    const all = await whole(query);
    assert.ok(all.length > 0, query);
    assert.deepEqual((await walk(query, 13)).items, all, query);
  }
});

test('search= pages (from the substring index, stopping at a page and one more) walk to the whole search answer', async () => {
  for (const query of ['search=github', 'search=SQL', 'format=upstream&search=server', 'search=data&tag=database', 'search=zzzz-none', 'search=m', 'format=upstream&search=io.github']) {
    const all = await whole(query);
    for (const limit of [1, 4, 13, Math.max(1, all.length), all.length + 1]) {
      const { items, pages } = await walk(query, limit);
      assert.deepEqual(items, all, `${query}, limit ${limit}`);
      assert.equal(pages, Math.max(1, Math.ceil(all.length / limit)), `${query}, limit ${limit}: no empty last page`);
    }
  }
  assert.ok((await whole('search=github')).length > 10);
});

test('a page reads only the registries it reaches', async () => {
  const t = await tempStore();
  await publishRealToolhive(t.store, { namespace: 'a', name: 'first' });
  for (let i = 0; i < 6; i++) await publishRealToolhive(t.store, { namespace: 'b', name: `r${i}` });
  const small = await startQuery({ store: recording(t.store), config: { prefetch: false } });
  try {
    reads.length = 0;
    const r = await small.get('/api/v1/servers?limit=20');
    assert.equal(r.status, 200);
    const snapshotsRead = new Set(reads.filter((k) => k.endsWith('/toolhive.json')).map((k) => k.split('/').slice(1, 3).join('/')));
    // the first registry fills the page; at most one batch of read-ahead is loaded with it
    assert.ok(snapshotsRead.has('a/first'));
    assert.ok(snapshotsRead.size <= 4, `read ${[...snapshotsRead].join(', ')}`);
  } finally {
    await small.close();
    await t.cleanup();
  }
});

test('bad limit or cursor: 400 naming the parameter', async () => {
  for (const [q, location] of [
    ['limit=0', 'query.limit'],
    ['limit=1001', 'query.limit'],
    ['limit=ten', 'query.limit'],
    ['cursor=not-ours', 'query.cursor'],
    [`cursor=${Buffer.from('[1,2]').toString('base64url')}`, 'query.cursor'],
  ] as const) {
    const r = await api.get(`/api/v1/servers?${q}`);
    assert.equal(r.status, 400, q);
    const p = S.Problem.parse(r.json()) as { errors?: Array<{ location: string }> };
    assert.equal(p.errors?.[0]?.location, location, q);
  }
});
