import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseListParams } from '../api/params.ts';
import { listPage, prepareEntries, startRegistryApiServer, type RegistryApiServer } from './registry-api-server.ts';

const OFFICIAL = 'io.modelcontextprotocol.registry/official';

function row(name: string, version: string, updatedAt: string, extra: { status?: string; isLatest?: boolean } = {}) {
  return {
    server: { name, version, description: `${name} ${version}` },
    _meta: { [OFFICIAL]: { status: extra.status ?? 'active', publishedAt: updatedAt, updatedAt, isLatest: extra.isLatest ?? true } },
  };
}

const ROWS = [
  row('io.example/b', '1.0.0', '2026-01-02T00:00:00Z', { isLatest: false }),
  row('io.example/b', '2.0.0', '2026-01-05T00:00:00.000001Z'),
  row('io.example/a', '1.0.0', '2026-01-01T00:00:00Z'),
  row('io.example/gone', '1.0.0', '2026-01-03T00:00:00Z', { status: 'deleted' }),
  row('io.other/c', '0.1.0', '2026-01-04T00:00:00Z'),
  { server: { name: 'no-version' }, _meta: {} },
];

function page(query: string) {
  const params = parseListParams(new URLSearchParams(query));
  assert.ok(params.ok);
  const { loaded } = prepareEntries(ROWS);
  const p = listPage(loaded, params.value);
  return { keys: p.servers.map((s) => `${s.server.name}@${s.server.version}`), next: p.metadata.nextCursor, count: p.metadata.count };
}

describe('registry API example: list semantics', () => {
  test('sorted by name and version; malformed rows left out', () => {
    const { loaded, skipped } = prepareEntries(ROWS);
    assert.equal(skipped, 1);
    assert.deepEqual(
      loaded.entries.map((e) => `${e.server.name}@${e.server.version}`),
      ['io.example/a@1.0.0', 'io.example/b@1.0.0', 'io.example/b@2.0.0', 'io.example/gone@1.0.0', 'io.other/c@0.1.0'],
    );
  });

  test('cursor paging, deleted rows hidden by default', () => {
    assert.deepEqual(page('limit=2'), { keys: ['io.example/a@1.0.0', 'io.example/b@1.0.0'], next: 'io.example/b:1.0.0', count: 2 });
    assert.deepEqual(page('limit=2&cursor=io.example/b:1.0.0'), { keys: ['io.example/b@2.0.0', 'io.other/c@0.1.0'], next: 'io.other/c:0.1.0', count: 2 });
    assert.deepEqual(page('limit=2&cursor=io.other/c:0.1.0'), { keys: [], next: undefined, count: 0 });
    assert.deepEqual(page('cursor=io.example/b').keys, ['io.other/c@0.1.0'], 'a cursor without a version: names after it');
  });

  test('version, search, include_deleted and updated_since (strictly after, deletions included)', () => {
    assert.deepEqual(page('version=latest').keys, ['io.example/a@1.0.0', 'io.example/b@2.0.0', 'io.other/c@0.1.0']);
    assert.deepEqual(page('version=1.0.0').keys, ['io.example/a@1.0.0', 'io.example/b@1.0.0']);
    assert.deepEqual(page('search=OTHER').keys, ['io.other/c@0.1.0']);
    assert.deepEqual(page('include_deleted=true').keys.length, 5);
    assert.deepEqual(page('updated_since=2026-01-03T00:00:00Z').keys, ['io.example/b@2.0.0', 'io.other/c@0.1.0']);
    assert.deepEqual(page('updated_since=2026-01-02T00:00:00Z').keys, ['io.example/b@2.0.0', 'io.example/gone@1.0.0', 'io.other/c@0.1.0']);
    assert.deepEqual(page('updated_since=2026-01-05T00:00:00Z').keys, ['io.example/b@2.0.0'], 'microseconds count');
  });
});

describe('registry API example: over HTTP', () => {
  let dir: string;
  let file: string;
  let server: RegistryApiServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-api-example-'));
    file = join(dir, 'upstream-servers.json');
    await writeFile(file, JSON.stringify({ servers: ROWS }));
    server = await startRegistryApiServer({ file });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = async (path: string) => {
    const res = await fetch(server.url + path);
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown> };
  };

  test('list, versions, one version, latest', async () => {
    for (const prefix of ['/v0.1', '/v0']) {
      const list = await get(`${prefix}/servers?limit=1`);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.metadata, { count: 1, nextCursor: 'io.example/a:1.0.0' });
    }
    const versions = await get(`/v0.1/servers/${encodeURIComponent('io.example/b')}/versions`);
    assert.deepEqual((versions.body.servers as Array<{ server: { version: string } }>).map((s) => s.server.version), ['2.0.0', '1.0.0'], 'newest published first');
    const latest = await get(`/v0.1/servers/${encodeURIComponent('io.example/b')}/versions/latest`);
    assert.equal((latest.body.server as { version: string }).version, '2.0.0');
    const exact = await get(`/v0.1/servers/${encodeURIComponent('io.example/b')}/versions/1.0.0`);
    assert.equal((exact.body.server as { version: string }).version, '1.0.0');
    assert.equal((await get(`/v0.1/servers/${encodeURIComponent('io.example/gone')}/versions`)).status, 404, 'deleted: not found unless asked');
    assert.equal((await get(`/v0.1/servers/${encodeURIComponent('io.example/gone')}/versions?include_deleted=true`)).status, 200);
  });

  test('errors as problem+json: 422 for a bad limit, 400 for a bad timestamp, 404 elsewhere, 405 for writes', async () => {
    const bad = await get('/v0.1/servers?limit=0');
    assert.equal(bad.status, 422);
    assert.equal(bad.type, 'application/problem+json');
    assert.equal((await get('/v0.1/servers?updated_since=yesterday')).status, 400);
    const missing = await get('/servers');
    assert.equal(missing.status, 404);
    assert.match(String(missing.body.detail), /Did you mean '\/v0\.1\/servers'/);
    const post = await fetch(`${server.url}/v0.1/servers`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });

  test('the file is read again when it changes; an unreadable file is a 500 that names it', async () => {
    await writeFile(file, JSON.stringify({ servers: [row('io.new/x', '1.0.0', '2026-02-01T00:00:00Z')] }));
    const list = await get('/v0.1/servers');
    assert.deepEqual((list.body.servers as Array<{ server: { name: string } }>).map((s) => s.server.name), ['io.new/x']);
    await writeFile(file, '{ broken');
    const broken = await get('/v0.1/servers');
    assert.equal(broken.status, 500);
    assert.match(String(broken.body.detail), /example data file cannot be read/);
    assert.equal((await get('/v0.1/ping')).status, 200, 'ping does not need the file');
  });
});
