import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMemorySecretReader } from '../../lib/kube/secrets.ts';
import { mergeIncremental } from '../../lib/sources/merge.ts';
import { createRegistrySource, parseEndpoint, type RegistryState } from '../../lib/sources/registry.ts';
import type { FetchResult } from '../../lib/sources/types.ts';
import { entriesFromFixtures, entry, generateEntries, OFFICIAL, startUpstreamApi, type Entry, type TestUpstreamApi } from '../servers/upstream-api.ts';
import { rejectsWith, testContext } from './helpers.ts';

const keys = (entries: unknown[]) => entries.map((e) => `${(e as Entry).server.name}@${(e as Entry).server.version}`);
const sortedKeys = (entries: Entry[]) => keys(entries).sort();
const official = (e: unknown) => (e as Entry)._meta[OFFICIAL];

function expectEntries(r: FetchResult, mode: 'full' | 'incremental'): unknown[] {
  assert.equal(r.kind, 'entries', `expected entries, got ${r.kind}`);
  if (r.kind !== 'entries') return [];
  assert.equal(r.mode, mode);
  return r.entries;
}

describe('parseEndpoint', () => {
  const w = {};
  it('recognises the forms', () => {
    assert.deepEqual(parseEndpoint('https://r.example/', w), { base: new URL('https://r.example/') });
    assert.deepEqual(parseEndpoint('https://r.example/v0.1/servers?x=1', w), { base: new URL('https://r.example/'), api: 'v0.1' });
    assert.deepEqual(parseEndpoint('https://r.example/mirror/v0', w), { base: new URL('https://r.example/mirror'), api: 'v0' });
    assert.deepEqual(parseEndpoint('https://q.example/api/v1', w), { base: new URL('https://q.example/api/v1'), api: 'toolhive' });
    assert.deepEqual(parseEndpoint('https://q.example/api/v1/registries/team-a/main', w), {
      base: new URL('https://q.example/api/v1'),
      api: 'toolhive',
      registry: 'team-a/main',
    });
    assert.deepEqual(parseEndpoint('https://q.example/registries/team-a/main', w), { base: new URL('https://q.example/registries/team-a/main') });
  });
});

