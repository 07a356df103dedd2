/** The upstream-API test server behaves as the reference describes (the registry tests rely on it). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { entry, generateEntries, OFFICIAL, startUpstreamApi, type TestUpstreamApi } from './upstream-api.ts';

describe('upstream-api test server', () => {
  let api: TestUpstreamApi;
  before(async () => {
    api = await startUpstreamApi({
      entries: [
        ...generateEntries(3, 2),
        entry({ name: 'io.x/gone', version: '1.0.0' }, { publishedAt: '2026-05-01T00:00:00Z', updatedAt: '2026-05-02T00:00:00.5Z', status: 'deleted' }),
      ],
    });
  });
  after(() => api.close());
  const get = async (q: string) => {
    const res = await fetch(`${api.url}/v0.1/servers${q}`);
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as { servers: Array<{ server: { name: string; version: string } }>; metadata: { count: number; nextCursor?: string } } };
  };

  it('pages by name:version keyset and omits the cursor on a short page', async () => {
    const p1 = await get('?limit=4');
    assert.equal(p1.body.metadata.count, 4);
    assert.equal(p1.body.metadata.nextCursor, 'io.github.gen/server-000001:1.0.1');
    const p2 = await get(`?limit=4&cursor=${encodeURIComponent(p1.body.metadata.nextCursor!)}`);
    assert.deepEqual(p2.body.servers.map((s) => `${s.server.name}:${s.server.version}`), ['io.github.gen/server-000002:1.0.0', 'io.github.gen/server-000002:1.0.1']);
    assert.equal(p2.body.metadata.nextCursor, undefined);
  });
  it('rejects limits outside 1..100 with 422 problem+json', async () => {
    for (const l of ['0', '101', 'abc']) {
      const r = await get(`?limit=${l}`);
      assert.equal(r.status, 422);
      assert.equal(r.type, 'application/problem+json');
    }
  });
  it('updated_since is strictly after, includes deleted rows, and validates', async () => {
    const r = await get(`?updated_since=${encodeURIComponent('2026-05-02T00:00:00.4Z')}`);
    assert.deepEqual(r.body.servers.map((s) => s.server.name), ['io.x/gone']);
    assert.equal((await get(`?updated_since=${encodeURIComponent('2026-05-02T00:00:00.5Z')}`)).body.servers.length, 0);
    assert.equal((await get('?updated_since=2026-05-02')).status, 400);
    assert.equal((await get('?updated_since=2026-05-02T00:00:00Z&include_deleted=false')).status, 400);
  });
  it('deleted rows only with include_deleted; version=latest one row per name', async () => {
    assert.ok(!(await get('?limit=100')).body.servers.some((s) => s.server.name === 'io.x/gone'));
    assert.ok((await get('?limit=100&include_deleted=true')).body.servers.some((s) => s.server.name === 'io.x/gone'));
    const latest = await get('?version=latest&limit=100');
    assert.deepEqual(latest.body.servers.map((s) => s.server.version), ['1.0.1', '1.0.1', '1.0.1']);
    assert.ok(latest.body.servers.every((s) => (s as unknown as { _meta: Record<string, { isLatest: boolean }> })._meta[OFFICIAL]!.isLatest));
  });
  it('serves only the configured prefixes', async () => {
    api.setPrefixes(['v0']);
    try {
      assert.equal((await fetch(`${api.url}/v0.1/servers`)).status, 404);
      assert.equal((await fetch(`${api.url}/v0/servers`)).status, 200);
    } finally {
      api.setPrefixes(['v0', 'v0.1']);
    }
  });
});
