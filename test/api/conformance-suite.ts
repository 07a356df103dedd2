/**
 * Conformance of the upstream-compatible API with the official MCP registry API, written from
 * the reference (../shared/reference/upstream-registry-api.md §2–§9 and the §16 checklist).
 * One suite, run against any published registry whose rows are (a superset of the names of)
 * the query API test fixture (test/api/fixture.ts): a registry published from the fixture
 * itself (conformance.test.ts), and an aggregate of members holding it
 * (test/sync/aggregate-conformance.test.ts). `entries` are the rows the registry's snapshot
 * holds; the suite checks that the API serves exactly them, as the official registry would.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OFFICIAL_KEYS, OFFICIAL_META } from '../../lib/api/entry.ts';
import * as S from '../../lib/api/schemas.ts';
import type { ServerResponse } from '../../lib/formats/upstream-schema.ts';
import { request, type RawResponse, type Running } from './harness.ts';

export interface ConformanceTarget {
  /** the query API, with the registry also as its default (MCPREG_DEFAULT_REGISTRY) */
  api: Running;
  ref: { namespace: string; name: string };
  /** every row of the registry's snapshot, sorted by (name, version) */
  entries: ServerResponse[];
  close(): Promise<void>;
}

const key = (e: ServerResponse) => `${e.server.name}:${e.server.version}`;
const official = (e: ServerResponse) => e._meta![OFFICIAL_META]!;
const enc = encodeURIComponent;

