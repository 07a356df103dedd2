/**
 * MCPREG_AUTH=kubernetes against the embedded control plane: tokens from a kube-apiserver
 * token file, RBAC objects applied through the Kubernetes API, TokenReview and
 * SubjectAccessReview answered by the control plane. The query function reviews with its own
 * least-privilege identity (create tokenreviews and subjectaccessreviews, nothing else).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { createLogger } from '../../lib/log.ts';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane/index.ts';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { startQuery, tempStore, type Running } from './harness.ts';

const TOKENS = {
  query: 'query-function-token-0123456789',
  alice: 'alice-token-abcdefghijklmnop',
  bob: 'bob-token-qrstuvwxyz012345',
  carol: 'carol-token-6789abcdefghij',
};

let cp: ControlPlane;
let api: Running;
let dir: string;
let cleanupStore: () => Promise<void>;
const logLines: string[] = [];

const get = (path: string, token?: string) => api.get(path, token ? { Authorization: `Bearer ${token}` } : {});

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpreg-auth-'));
  const tokensFile = join(dir, 'tokens.csv');
  await writeFile(
    tokensFile,
    [
      `${TOKENS.query},system:serviceaccount:mcp-system:query,uid-query,"system:serviceaccounts"`,
      `${TOKENS.alice},alice,uid-alice,"team-a-readers"`,
      `${TOKENS.bob},bob,uid-bob`,
      `${TOKENS.carol},carol,uid-carol`,
    ].join('\n') + '\n',
  );
  cp = await startControlPlane({ tokensFile });
  const admin = cp.kubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  for (const ns of ['team-a', 'team-b', 'mcp-system']) await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  // the query function: only the two review APIs
  await rbac.createClusterRole({
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
      metadata: { name: 'mcp-registry-query-reviews' },
      rules: [
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
      ],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
      metadata: { name: 'mcp-registry-query-reviews' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'mcp-registry-query-reviews' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:serviceaccount:mcp-system:query' }],
    },
  });
  // team-a-readers (alice) may read team-a/public only
  await rbac.createNamespacedRole({
    namespace: 'team-a',
    body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'public-reader' }, rules: [{ apiGroups: ['toolhive.stacklok.io'], resources: ['mcpregistries'], resourceNames: ['public'], verbs: ['get'] }] },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: 'team-a',
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding',
      metadata: { name: 'public-readers' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'public-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'team-a-readers' }],
    },
  });
  // bob reads every registry
  await rbac.createClusterRole({ body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'registry-reader' }, rules: [{ apiGroups: ['toolhive.stacklok.io'], resources: ['mcpregistries'], verbs: ['get', 'list'] }] } });
  await rbac.createClusterRoleBinding({
    body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'bob-reads' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'registry-reader' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }] },
  });

  const t = await tempStore();
  cleanupStore = t.cleanup;
  const entries = fixtureEntries();
  for (const [namespace, name] of [
    ['team-a', 'public'],
    ['team-a', 'private'],
    ['team-b', 'other'],
  ] as const) {
    await publishEntries(t.store, { namespace, name }, entries);
  }
  // the query function's own credentials: its token against the control plane
  const own = cp.kubeConfig();
  const cluster = own.getCurrentCluster()!;
  own.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'query', token: TOKENS.query }],
    contexts: [{ name: 'query', cluster: cluster.name, user: 'query' }],
    currentContext: 'query',
  });
  api = await startQuery({
    store: t.store,
    env: { MCPREG_AUTH: 'kubernetes', MCPREG_DEFAULT_REGISTRY: 'team-a/private', MCPREG_AUTH_CACHE_TTL: '400ms', MCPREG_ACCESS_LOG: 'true' },
    kubeConfig: own,
    logger: createLogger({ level: 'debug', format: 'json', write: (line) => logLines.push(line) }),
  });
});

after(async () => {
  await api?.close();
  await cp?.stop();
  await cleanupStore?.();
  if (dir) await rm(dir, { recursive: true, force: true });
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
