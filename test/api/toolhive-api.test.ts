/**
 * The ToolHive-format API (/api/v1) across registries: a registry built from the real
 * upstream fixture and one from the real ToolHive registry (ToolHive's own registry.json as
 * toolhive.json, its upstream conversion as upstream.json), both published to a real store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OFFICIAL_META } from '../../lib/api/entry.ts';
import * as S from '../../lib/api/schemas.ts';
import type { ToolhiveRegistry } from '../../lib/formats/toolhive-schema.ts';
import { FIXTURES, fixtureEntries, publishEntries, publishRealToolhive } from './fixture.ts';
import { startQuery, tempStore, type Running } from './harness.ts';

const realToolhive = JSON.parse(readFileSync(join(FIXTURES, 'toolhive-registry.2026-02-20.json'), 'utf8')) as ToolhiveRegistry & {
  servers: Record<string, Record<string, unknown>>;
  remote_servers: Record<string, Record<string, unknown>>;
};
const thKeys = [...Object.keys(realToolhive.servers), ...Object.keys(realToolhive.remote_servers)].sort();

let api: Running;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await tempStore();
  cleanup = t.cleanup;
  await publishEntries(t.store, { namespace: 'mcp', name: 'upstream' }, fixtureEntries());
  await publishRealToolhive(t.store, { namespace: 'team', name: 'toolhive' }, { revision: 'f79c85f', displayName: 'ToolHive registry', description: 'the real ToolHive registry, 2026-02-20' });
  api = await startQuery({ store: t.store });
});
after(async () => {
  await api?.close();
  await cleanup?.();
});

test('GET /api/v1/registries lists every published registry with counts, sync time and hash', async () => {
  const body = S.RegistryList.parse((await api.get('/api/v1/registries')).json());
  assert.deepEqual(
    body.registries.map((r) => `${r.namespace}/${r.name}`),
    ['mcp/upstream', 'team/toolhive'],
  );
  const th = body.registries[1]!;
  assert.equal(th.serverCount, thKeys.length);
  assert.equal(th.snapshot.revision, 'f79c85f');
  assert.match(th.snapshot.hash, /^[0-9a-f]{64}$/);
  assert.equal(th.upstreamApi, '/registries/team/toolhive/v0.1');
  assert.equal(th.displayName, 'ToolHive registry');
  assert.equal(th.description, 'the real ToolHive registry, 2026-02-20');
  assert.equal(body.registries[0]!.displayName, undefined, 'absent when the registry has none');
  assert.deepEqual(S.RegistryInfo.parse((await api.get('/api/v1/registries/team/toolhive')).json()), th);
  assert.equal((await api.get('/api/v1/registries/team/nope')).status, 404);
});

test('GET /api/v1/servers: every server of every registry in ToolHive format', async () => {
  const body = S.ToolhiveServerList.parse((await api.get('/api/v1/servers')).json());
  const fromToolhive = body.servers.filter((s) => s.registry === 'team/toolhive');
  assert.deepEqual(
    fromToolhive.map((s) => s.name),
    thKeys,
  );
  assert.equal(body.total, body.servers.length);
  // entries are the registry's own, unchanged (plus name and registry)
  const github = fromToolhive.find((s) => s.name === 'github')!;
  const { name: _n, registry: _r, ...rest } = github;
  assert.deepEqual(rest, realToolhive.servers.github);
  assert.ok(body.servers.some((s) => s.registry === 'mcp/upstream'));
});

test('filters: tier, status, transport, tag, search, registry; values case-insensitive, several values any-of', async () => {
  const names = async (q: string) => (await api.get(`/api/v1/servers?${q}`)).json().servers.map((s: { name: string; registry: string }) => `${s.registry}:${s.name}`);
  const all = Object.entries({ ...realToolhive.servers, ...realToolhive.remote_servers });
  const expect = (pred: (e: Record<string, unknown>, k: string) => boolean) =>
    all
      .filter(([k, e]) => pred(e, k))
      .map(([k]) => `team/toolhive:${k}`)
      .sort();
  assert.deepEqual(await names('registry=team/toolhive&tier=community'), expect((e) => e.tier === 'Community'));
  assert.deepEqual(await names('registry=team/toolhive&status=DEPRECATED'), expect((e) => e.status === 'Deprecated'));
  assert.deepEqual(await names('registry=team/toolhive&transport=sse,streamable-http'), expect((e) => e.transport === 'sse' || e.transport === 'streamable-http'));
  assert.deepEqual(await names('registry=team/toolhive&tag=remote&tier=Official'), expect((e) => (e.tags as string[]).includes('remote') && e.tier === 'Official'));
  assert.deepEqual(
    await names('registry=team/toolhive&search=JIRA'),
    expect((e, k) => [k, e.title, e.description, ...(e.tags as string[])].some((t) => typeof t === 'string' && t.toLowerCase().includes('jira'))),
  );
  assert.deepEqual(await names('registry=team/toolhive&category=nothing-has-this'), []);
  // no real entry declares a category: categories fall back to tags, as filters do (lib/filter/categories.ts)
  assert.deepEqual(await names('registry=team/toolhive&category=database'), expect((e) => (e.tags as string[]).includes('database')));
  const both = await names('search=github');
  assert.ok(both.some((n: string) => n.startsWith('mcp/upstream:')) && both.some((n: string) => n.startsWith('team/toolhive:')));
  assert.equal((await api.get('/api/v1/servers?registry=not-a-ref')).status, 400);
  assert.equal((await api.get('/api/v1/servers?format=xml')).status, 400);
});

test('format=upstream (query or Accept) returns the latest visible upstream entries, tagged with their registry', async () => {
  const viaQuery = await api.get('/api/v1/servers?format=upstream&registry=mcp/upstream');
  const viaAccept = await api.get('/api/v1/servers?registry=mcp/upstream', { Accept: 'application/json; format=upstream' });
  assert.deepEqual(viaAccept.body, viaQuery.body);
  assert.match(String(viaQuery.headers.vary), /Accept/);
  const body = S.UpstreamServerList.parse(viaQuery.json());
  const expected = fixtureEntries().filter((e) => e._meta![OFFICIAL_META]!.isLatest && e._meta![OFFICIAL_META]!.status !== 'deleted');
  assert.deepEqual(
    body.servers.map((s) => `${s.server.name}:${s.server.version}`),
    expected.map((e) => `${e.server.name}:${e.server.version}`),
  );
  assert.deepEqual((body.servers[0]!._meta as Record<string, unknown>)['io.toolhive.registry/source'], { namespace: 'mcp', name: 'upstream' });
  // filters apply to upstream entries through ToolHive's extension and the transports
  const remote = S.UpstreamServerList.parse((await api.get('/api/v1/servers?format=upstream&registry=team/toolhive&transport=sse')).json());
  assert.ok(remote.servers.length > 0);
  assert.ok(remote.servers.every((s) => (s.server.remotes ?? []).some((r) => r.type === 'sse') || (s.server.packages ?? []).some((p) => p.transport.type === 'sse')));
});

test('GET /api/v1/servers/{name}: unique → the server; in several registries → 409 with candidates; ?registry= picks', async () => {
  const unique = await api.get('/api/v1/servers/atlassian-remote');
  assert.equal(unique.status, 200);
  assert.equal(unique.json().registry, 'team/toolhive');
  assert.equal(unique.json().url, realToolhive.remote_servers['atlassian-remote']!.url);

  const ambiguous = await api.get('/api/v1/servers/github');
  assert.equal(ambiguous.status, 409);
  assert.match(String(ambiguous.headers['content-type']), /problem\+json/);
  assert.deepEqual(ambiguous.json().candidates, ['mcp/upstream', 'team/toolhive']);

  const picked = await api.get('/api/v1/servers/github?registry=mcp/upstream');
  assert.equal(picked.status, 200);
  assert.equal(picked.json().registry, 'mcp/upstream');
  assert.equal(picked.json().name, 'github');

  const upstream = await api.get(`/api/v1/servers/${encodeURIComponent('io.github.stacklok/github')}?registry=mcp/upstream&format=upstream`);
  assert.equal(upstream.status, 200);
  assert.equal(S.ServerResponse.parse(upstream.json()).server.name, 'io.github.stacklok/github');

  // ToolHive's registry.json names no upstream names: an entry answers to the one its key converts to
  const byUpstreamName = await api.get(`/api/v1/servers/${encodeURIComponent('io.github.stacklok/atlassian-remote')}?registry=team/toolhive`);
  assert.equal(byUpstreamName.status, 200, byUpstreamName.text);
  assert.equal(byUpstreamName.json().name, 'atlassian-remote');

  assert.equal((await api.get('/api/v1/servers/no-such-server')).status, 404);
  assert.equal((await api.get('/api/v1/servers/github?registry=team/missing')).status, 404);
});