describe('registry source (official API)', () => {
  let api: TestUpstreamApi;
  const secrets = createMemorySecretReader({ peer: { token: 'peer-token' } });
  const ctx = (o: Parameters<typeof testContext>[0] = {}) => testContext({ secrets, ...o });
  before(async () => {
    api = await startUpstreamApi();
  });
  after(() => api.close());

  const reset = (entries: Entry[]) => {
    api.entries.length = 0;
    api.entries.push(...entries);
    api.requests.length = 0;
    api.setPrefixes(['v0', 'v0.1']);
    api.repeatCursor(undefined);
  };
  const source = (extra: Record<string, unknown> = {}) => createRegistrySource({ url: api.url, allowHttp: true, fullSyncEvery: 3, ...extra });

  it('walks every page (limit=100) and gets every version once, real fixtures plus generated', async () => {
    const all = [...entriesFromFixtures(), ...generateEntries(300, 4)];
    reset(all);
    const r = await source().fetch(ctx());
    const got = expectEntries(r, 'full');
    assert.equal(got.length, all.length);
    assert.deepEqual(keys(got).sort(), sortedKeys(all));
    const lists = api.requests.filter((q) => q.path === '/v0.1/servers');
    assert.equal(lists.length, Math.ceil(all.length / 100) + (all.length % 100 === 0 ? 1 : 0));
    assert.ok(lists.every((q) => q.params.limit === '100' && q.params.include_deleted === 'true'));
    const state = (r as { state: RegistryState }).state;
    assert.equal(state.api, 'v0.1');
    assert.equal(state.mode, 'full');
    assert.equal(state.incrementalCount, 0);
    // the watermark is the greatest updatedAt, verbatim
    const max = all.map((e) => official(e).updatedAt).sort().at(-1);
    assert.equal(state.watermark, max);
    assert.match(r.revision, /^[0-9a-f]{64}$/);
  });

  it('stops on a missing cursor, accepting an empty last page', async () => {
    reset(generateEntries(200));
    const got = expectEntries(await source().fetch(ctx()), 'full');
    assert.equal(got.length, 200);
    const lists = api.requests.filter((q) => q.path === '/v0.1/servers');
    assert.equal(lists.length, 3); // 100, 100, then an empty page without cursor
  });

  it('falls back to /v0/servers on 404 and remembers it', async () => {
    reset(entriesFromFixtures());
    api.setPrefixes(['v0']);
    const r = await source().fetch(ctx());
    assert.equal(expectEntries(r, 'full').length, 14);
    assert.equal((r as { state: RegistryState }).state.api, 'v0');
    assert.deepEqual(api.requests.map((q) => [q.path, q.status]), [['/v0.1/servers', 404], ['/v0/servers', 200]]);
    api.requests.length = 0;
    await source().fetch(ctx({ previous: { revision: r.revision, state: (r as { state: unknown }).state } }));
    assert.ok(api.requests.every((q) => q.path === '/v0/servers'), 'no second probe of v0.1');
  });

  it('neither version → source_not_found naming both', async () => {
    reset([]);
    api.setPrefixes([]);
    const e = await rejectsWith(source().fetch(ctx()), 'source_not_found');
    assert.match(e.message, /v0\.1\/servers/);
    assert.match(e.message, /v0\/servers/);
  });

  it('incremental: only updated_since, deletions and deprecations merged, isLatest recomputed, full every N', async () => {
    const t = (m: number) => new Date(Date.UTC(2026, 5, 1, 0, m)).toISOString().replace('.000Z', '.123456Z');
    const start = [
      entry({ name: 'io.x/alpha', version: '1.0.0', description: 'a' }, { publishedAt: t(0), isLatest: false }),
      entry({ name: 'io.x/alpha', version: '1.1.0', description: 'a' }, { publishedAt: t(1), isLatest: true }),
      entry({ name: 'io.x/beta', version: '0.1.0', description: 'b' }, { publishedAt: t(2), isLatest: true }),
      entry({ name: 'io.x/gamma', version: '3.0.0', description: 'g' }, { publishedAt: t(3), isLatest: true }),
    ];
    reset(structuredClone(start));
    const src = source({ fullSyncEvery: 2 });
    const first = await src.fetch(ctx());
    let snapshot = expectEntries(first, 'full');
    let state = (first as { state: RegistryState }).state;
    assert.equal(state.watermark, t(3));

    // changes at the peer: alpha 1.1.0 deleted (latest moves to 1.0.0), beta deprecated, new gamma 3.1.0
    api.upsert(
      entry({ name: 'io.x/alpha', version: '1.1.0', description: 'a' }, { publishedAt: t(1), updatedAt: t(10), status: 'deleted', isLatest: false }),
      entry({ name: 'io.x/beta', version: '0.1.0', description: 'b' }, { publishedAt: t(2), updatedAt: t(11), status: 'deprecated', isLatest: true }),
      entry({ name: 'io.x/gamma', version: '3.1.0', description: 'g' }, { publishedAt: t(12), isLatest: true }),
    );
    // the peer's own re-flagging of alpha 1.0.0 and gamma 3.0.0 does not bump their updatedAt (reference §10)
    api.entries.find((e) => e.server.name === 'io.x/alpha' && e.server.version === '1.0.0')!._meta[OFFICIAL].isLatest = true;
    api.entries.find((e) => e.server.name === 'io.x/gamma' && e.server.version === '3.0.0')!._meta[OFFICIAL].isLatest = false;
    api.requests.length = 0;

    const second = await src.fetch(ctx({ previous: { revision: first.revision, state } }));
    const delta = expectEntries(second, 'incremental');
    assert.deepEqual(keys(delta).sort(), ['io.x/alpha@1.1.0', 'io.x/beta@0.1.0', 'io.x/gamma@3.1.0']);
    assert.equal(api.requests.length, 1);
    assert.equal(api.requests[0]!.params.updated_since, t(3));
    assert.equal(api.requests[0]!.params.include_deleted, undefined);
    state = (second as { state: RegistryState }).state;
    assert.equal(state.mode, 'incremental');
    assert.equal(state.incrementalCount, 1);
    assert.equal(state.watermark, t(12));
    assert.notEqual(second.revision, first.revision);

    snapshot = mergeIncremental(snapshot, delta).entries;
    const latest = Object.fromEntries(snapshot.filter((e) => official(e).isLatest).map((e) => [(e as Entry).server.name, (e as Entry).server.version]));
    assert.deepEqual(latest, { 'io.x/alpha': '1.0.0', 'io.x/beta': '0.1.0', 'io.x/gamma': '3.1.0' });
    assert.equal(official(snapshot.find((e) => keys([e])[0] === 'io.x/alpha@1.1.0')).status, 'deleted');
    assert.equal(official(snapshot.find((e) => keys([e])[0] === 'io.x/beta@0.1.0')).status, 'deprecated');

    // nothing new: unchanged, the counter still advances
    api.requests.length = 0;
    const third = await src.fetch(ctx({ previous: { revision: second.revision, state } }));
    assert.equal(third.kind, 'unchanged');
    assert.equal(third.revision, second.revision);
    state = third.state as RegistryState;
    assert.equal(state.incrementalCount, 2);
    assert.equal(api.requests[0]!.params.updated_since, t(12));

    // fullSyncEvery = 2 reached: a full walk that equals the merged snapshot
    api.requests.length = 0;
    const fourth = await src.fetch(ctx({ previous: { revision: third.revision, state } }));
    const full = expectEntries(fourth, 'full');
    assert.equal(api.requests[0]!.params.updated_since, undefined);
    assert.equal(api.requests[0]!.params.include_deleted, 'true');
    assert.deepEqual(
      mergeIncremental([], full).entries.map((e) => [keys([e])[0], official(e).isLatest, official(e).status]),
      snapshot.map((e) => [keys([e])[0], official(e).isLatest, official(e).status]),
    );
    assert.equal((fourth as { state: RegistryState }).state.incrementalCount, 0);

    // force → full, whatever the counter
    const forced = await src.fetch(ctx({ previous: { revision: second.revision, state: (second as { state: unknown }).state }, force: true }));
    expectEntries(forced, 'full');
  });

  it('a different URL than the state’s forces a full walk', async () => {
    reset(generateEntries(5));
    const first = await source().fetch(ctx());
    const st = { ...(first as { state: RegistryState }).state, endpoint: 'https://elsewhere.example/' };
    const again = await source().fetch(ctx({ previous: { revision: first.revision, state: st } }));
    expectEntries(again, 'full');
  });

  it('a peer that repeats a cursor is stopped with a precise error', async () => {
    reset(generateEntries(250));
    api.repeatCursor('io.github.gen/server-000099:1.0.0');
    const e = await rejectsWith(source().fetch(ctx()), 'source_unavailable');
    assert.match(e.message, /repeated cursor/);
    assert.ok(api.requests.length <= 3);
  });

  it('hard caps on pages and entries', async () => {
    reset(generateEntries(350));
    const e1 = await rejectsWith(source().fetch(ctx({ policy: { maxPages: 2 } })), 'too_large');
    assert.match(e1.message, /more than 2 pages/);
    const e2 = await rejectsWith(source().fetch(ctx({ policy: { maxEntries: 150 } })), 'too_large');
    assert.match(e2.message, /more than 150 entries/);
  });

  it('transient 503 and 429 (Retry-After) inside a walk are retried', async () => {
    reset(generateEntries(150));
    api.inject({ status: 503, count: 2 });
    expectEntries(await source().fetch(ctx()), 'full');
    api.requests.length = 0;
    api.inject({ status: 429, count: 1, retryAfter: '1' });
    const t0 = Date.now();
    const got = expectEntries(await source().fetch(ctx()), 'full');
    assert.equal(got.length, 150);
    assert.ok(Date.now() - t0 >= 950, 'waited for Retry-After');
    assert.deepEqual(api.requests.map((q) => q.status), [429, 200, 200]);
  });

  it('auth: bearer from a Secret; without it auth_failed', async () => {
    const guarded = await startUpstreamApi({ entries: entriesFromFixtures(), token: 'peer-token' });
    try {
      await rejectsWith(createRegistrySource({ url: guarded.url, allowHttp: true, fullSyncEvery: 10 }).fetch(ctx()), 'auth_failed');
      const r = await createRegistrySource({ url: guarded.url, allowHttp: true, fullSyncEvery: 10, authSecret: { name: 'peer', tokenKey: 'token' } }).fetch(ctx());
      assert.equal(expectEntries(r, 'full').length, 14);
    } finally {
      await guarded.close();
    }
  });

  it('malformed pages are precise errors', async () => {
    const { startHttpServer } = await import('../servers/http.ts');
    const bad = await startHttpServer({
      '/v0.1/servers': { body: '{"servers": [' },
      '/x/v0.1/servers': { body: '{"items": []}' },
    });
    try {
      const e1 = await rejectsWith(createRegistrySource({ url: bad.url, allowHttp: true, fullSyncEvery: 10 }).fetch(ctx()), 'invalid_json');
      assert.match(e1.message, /page 1/);
      await rejectsWith(createRegistrySource({ url: `${bad.url}/x`, allowHttp: true, fullSyncEvery: 10 }).fetch(ctx()), 'invalid_document');
    } finally {
      await bad.close();
    }
  });

  it('SSRF policy applies: loopback refused without the allow-list', async () => {
    await rejectsWith(source().fetch(ctx({ policy: { allowPrivate: [] } })), 'url_forbidden');
  });
});

describe('registry source (our /api/v1)', () => {
  it('walks /api/v1/servers?format=upstream, always full, unchanged on identical content', async () => {
    const all = [...entriesFromFixtures(), ...generateEntries(120)];
    const api = await startUpstreamApi({ entries: all, toolhiveApi: true, prefixes: [] });
    try {
      const src = createRegistrySource({ url: `${api.url}/api/v1/registries/team-a/main`, allowHttp: true, fullSyncEvery: 10 });
      const first = await src.fetch(testContext());
      const got = expectEntries(first, 'full');
      assert.equal(got.length, all.length);
      assert.ok(api.requests.every((q) => q.path === '/api/v1/servers' && q.params.format === 'upstream' && q.params.registry === 'team-a/main'));
      const second = await src.fetch(testContext({ previous: { revision: first.revision, state: (first as { state: unknown }).state } }));
      assert.equal(second.kind, 'unchanged');
      assert.ok(api.requests.every((q) => q.params.updated_since === undefined));
    } finally {
      await api.close();
    }
  });
});
