/**
 * GET /registries/{ns}/{name}/registry.json: the registry as a file for clients that read
 * registries by URL. The real ToolHive registry and the versioned upstream fixture, published
 * to a real store, read back through the query function.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRegistryDocument } from '../../lib/formats/parse.ts';
import { TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL } from '../../lib/formats/upstream-schema.ts';
import { OFFICIAL_META } from '../../lib/api/entry.ts';
import { FIXTURES, fixtureEntries, publishEntries, publishRealToolhive } from './fixture.ts';
import { startQuery, tempStore, type Running } from './harness.ts';
import { toolhiveLegacyValidator, schemaErrors, upstreamFileValidator } from '../formats/support.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';

const realToolhive = readFileSync(join(FIXTURES, 'toolhive-registry.2026-02-20.json'));

let api: Running;
let store: SnapshotStore;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await tempStore();
  cleanup = t.cleanup;
  store = t.store;
  await publishEntries(t.store, { namespace: 'mcp', name: 'upstream' }, fixtureEntries());
  await publishRealToolhive(t.store, { namespace: 'team', name: 'toolhive' });
  api = await startQuery({ store: t.store });
});
after(async () => {
  await api?.close();
  await cleanup?.();
});

test('registry.json is ToolHive upstream file envelope, valid against its schema, with no groups', async () => {
  const res = await api.get('/registries/team/toolhive/registry.json');
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const doc = res.json() as { $schema: string; version: string; meta: { last_updated: string }; data: Record<string, unknown> & { servers: Array<{ name: string }> } };
  const validate = upstreamFileValidator();
  assert.ok(validate(doc), schemaErrors(validate));
  assert.equal(doc.$schema, TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL);
  assert.equal(doc.version, '1.0.0');
  assert.ok(!Number.isNaN(Date.parse(doc.meta.last_updated)));
  assert.deepEqual(Object.keys(doc.data), ['servers'], 'only servers: current ToolHive reads no data.groups');
  const th = JSON.parse(realToolhive.toString('utf8')) as { servers: object; remote_servers: object };
  assert.equal(doc.data.servers.length, Object.keys(th.servers).length + Object.keys(th.remote_servers).length);
  // what a file reader makes of it is what the API lists
  const listed = (await api.get('/api/v1/servers?registry=team/toolhive&format=upstream')).json() as { servers: Array<{ server: unknown }> };
  assert.deepEqual(doc.data.servers, listed.servers.map((s) => s.server));
  const reread = parseRegistryDocument(res.body, { file: 'registry.json', mode: 'strict' });
  assert.equal(reread.shape, 'file');
  assert.equal(reread.servers.length, doc.data.servers.length);
});

test('registry.json of a versioned registry holds the latest visible version of each server', async () => {
  const doc = (await api.get('/registries/mcp/upstream/registry.json?format=upstream')).json() as { data: { servers: Array<{ name: string; version: string }> } };
  const expected = fixtureEntries()
    .filter((e) => e._meta?.[OFFICIAL_META]?.isLatest && e._meta[OFFICIAL_META].status !== 'deleted')
    .map((e) => `${e.server.name}@${e.server.version}`);
  assert.ok(expected.length > 5);
  assert.deepEqual(doc.data.servers.map((s) => `${s.name}@${s.version}`), expected);
  assert.ok(!doc.data.servers.some((s) => s.name === 'io.github.test/gone'), 'deleted servers are not in the file');
  const validate = upstreamFileValidator();
  assert.ok(validate(doc), schemaErrors(validate));
});

test('?format=toolhive serves the snapshot registry.json byte for byte (the legacy format)', async () => {
  const res = await api.get('/registries/team/toolhive/registry.json?format=toolhive');
  assert.equal(res.status, 200);
  assert.ok(res.body.equals(realToolhive), 'the published toolhive.json as it is');
  const validate = toolhiveLegacyValidator();
  assert.ok(validate(res.json()), schemaErrors(validate));
});

test('registry.json: strong ETags per format and 304 on If-None-Match; a new snapshot changes the tag', async () => {
  const up = await api.get('/registries/mcp/upstream/registry.json');
  const th = await api.get('/registries/mcp/upstream/registry.json?format=toolhive');
  assert.match(String(up.headers.etag), /^"[^"]+"$/);
  assert.notEqual(up.headers.etag, th.headers.etag);
  const again = await api.get('/registries/mcp/upstream/registry.json', { 'If-None-Match': String(up.headers.etag) });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  const gz = await api.get('/registries/mcp/upstream/registry.json', { 'Accept-Encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal((await api.get('/registries/mcp/upstream/registry.json', { 'Accept-Encoding': 'gzip', 'If-None-Match': String(gz.headers.etag) })).status, 304);

  await publishEntries(store, { namespace: 'mcp', name: 'upstream' }, fixtureEntries().slice(0, 4));
  api.server.handler.ctx.cache.invalidate({ namespace: 'mcp', name: 'upstream' });
  const changed = await api.get('/registries/mcp/upstream/registry.json', { 'If-None-Match': String(up.headers.etag) });
  assert.equal(changed.status, 200, 'the old tag no longer matches');
  assert.notEqual(changed.headers.etag, up.headers.etag);
  await publishEntries(store, { namespace: 'mcp', name: 'upstream' }, fixtureEntries());
  api.server.handler.ctx.cache.invalidate({ namespace: 'mcp', name: 'upstream' });
});

test('registry.json: bad format 400 (an empty one too), unknown registry 404, only GET and HEAD', async () => {
  for (const q of ['?format=json', '?format=', '?format=Upstream']) {
    const res = await api.get(`/registries/team/toolhive/registry.json${q}`);
    assert.equal(res.status, 400, q);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.json().errors[0].location, 'query.format');
  }
  assert.equal((await api.get('/registries/team/nope/registry.json')).status, 404);
  assert.equal((await api.get('/registries/Bad_NS/x/registry.json')).status, 404);
  assert.equal((await api.get('/registries/team/toolhive/registry.json/x')).status, 404);
  const post = await fetch(`${api.url}/registries/team/toolhive/registry.json`, { method: 'POST' });
  assert.equal(post.status, 405);
  const head = await fetch(`${api.url}/registries/team/toolhive/registry.json`, { method: 'HEAD' });
  assert.equal(head.status, 200);
});

test('registry.json is described in /openapi.json with its format enum', async () => {
  const doc = (await api.get('/openapi.json')).json();
  const op = doc.paths['/registries/{namespace}/{name}/registry.json']?.get;
  assert.ok(op, 'documented');
  const format = op.parameters.find((p: { name: string }) => p.name === 'format');
  assert.deepEqual(format.schema.enum, ['upstream', 'toolhive']);
  assert.ok(op.responses['400'] && op.responses['404']);
});

test('/openapi.json says what the server answers: 422 on the versions operations, 400 on /api/v1/servers/{name}, updated_since a date-time, registry with its pattern', async () => {
  const doc = (await api.get('/openapi.json')).json();
  for (const p of Object.keys(doc.paths).filter((k) => k.includes('/servers/{serverName}/versions'))) assert.ok(doc.paths[p].get.responses['422'], p);
  assert.equal(Object.keys(doc.paths).filter((k) => k.includes('/servers/{serverName}/versions')).length, 8);
  assert.ok(doc.paths['/api/v1/servers/{name}'].get.responses['400']);
  const since = doc.paths['/v0.1/servers'].get.parameters.find((p: { name: string }) => p.name === 'updated_since');
  // a date-time, or empty (no filter: see openapi-fixes.test.ts)
  assert.deepEqual(since.schema.anyOf.map((s: { format?: string; const?: string }) => s.format ?? s.const), ['date-time', '']);
  const registry = doc.paths['/api/v1/servers'].get.parameters.find((p: { name: string }) => p.name === 'registry');
  const pattern = new RegExp(registry.schema.pattern);
  assert.ok(pattern.test('team/toolhive') && pattern.test('a/b.c,d/e'));
  assert.ok(!pattern.test('toolhive') && !pattern.test('Team/x'));
  // what the pattern allows, the server accepts; an empty format is refused like any value off the enum
  assert.equal((await api.get('/api/v1/servers?registry=team/toolhive,mcp/upstream')).status, 200);
  assert.equal((await api.get('/api/v1/servers?format=')).status, 400);
  assert.equal((await api.get('/api/v1/servers/github?format=')).status, 400);
});