export function conformanceSuite(setup: () => Promise<ConformanceTarget>): void {
  let target: ConformanceTarget;
  let api: Running;
  let entries: ServerResponse[];
  let visible: ServerResponse[];
  let names: string[];

  before(async () => {
    target = await setup();
    api = target.api;
    entries = target.entries;
    visible = entries.filter((e) => official(e).status !== 'deleted');
    names = [...new Set(entries.map((e) => e.server.name))];
  });
  after(async () => {
    await target?.close();
  });

  function assertProblem(r: RawResponse, status: number, detail?: RegExp | string): any {
    assert.equal(r.status, status, r.text);
    assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
    const p = S.Problem.parse(r.json());
    assert.equal(p.status, status);
    assert.equal(typeof p.title, 'string');
    assert.ok(p.title.length > 0);
    if (typeof detail === 'string') assert.equal(p.detail, detail);
    else if (detail) assert.match(p.detail, detail);
    return p;
  }

  function list(r: RawResponse) {
    assert.equal(r.status, 200, r.text);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    const body = S.ServerList.parse(r.json());
    assert.equal(body.metadata.count, body.servers.length);
    return body;
  }

  async function walk(prefix: string, query: string): Promise<{ rows: any[]; pages: number }> {
    const rows: any[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const r = await api.get(`${prefix}/servers?${query}${cursor === undefined ? '' : `&cursor=${enc(cursor)}`}`);
      const body = list(r);
      pages++;
      rows.push(...body.servers);
      const limit = Number(new URLSearchParams(query).get('limit') ?? 30);
      if (body.metadata.nextCursor === undefined) {
        assert.ok(body.servers.length <= limit);
        return { rows, pages };
      }
      // a cursor only on a full page, naming its last row
      assert.equal(body.servers.length, limit);
      const last = body.servers[body.servers.length - 1]!;
      assert.equal(body.metadata.nextCursor, `${last.server.name}:${last.server.version}`);
      cursor = body.metadata.nextCursor;
      assert.ok(pages < 1000, 'the walk terminates');
    }
  }

  describe('GET /v0.1/servers', () => {
    test('a page: 200, JSON, servers array, count = length, default limit 30 with a cursor', async () => {
      const body = list(await api.get('/v0.1/servers'));
      assert.ok(visible.length > 30, 'the fixture needs more than one default page');
      assert.equal(body.servers.length, 30);
      assert.ok(body.metadata.nextCursor);
    });

    for (const limit of [1, 7, 30, 100]) {
      test(`walking with limit=${limit} returns every visible version exactly once, in (name, version) order`, async () => {
        const { rows } = await walk('/v0.1', `limit=${limit}`);
        const got = rows.map((r) => `${r.server.name}:${r.server.version}`);
        assert.equal(new Set(got).size, got.length, 'no duplicates');
        assert.deepEqual(got, visible.map(key));
        // the documents are the published ones, unchanged
        const byKey = new Map(entries.map((e) => [key(e), e]));
        for (const r of rows) assert.deepEqual(r.server, byKey.get(`${r.server.name}:${r.server.version}`)!.server);
      });
    }

    test('with include_deleted=true the walk returns every version; deprecated ones are in the default walk', async () => {
      const { rows } = await walk('/v0.1', 'limit=10&include_deleted=true');
      assert.deepEqual(
        rows.map((r) => `${r.server.name}:${r.server.version}`),
        entries.map(key),
      );
      const { rows: plain } = await walk('/v0.1', 'limit=100');
      assert.ok(plain.some((r) => r._meta[OFFICIAL_META].status === 'deprecated'));
      assert.ok(!plain.some((r) => r._meta[OFFICIAL_META].status === 'deleted'));
    });

    test('data ending on a page boundary yields one extra empty page without a cursor', async () => {
      const { pages, rows } = await walk('/v0.1', `limit=${visible.length}`);
      assert.equal(rows.length, visible.length);
      assert.equal(pages, 2);
    });

    test('/v0 and /v0.1 answer identically', async () => {
      for (const q of ['', '?limit=5', '?version=latest&search=git']) {
        const a = await api.get(`/v0.1/servers${q}`);
        const b = await api.get(`/v0/servers${q}`);
        assert.equal(a.status, 200);
        assert.deepEqual(b.body, a.body, q);
      }
    });

    test('limit 0, 101, -1 and non-integers are 422 problems at query.limit', async () => {
      for (const [limit, value] of [
        ['0', 0],
        ['101', 101],
        ['-1', -1],
        ['abc', 'abc'],
        ['2.5', '2.5'],
      ] as const) {
        const p = assertProblem(await api.get(`/v0.1/servers?limit=${limit}`), 422);
        assert.equal(p.title, 'Unprocessable Entity');
        assert.equal(p.errors[0].location, 'query.limit');
        assert.deepEqual(p.errors[0].value, value);
        assert.equal(typeof p.errors[0].message, 'string');
      }
      const bad = assertProblem(await api.get('/v0.1/servers?include_deleted=maybe'), 422);
      assert.equal(bad.errors[0].location, 'query.include_deleted');
    });

    test('version=latest returns exactly one isLatest row per name (names with a visible latest)', async () => {
      const { rows } = await walk('/v0.1', 'version=latest&limit=9');
      const expected = visible.filter((e) => official(e).isLatest).map(key);
      assert.deepEqual(
        rows.map((r) => `${r.server.name}:${r.server.version}`),
        expected,
      );
      assert.ok(rows.every((r) => r._meta[OFFICIAL_META].isLatest === true));
      assert.equal(new Set(rows.map((r) => r.server.name)).size, rows.length);
      // every name that is not wholly deleted has one
      const alive = new Set(visible.map((e) => e.server.name));
      assert.equal(rows.length, alive.size);
    });

    test('version=<exact> matches that version string across servers', async () => {
      const { rows } = await walk('/v0.1', 'version=1.0.1%2Bbuild.7&limit=100');
      assert.ok(rows.length > 0);
      assert.deepEqual(
        rows.map((r) => `${r.server.name}:${r.server.version}`),
        visible.filter((e) => e.server.version === '1.0.1+build.7').map(key),
      );
    });

    test('search is a case-insensitive substring of the name only; % and _ are literal', async () => {
      const names = async (q: string) => [...new Set((await walk('/v0.1', `limit=100&${q}`)).rows.map((r) => r.server.name))];
      assert.deepEqual(await names('search=GITHUB'), [...new Set(visible.map((e) => e.server.name).filter((n) => n.toLowerCase().includes('github')))]);
      assert.deepEqual(await names('search=my_server'), ['io.github.test/my_server'], '_ does not match myXserver');
      assert.deepEqual(await names('search=%25'), []);
      assert.deepEqual(await names('search=my%25server'), []);
      // description text is not searched
      const description = visible[0]!.server.description.split(' ')[0]!;
      assert.ok(!visible[0]!.server.name.includes(description.toLowerCase()));
      assert.deepEqual(await names(`search=${enc(description)}&version=latest`), visible.filter((e) => e.server.name.toLowerCase().includes(description.toLowerCase()) && official(e).isLatest).map((e) => e.server.name));
      assert.deepEqual(await names('search=no%20such%20words'), []);
    });

    test('updated_since is strictly after, includes deleted rows, and combines with other filters', async () => {
      const times = [...new Set(entries.map((e) => official(e).updatedAt!))].sort();
      const pivot = times[Math.floor(times.length / 2)]!;
      const { rows } = await walk('/v0.1', `limit=100&updated_since=${enc(pivot)}`);
      const expected = entries.filter((e) => official(e).updatedAt! > pivot).map(key);
      assert.deepEqual(
        rows.map((r) => `${r.server.name}:${r.server.version}`),
        expected,
      );
      assert.ok(rows.some((r) => r._meta[OFFICIAL_META].status === 'deleted'), 'deleted rows are part of an incremental sync');
      assert.ok(!rows.some((r) => r._meta[OFFICIAL_META].updatedAt === pivot), 'a row updated exactly at the instant is not after it');
      // an offset is the same instant; a literal + must be encoded
      const plus = pivot.replace('Z', '+00:00');
      assert.deepEqual((await walk('/v0.1', `limit=100&updated_since=${enc(plus)}`)).rows.length, rows.length);
      const search = await walk('/v0.1', `limit=100&updated_since=${enc(pivot)}&search=fetch`);
      assert.deepEqual(
        search.rows.map((r) => r.server.name),
        entries.filter((e) => official(e).updatedAt! > pivot && e.server.name.includes('fetch')).map((e) => e.server.name),
      );
    });

    test('updated_since: non-RFC 3339 is a 400; include_deleted=false with it is a 400', async () => {
      for (const v of ['2025-01-01', 'yesterday', '2025-01-01T00:00:00', '2025-01-01T00:00:00+00:00']) {
        // the last one has an unencoded +, which arrives as a space
        assertProblem(await api.get(`/v0.1/servers?updated_since=${v}`), 400, /^Invalid updated_since format: expected RFC3339 timestamp/);
      }
      assertProblem(await api.get('/v0.1/servers?updated_since=2025-01-01T00:00:00Z&include_deleted=false'), 400, /include_deleted=false/);
    });

    test('unknown query parameters are ignored', async () => {
      assert.deepEqual((await api.get('/v0.1/servers?q=github&limit=3')).body, (await api.get('/v0.1/servers?limit=3')).body);
    });
  });

  describe('GET /v0.1/servers/{serverName}/versions', () => {
    test('all visible versions of each server, newest published first, not paginated', async () => {
      for (const name of names) {
        const r = await api.get(`/v0.1/servers/${enc(name)}/versions`);
        const expected = visible.filter((e) => e.server.name === name).sort((a, b) => (official(a).publishedAt! < official(b).publishedAt! ? 1 : -1));
        if (expected.length === 0) {
          assertProblem(r, 404, 'Server not found');
          continue;
        }
        const body = list(r);
        assert.equal(body.metadata.nextCursor, undefined);
        assert.deepEqual(
          body.servers.map((s) => s.server.version),
          expected.map((e) => e.server.version),
        );
      }
    });

    test('include_deleted=true shows a wholly deleted server; unknown names are 404', async () => {
      const gone = list(await api.get(`/v0.1/servers/${enc('io.github.test/gone')}/versions?include_deleted=true`));
      assert.deepEqual(
        gone.servers.map((s) => s.server.version),
        ['1.1.0', '1.0.0'],
      );
      assertProblem(await api.get(`/v0.1/servers/${enc('io.github.nobody/nothing')}/versions`), 404, 'Server not found');
      assertProblem(await api.get(`/v0.1/servers/${enc('IO.GITHUB.STACKLOK/FETCH')}/versions`), 404, 'Server not found');
    });
  });

  describe('GET /v0.1/servers/{serverName}/versions/{version}', () => {
    test('latest is the isLatest row; every version is reachable by its encoded version', async () => {
      for (const name of names) {
        const latest = entries.find((e) => e.server.name === name && official(e).isLatest)!;
        const r = await api.get(`/v0.1/servers/${enc(name)}/versions/latest`);
        if (official(latest).status === 'deleted') {
          assertProblem(r, 404, 'Server not found');
          assert.equal(S.ServerResponse.parse((await api.get(`/v0.1/servers/${enc(name)}/versions/latest?include_deleted=true`)).json()).server.version, latest.server.version);
          continue;
        }
        assert.equal(r.status, 200);
        assert.deepEqual(S.ServerResponse.parse(r.json()), latest);
      }
      for (const e of visible) {
        const r = await api.get(`/v0.1/servers/${enc(e.server.name)}/versions/${enc(e.server.version)}`);
        assert.equal(r.status, 200, `${key(e)}: ${r.text}`);
        assert.deepEqual(r.json(), e);
      }
    });

    test('+ in a version must be %2B; unknown and deleted versions are 404 problems', async () => {
      const withBuild = visible.find((e) => e.server.version.includes('+'))!;
      const raw = await api.get(`/v0.1/servers/${enc(withBuild.server.name)}/versions/${withBuild.server.version}`);
      assert.equal(raw.status, 200, 'a raw + in a path is a literal + (only query strings turn it into a space)');
      assertProblem(await api.get(`/v0.1/servers/${enc(withBuild.server.name)}/versions/9.9.9`), 404, 'Server not found');
      const deleted = entries.find((e) => official(e).status === 'deleted' && e.server.name !== 'io.github.test/gone')!;
      assertProblem(await api.get(`/v0.1/servers/${enc(deleted.server.name)}/versions/${enc(deleted.server.version)}`), 404, 'Server not found');
      assert.equal((await api.get(`/v0.1/servers/${enc(deleted.server.name)}/versions/${enc(deleted.server.version)}?include_deleted=true`)).status, 200);
    });

    test('an unencoded slash in the name is 404 Endpoint not found', async () => {
      for (const p of ['/v0.1/servers/io.github.stacklok/fetch/versions', '/v0.1/servers/io.github.stacklok/fetch/versions/latest']) {
        assertProblem(await api.get(p), 404, /^Endpoint not found/);
      }
      assertProblem(await api.get('/v1/servers'), 404, /Did you mean '\/v0\.1/);
    });

    test('a double-encoded slash is tolerated, as upstream', async () => {
      assert.equal((await api.get('/v0.1/servers/io.github.stacklok%252Ffetch/versions/latest')).status, 200);
    });
  });

  describe('response metadata, headers, auxiliary endpoints', () => {
    test('_meta official block has exactly the documented keys', async () => {
      const { rows } = await walk('/v0.1', 'limit=100&include_deleted=true');
      for (const r of rows) {
        const block = r._meta[OFFICIAL_META];
        for (const k of Object.keys(block)) assert.ok((OFFICIAL_KEYS as readonly string[]).includes(k), k);
        for (const k of ['status', 'publishedAt', 'updatedAt', 'isLatest']) assert.ok(k in block, k);
        S.OfficialMeta.parse(block);
      }
    });

    test('CORS: preflight 204 and Access-Control-Allow-Origin on every servers endpoint', async () => {
      const pre = await request(`${api.url}/v0.1/servers`, { method: 'OPTIONS', headers: { Origin: 'https://example.com', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' } });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], '*');
      assert.match(String(pre.headers['access-control-allow-methods']), /GET/);
      assert.match(String(pre.headers['access-control-allow-headers']), /Authorization/i);
      for (const p of ['/v0.1/servers', `/v0.1/servers/${enc(names[0]!)}/versions`, `/v0.1/servers/${enc(names[0]!)}/versions/latest`, '/v0.1/servers?limit=0']) {
        assert.equal((await api.get(p, { Origin: 'https://example.com' })).headers['access-control-allow-origin'], '*', p);
      }
    });

    test('health and ping', async () => {
      for (const v of ['v0', 'v0.1']) {
        assert.deepEqual((await api.get(`/${v}/ping`)).json(), { pong: true });
        assert.deepEqual((await api.get(`/${v}/health`)).json(), { status: 'ok' });
      }
    });

    test('publishing is not supported: 501', async () => {
      assertProblem(await request(`${api.url}/v0.1/publish`, { method: 'POST', body: '{}' }), 501);
    });

    test('the same registry answers at /registries/{ns}/{name}/v0.1 identically', async () => {
      for (const p of ['/servers?limit=4', `/servers/${enc(names[2]!)}/versions`, `/servers/${enc(names[2]!)}/versions/latest`]) {
        assert.deepEqual((await api.get(`/registries/${target.ref.namespace}/${target.ref.name}/v0.1${p}`)).body, (await api.get(`/v0.1${p}`)).body, p);
      }
      assertProblem(await api.get(`/registries/${target.ref.namespace}/missing/v0.1/servers`), 404, 'Registry not found');
    });
  });
}
