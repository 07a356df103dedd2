/**
 * MCPREG_AUTH=kubernetes against the embedded control plane: tokens from a kube-apiserver
 * token file, RBAC objects applied through the Kubernetes API, TokenReview and
 * SubjectAccessReview answered by the control plane. The query function reviews with its own
 * least-privilege identity (create tokenreviews and subjectaccessreviews, nothing else).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { createLogger } from '../../lib/log.ts';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { startAuthFixture, TOKENS, type AuthFixture } from './auth-fixture.ts';
import type { Running } from './harness.ts';

let fixture: AuthFixture;
let cp: ControlPlane;
let api: Running;
const logLines: string[] = [];

const get = (path: string, token?: string) => api.get(path, token ? { Authorization: `Bearer ${token}` } : {});

before(async () => {
  fixture = await startAuthFixture({
    env: { MCPREG_DEFAULT_REGISTRY: 'team-a/private', MCPREG_AUTH_CACHE_TTL: '400ms', MCPREG_ACCESS_LOG: 'true' },
    logger: createLogger({ level: 'debug', format: 'json', write: (line) => logLines.push(line) }),
  });
  cp = fixture.cp;
  api = fixture.api;
});

after(async () => {
  await fixture?.stop();
});

test('no token or a token the API server does not know: 401 problem with WWW-Authenticate', async () => {
  for (const r of [await get('/registries/team-a/public/v0.1/servers'), await get('/api/v1/registries'), await get('/registries/team-a/public/v0.1/servers', 'not-a-known-token')]) {
    assert.equal(r.status, 401);
    assert.match(String(r.headers['content-type']), /application\/problem\+json/);
    assert.equal(r.headers['www-authenticate'], 'Bearer');
    assert.equal(r.json().title, 'Unauthorized');
  }
  const basic = await api.get('/api/v1/registries', { Authorization: 'Basic YWxpY2U6cHc=' });
  assert.equal(basic.status, 401);
});

test('allowed: 200 with private caching that varies by Authorization', async () => {
  const r = await get('/registries/team-a/public/v0.1/servers?limit=3', TOKENS.alice);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json().servers.length, 3);
  assert.match(String(r.headers['cache-control']), /^private/);
  assert.match(String(r.headers.vary), /Authorization/);
  assert.equal((await get(`/registries/team-a/public/v0.1/servers/${encodeURIComponent('io.github.stacklok/fetch')}/versions/latest`, TOKENS.alice)).status, 200);
});

test('denied: 403 problem for registries outside the RBAC grant, including the default one', async () => {
  for (const path of ['/registries/team-a/private/v0.1/servers', '/registries/team-b/other/v0/servers', '/v0.1/servers', '/api/v1/registries/team-b/other']) {
    const r = await get(path, TOKENS.alice);
    assert.equal(r.status, 403, path);
    assert.equal(r.json().title, 'Forbidden');
  }
  assert.equal((await get('/registries/team-a/public/v0.1/servers', TOKENS.carol)).status, 403);
  assert.equal((await get('/v0.1/servers', TOKENS.bob)).status, 200);
});

test('search covers only the registries the caller may read', async () => {
  const registries = async (token?: string) => {
    const r = await get('/api/v1/search?q=github', token);
    assert.equal(r.status, 200, r.text);
    return [...new Set(r.json().results.map((h: { registry: string }) => h.registry))].sort();
  };
  assert.deepEqual(await registries(TOKENS.alice), ['team-a/public']);
  assert.deepEqual(await registries(TOKENS.bob), ['team-a/private', 'team-a/public', 'team-b/other']);
  assert.deepEqual(await registries(TOKENS.carol), []);
  assert.equal((await get('/api/v1/search?q=github')).status, 401);
  assert.equal((await get('/api/v1/search?q=github&registry=team-b/other', TOKENS.alice)).status, 403);
  const r = await get('/api/v1/search?q=github', TOKENS.alice);
  assert.match(String(r.headers['cache-control']), /^private/);
});

test('lists are filtered to the registries the caller may read', async () => {
  const names = async (token: string) => (await get('/api/v1/registries', token)).json().registries.map((r: { namespace: string; name: string }) => `${r.namespace}/${r.name}`);
  assert.deepEqual(await names(TOKENS.alice), ['team-a/public']);
  assert.deepEqual(await names(TOKENS.bob), ['team-a/private', 'team-a/public', 'team-b/other']);
  assert.deepEqual(await names(TOKENS.carol), []);
  const servers = (await get('/api/v1/servers', TOKENS.alice)).json();
  assert.ok(servers.servers.length > 0);
  assert.deepEqual([...new Set(servers.servers.map((s: { registry: string }) => s.registry))], ['team-a/public']);
  assert.equal((await get('/api/v1/servers', TOKENS.carol)).json().total, 0);
  assert.equal((await get('/api/v1/servers?registry=team-b/other', TOKENS.alice)).status, 403);
  // a server present in every registry is unambiguous for alice: she sees one copy
  assert.equal((await get('/api/v1/servers/github', TOKENS.alice)).json().registry, 'team-a/public');
  assert.equal((await get('/api/v1/servers/github', TOKENS.bob)).status, 409);
});

test('decisions are cached for the TTL, then re-reviewed', async () => {
  const bobCanRead = async () => (await get('/registries/team-b/other/v0.1/servers?limit=1', TOKENS.bob)).status;
  assert.equal(await bobCanRead(), 200);
  const rbac = cp.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.deleteClusterRoleBinding({ name: 'bob-reads' });
  assert.equal(await bobCanRead(), 200, 'the cached decision still holds within the TTL');
  await new Promise((r) => setTimeout(r, 450));
  assert.equal(await bobCanRead(), 403);
});

test('tokens never reach the logs', async () => {
  assert.ok(logLines.length > 0, 'access logging was on');
  const all = logLines.join('\n');
  for (const token of Object.values(TOKENS)) assert.ok(!all.includes(token), 'a token appeared in the log');
  assert.ok(!all.includes('not-a-known-token'));
});

test('the API server unreachable: 503, never an error page with details', async () => {
  await cp.stop();
  const r = await get('/registries/team-a/public/v0.1/servers', 'a-token-never-reviewed-before');
  assert.equal(r.status, 503);
  assert.match(String(r.headers['content-type']), /application\/problem\+json/);
  assert.ok(!r.text.includes('127.0.0.1'));
});
