/**
 * MCPREG_AUTH=kubernetes when the Kubernetes API misbehaves (issue 10, items 6 and 14):
 * a frozen API server (a TCP proxy in front of the embedded control plane that stops
 * forwarding) makes reviews time out with 503, without caching the failure; and with
 * MCPREG_AUTH_AUDIENCES set, a TokenReview answer that names none of those audiences (an
 * authenticator that is not audience-aware, here a plain HTTP server) is not accepted.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { startAuthFixture, TOKENS, type AuthFixture } from './auth-fixture.ts';
import { startFreezableProxy, type FreezableProxy } from '../servers/freezable-proxy.ts';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { startQuery, tempStore } from './harness.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('a frozen API server: the review times out with 503, others are not queued behind it, and the failure is not cached', async () => {
  let proxy: FreezableProxy | undefined;
  const fixture: AuthFixture = await startAuthFixture({
    env: { MCPREG_AUTH_TIMEOUT: '700ms', MCPREG_AUTH_CACHE_TTL: '30s' },
    apiServer: async (url) => (proxy = await startFreezableProxy(url)).url,
  });
  cleanups.push(async () => {
    await fixture.stop();
    await proxy?.stop();
  });
  const get = (token: string) => fixture.api.get('/registries/team-b/other/v0.1/servers?limit=1', { Authorization: `Bearer ${token}` });
  assert.equal((await get(TOKENS.alice)).status, 403, 'alice is reviewed while the API server answers');
  proxy!.freeze();
  const started = performance.now();
  const [first, second] = await Promise.all([get(TOKENS.bob), get(TOKENS.bob)]);
  const took = performance.now() - started;
  assert.equal(first.status, 503);
  assert.equal(second.status, 503);
  assert.match(String(first.headers['content-type']), /application\/problem\+json/);
  assert.ok(took < 20_000, `answered after ${Math.round(took)} ms, not after the API server came back`);
  proxy!.thaw();
  assert.equal((await get(TOKENS.bob)).status, 200, 'the timeout was not cached: the next request is reviewed again');
});

/** a TokenReview/SubjectAccessReview server that authenticates every token and names no audience */
async function audienceUnawareApiServer(audiences: string[] | undefined): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const review = JSON.parse(body || '{}') as Record<string, unknown>;
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/apis/authentication.k8s.io/v1/tokenreviews')) {
        res.end(JSON.stringify({ ...review, status: { authenticated: true, user: { username: 'mallory', uid: 'uid-m', groups: ['system:authenticated'] }, ...(audiences ? { audiences } : {}) } }));
      } else if (req.url?.startsWith('/apis/authorization.k8s.io/v1/subjectaccessreviews')) {
        res.end(JSON.stringify({ ...review, status: { allowed: true } }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

async function queryAgainst(apiServerUrl: string, env: Record<string, string>) {
  const t = await tempStore();
  await publishEntries(t.store, { namespace: 'team-a', name: 'public' }, fixtureEntries());
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: apiServerUrl, skipTLSVerify: true }],
    users: [{ name: 'q', token: 'query-token' }],
    contexts: [{ name: 'q', cluster: 'c', user: 'q' }],
    currentContext: 'q',
  });
  const api = await startQuery({ store: t.store, env: { MCPREG_AUTH: 'kubernetes', ...env }, kubeConfig: kc });
  cleanups.push(async () => {
    await api.close();
    await t.cleanup();
  });
  return (token: string) => api.get('/registries/team-a/public/v0.1/servers?limit=1', { Authorization: `Bearer ${token}` });
}

test('MCPREG_AUTH_AUDIENCES: a TokenReview answer without one of our audiences is a 401; one naming ours is accepted', async () => {
  const unaware = await audienceUnawareApiServer(undefined);
  const wrong = await audienceUnawareApiServer(['https://kubernetes.default.svc']);
  const ours = await audienceUnawareApiServer(['mcp-registry']);
  for (const s of [unaware, wrong, ours]) cleanups.push(() => new Promise((r) => s.server.close(() => r())));
  const env = { MCPREG_AUTH_AUDIENCES: 'mcp-registry' };
  assert.equal((await (await queryAgainst(unaware.url, env))('token-for-the-api-server')).status, 401, 'no audiences in the answer: valid only for the API server');
  assert.equal((await (await queryAgainst(wrong.url, env))('token-for-the-api-server')).status, 401, 'another audience');
  assert.equal((await (await queryAgainst(ours.url, env))('token-for-us')).status, 200, 'our audience');
  assert.equal((await (await queryAgainst(unaware.url, {}))('token-for-the-api-server')).status, 200, 'without MCPREG_AUTH_AUDIENCES the API server audience is what is asked for');
});
