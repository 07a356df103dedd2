import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { createMemorySecretReader } from '../../lib/kube/secrets.ts';
import { createUrlSource } from '../../lib/sources/url.ts';
import { startHttpServer, type TestHttpServer } from '../servers/http.ts';
import { makeSelfSignedCert } from '../servers/tls.ts';
import { rejectsWith, testContext } from './helpers.ts';

const FIXTURE = readFileSync(new URL('../../../shared/fixtures/real/toolhive-example-upstream-with-remotes.json', import.meta.url));
const fixtureBytes = () => new Uint8Array(FIXTURE);

const secrets = createMemorySecretReader({
  tok: { token: 's3cr3t-token\n' },
  basic: { user: 'alice', pass: 'wonder-land' },
  hdr: { value: 'key-123456' },
  wrong: { token: 'not-the-token' },
});

describe('url source', () => {
  let srv: TestHttpServer;
  before(async () => {
    srv = await startHttpServer();
  });
  after(() => srv.close());

  const fetchUrl = (path: string, extra: Record<string, unknown> = {}, ctx: Parameters<typeof testContext>[0] = {}) =>
    createUrlSource({ url: `${srv.url}${path}`, allowHttp: true, ...extra }).fetch(testContext({ secrets, ...ctx }));

  it('fetches a document and uses the ETag as revision, then answers unchanged on 304', async () => {
    srv.route('/etag.json', { body: FIXTURE, etag: '"v1"' });
    const first = await fetchUrl('/etag.json');
    assert.equal(first.kind, 'document');
    if (first.kind !== 'document') return;
    assert.deepEqual(first.bytes, fixtureBytes());
    assert.equal(first.revision, '"v1"');
    assert.equal(first.file, 'etag.json');
    const second = await fetchUrl('/etag.json', {}, { previous: { revision: first.revision, state: first.state } });
    assert.deepEqual(second, { kind: 'unchanged', revision: '"v1"' });
    assert.equal(srv.hits('/etag.json')[1]!.headers['if-none-match'], '"v1"');
    // force: no conditional header, the whole document again
    const forced = await fetchUrl('/etag.json', {}, { previous: { revision: first.revision, state: first.state }, force: true });
    assert.equal(forced.kind, 'document');
    assert.equal(srv.hits('/etag.json')[2]!.headers['if-none-match'], undefined);
  });

  it('uses Last-Modified with If-Modified-Since when there is no ETag', async () => {
    const lm = 'Wed, 21 Oct 2026 07:28:00 GMT';
    srv.route('/lm.json', { body: FIXTURE, lastModified: lm });
    const first = await fetchUrl('/lm.json');
    assert.equal(first.revision, lm);
    const second = await fetchUrl('/lm.json', {}, { previous: { revision: first.revision, state: (first as { state?: unknown }).state } });
    assert.equal(second.kind, 'unchanged');
    assert.equal(srv.hits('/lm.json')[1]!.headers['if-modified-since'], lm);
  });

  it('falls back to the body sha256 and answers unchanged for identical bytes', async () => {
    srv.route('/plain.json', { body: FIXTURE });
    const first = await fetchUrl('/plain.json');
    assert.match(first.revision, /^sha256:[0-9a-f]{64}$/);
    const again = await fetchUrl('/plain.json', {}, { previous: { revision: first.revision } });
    assert.equal(again.kind, 'unchanged');
    srv.route('/plain.json', { body: '{"servers":{}}' });
    const changed = await fetchUrl('/plain.json', {}, { previous: { revision: first.revision } });
    assert.equal(changed.kind, 'document');
    assert.notEqual(changed.revision, first.revision);
  });

  for (const encoding of ['gzip', 'br', 'deflate'] as const) {
    it(`decodes ${encoding}`, async () => {
      srv.route(`/${encoding}.json`, { body: FIXTURE, encoding });
      const r = await fetchUrl(`/${encoding}.json`);
      assert.equal(r.kind, 'document');
      if (r.kind === 'document') assert.deepEqual(r.bytes, fixtureBytes());
      assert.match(String(srv.hits(`/${encoding}.json`)[0]!.headers['accept-encoding']), new RegExp(encoding));
    });
  }

  describe('auth from a Secret', () => {
    it('bearer token (trailing newline of the Secret value removed)', async () => {
      srv.route('/bearer.json', { body: FIXTURE, auth: { bearer: 's3cr3t-token' } });
      const r = await fetchUrl('/bearer.json', { authSecret: { name: 'tok', tokenKey: 'token' } });
      assert.equal(r.kind, 'document');
    });
    it('basic', async () => {
      srv.route('/basic.json', { body: FIXTURE, auth: { basic: { user: 'alice', pass: 'wonder-land' } } });
      const r = await fetchUrl('/basic.json', { authSecret: { name: 'basic', usernameKey: 'user', passwordKey: 'pass' } });
      assert.equal(r.kind, 'document');
    });
    it('a named header, beside user headers', async () => {
      srv.route('/hdr.json', { body: FIXTURE, auth: { header: { name: 'X-Api-Key', value: 'key-123456' } } });
      const r = await fetchUrl('/hdr.json', { headers: { 'X-Tenant': 'blue' }, authSecret: { name: 'hdr', headerName: 'X-Api-Key', headerValueKey: 'value' } });
      assert.equal(r.kind, 'document');
      assert.equal(srv.hits('/hdr.json')[0]!.headers['x-tenant'], 'blue');
    });
    it('wrong credentials → auth_failed, and the echoed token is not in the error', async () => {
      srv.route('/bearer2.json', { body: FIXTURE, auth: { bearer: 's3cr3t-token' } });
      const e = await rejectsWith(fetchUrl('/bearer2.json', { authSecret: { name: 'wrong', tokenKey: 'token' } }), 'auth_failed');
      assert.doesNotMatch(JSON.stringify({ m: e.message, w: e.where }), /not-the-token/);
      assert.doesNotMatch(e.message, /bad credentials/, 'no part of the response body');
      assert.equal(srv.hits('/bearer2.json').length, 1, 'auth failures are not retried');
    });
    it('no credentials → auth_failed', async () => {
      srv.route('/bearer3.json', { body: FIXTURE, auth: { bearer: 's3cr3t-token' } });
      await rejectsWith(fetchUrl('/bearer3.json'), 'auth_failed');
    });
    it('missing Secret or key → secret_not_found naming it, no request sent', async () => {
      srv.route('/never.json', { body: FIXTURE });
      const e = await rejectsWith(fetchUrl('/never.json', { authSecret: { name: 'tok', tokenKey: 'nope' } }), 'secret_not_found');
      assert.match(e.message, /team-a|default/);
      assert.match(e.message, /"nope"/);
      assert.match(e.message, /keys: token/);
      await rejectsWith(fetchUrl('/never.json', { authSecret: { name: 'absent', tokenKey: 'token' } }), 'secret_not_found');
      await rejectsWith(fetchUrl('/never.json', { authSecret: { name: 'basic', usernameKey: 'user' } }), 'invalid_argument');
      assert.equal(srv.hits('/never.json').length, 0);
    });
  });

  describe('redirects', () => {
    it('follows a chain within the limit', async () => {
      srv.route('/final.json', { body: FIXTURE });
      srv.route('/r2', { redirect: { to: '/final.json', status: 308 } });
      srv.route('/r1', { redirect: { to: `${srv.url}/r2`, status: 301 } });
      const r = await fetchUrl('/r1');
      assert.equal(r.kind, 'document');
      if (r.kind === 'document') assert.equal(r.file, 'final.json');
    });
    it('refuses more than maxRedirects', async () => {
      for (let i = 0; i < 7; i++) srv.route(`/loop${i}`, { redirect: { to: `/loop${i + 1}` } });
      srv.route('/loop7', { body: FIXTURE });
      const e = await rejectsWith(fetchUrl('/loop0', {}, { policy: { maxRedirects: 5 } }), 'source_unavailable');
      assert.match(e.message, /more than 5 redirects/);
      assert.equal(srv.hits('/loop6').length, 0);
      const ok = await fetchUrl('/loop0', {}, { policy: { maxRedirects: 7 } });
      assert.equal(ok.kind, 'document');
    });
    it('refuses a redirect to a forbidden address, checked on the new host', async () => {
      srv.route('/to-metadata', { redirect: { to: 'http://169.254.169.254/latest/meta-data/' } });
      const e = await rejectsWith(fetchUrl('/to-metadata'), 'url_forbidden');
      assert.match(e.message, /169\.254\.169\.254/);
      assert.match(e.message, /link-local/);
      srv.route('/to-ten', { redirect: { to: 'http://10.1.2.3:8080/x?token=abc' } });
      const e2 = await rejectsWith(fetchUrl('/to-ten'), 'url_forbidden');
      assert.doesNotMatch(JSON.stringify(e2), /token=abc/);
    });
    it('drops credentials when a redirect changes origin', async () => {
      const other = await startHttpServer({ '/moved.json': { body: FIXTURE } });
      try {
        srv.route('/cross', { auth: { bearer: 's3cr3t-token' }, redirect: { to: `http://localhost:${other.port}/moved.json` } });
        const r = await fetchUrl('/cross', { authSecret: { name: 'tok', tokenKey: 'token' } }, { policy: { allowPrivate: ['127.0.0.0/8', '::1/128'] } });
        assert.equal(r.kind, 'document');
        assert.equal(other.hits('/moved.json')[0]!.headers.authorization, undefined);
      } finally {
        await other.close();
      }
    });
  });

  describe('limits and failures', () => {
    it('slow body → source_timeout', async () => {
      srv.route('/slow.json', { size: 10_000, slow: { chunkBytes: 100, intervalMs: 50 } });
      const t0 = Date.now();
      const e = await rejectsWith(fetchUrl('/slow.json', {}, { policy: { totalTimeoutMs: 400 } }), 'source_timeout');
      assert.ok(Date.now() - t0 < 3_000, 'gave up near the timeout');
      assert.match(e.message, /400 ms/);
    });
    it('truncated body → precise error naming the byte counts, after retries', async () => {
      srv.route('/cut.json', { size: 50_000, truncate: { sendBytes: 1_000 } });
      const e = await rejectsWith(fetchUrl('/cut.json', {}, { policy: { retries: 1 } }), 'source_unavailable');
      assert.match(e.message, /ended after \d+ of 50000 bytes/);
      assert.equal(srv.hits('/cut.json').length, 2);
    });
    it('oversized body → too_large (declared length)', async () => {
      srv.route('/big.json', { size: 2_000_000 });
      const e = await rejectsWith(fetchUrl('/big.json', {}, { policy: { maxBytes: 1_000_000 } }), 'too_large');
      assert.match(e.message, /1000000/);
    });
    it('oversized after decompression → too_large while streaming', async () => {
      srv.route('/bomb.json', { size: 20_000_000, encoding: 'gzip' });
      const e = await rejectsWith(fetchUrl('/bomb.json', {}, { policy: { maxBytes: 1_000_000 } }), 'too_large');
      assert.match(e.message, /after decompression/);
    });
    it('5xx then success is retried', async () => {
      srv.route('/flaky.json', { body: FIXTURE, failFirst: { count: 2, status: 503 } });
      const r = await fetchUrl('/flaky.json');
      assert.equal(r.kind, 'document');
      assert.equal(srv.hits('/flaky.json').length, 3);
    });
    it('5xx forever → source_unavailable (transient) after the retries', async () => {
      srv.route('/down.json', { body: FIXTURE, failFirst: { count: 100, status: 502 } });
      const e = await rejectsWith(fetchUrl('/down.json', {}, { policy: { retries: 2 } }), 'source_unavailable');
      assert.equal(e.transient, true);
      assert.equal(srv.hits('/down.json').length, 3);
    });
    it('500 is not retried', async () => {
      srv.route('/broken.json', { body: FIXTURE, failFirst: { count: 100, status: 500 } });
      await rejectsWith(fetchUrl('/broken.json'), 'source_unavailable');
      assert.equal(srv.hits('/broken.json').length, 1);
    });
    it('429 with Retry-After seconds is honoured', async () => {
      srv.route('/limited.json', { body: FIXTURE, failFirst: { count: 1, status: 429, retryAfter: '1' } });
      const t0 = Date.now();
      const r = await fetchUrl('/limited.json');
      const elapsed = Date.now() - t0;
      assert.equal(r.kind, 'document');
      const hits = srv.hits('/limited.json');
      assert.equal(hits.length, 2);
      assert.ok(hits[1]!.time - hits[0]!.time >= 990, `waited ${hits[1]!.time - hits[0]!.time} ms`);
      assert.ok(elapsed < 2_500);
    });
    it('429 with an HTTP-date Retry-After is honoured', async () => {
      const when = new Date(Date.now() + 2_000).toUTCString(); // second precision: 1–2 s from now
      srv.route('/limited2.json', { body: FIXTURE, failFirst: { count: 1, status: 429, retryAfter: when } });
      await fetchUrl('/limited2.json');
      const hits = srv.hits('/limited2.json');
      assert.ok(hits[1]!.time - hits[0]!.time >= 900, `waited ${hits[1]!.time - hits[0]!.time} ms`);
    });
    it('429 asking for longer than the cap → rate_limited without waiting', async () => {
      srv.route('/limited3.json', { body: FIXTURE, failFirst: { count: 5, status: 429, retryAfter: '3600' } });
      const t0 = Date.now();
      const e = await rejectsWith(fetchUrl('/limited3.json'), 'rate_limited');
      assert.ok(Date.now() - t0 < 1_000);
      assert.match(e.message, /3600 s/);
      assert.equal(e.transient, true);
    });
    it('404 → source_not_found; other 4xx precise, without the body', async () => {
      const e = await rejectsWith(fetchUrl('/nothing-here.json'), 'source_not_found');
      assert.match(e.where.url ?? '', /\/nothing-here\.json$/);
      srv.route('/teapot', { status: 418, body: '{"detail":"short and stout"}' });
      const e2 = await rejectsWith(fetchUrl('/teapot'), 'source_unavailable');
      assert.match(e2.message, /HTTP 418/);
      assert.doesNotMatch(e2.message, /short and stout/, 'a response body never reaches an error (status, Events)');
    });
    it('connection refused → source_unavailable, transient', async () => {
      const gone = await startHttpServer();
      const port = gone.port;
      await gone.close();
      const e = await rejectsWith(
        createUrlSource({ url: `http://127.0.0.1:${port}/x.json`, allowHttp: true }).fetch(testContext({ policy: { retries: 1 } })),
        'source_unavailable',
      );
      assert.equal(e.transient, true);
      assert.match(e.message, /ECONNREFUSED/);
    });
    it('a cancelled sync stops a retry wait at once → aborted', async () => {
      srv.route('/wait.json', { body: FIXTURE, failFirst: { count: 5, status: 503, retryAfter: '2' } });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 200);
      const t0 = Date.now();
      await rejectsWith(fetchUrl('/wait.json', {}, { signal: ac.signal }), 'aborted');
      assert.ok(Date.now() - t0 < 1_500);
    });
  });

  describe('URL policy (SSRF)', () => {
    it('loopback is refused without the allow-list, before any request', async () => {
      srv.route('/secret.json', { body: FIXTURE });
      const before = srv.hits('/secret.json').length;
      const e = await rejectsWith(
        createUrlSource({ url: `${srv.url}/secret.json?sig=abc`, allowHttp: true }).fetch(testContext({ policy: { allowPrivate: [] } })),
        'url_forbidden',
      );
      assert.match(e.message, /loopback/);
      assert.doesNotMatch(JSON.stringify(e), /sig=abc/);
      assert.equal(srv.hits('/secret.json').length, before);
    });
    it('a host name resolving to loopback is refused (localhost)', async () => {
      const e = await rejectsWith(
        createUrlSource({ url: `http://localhost:${srv.port}/x`, allowHttp: true }).fetch(testContext({ policy: { allowPrivate: [] } })),
        'url_forbidden',
      );
      assert.match(e.message, /localhost/);
    });
    it('an allow-listed host name is permitted', async () => {
      srv.route('/named.json', { body: FIXTURE });
      const r = await createUrlSource({ url: `http://localhost:${srv.port}/named.json`, allowHttp: true }).fetch(
        testContext({ policy: { allowPrivate: ['localhost'] } }),
      );
      assert.equal(r.kind, 'document');
    });
    it('the address connected to is checked again: a DNS answer that changes after the check is refused', async () => {
      srv.route('/rebind.json', { body: FIXTURE });
      let calls = 0;
      const lookup = ((_host: string, _opts: unknown, cb: (e: null, a: Array<{ address: string; family: number }>) => void) => {
        calls++;
        // the first answer (the pre-check) is public; the connection's own lookup gets loopback
        cb(null, [{ address: calls === 1 ? '93.184.216.34' : '127.0.0.1', family: 4 }]);
      }) as never;
      const before = srv.hits('/rebind.json').length;
      const e = await rejectsWith(
        createUrlSource({ url: `http://rebind.example:${srv.port}/rebind.json`, allowHttp: true }).fetch(
          testContext({ policy: { allowPrivate: [], lookup, retries: 0 } }),
        ),
        'url_forbidden',
      );
      assert.ok(calls >= 2);
      assert.match(e.message, /rebind\.example \(127\.0\.0\.1\)/);
      assert.equal(srv.hits('/rebind.json').length, before);
    });
    it('plain http needs allowHttp; other schemes and credentials in the URL are refused', async () => {
      await rejectsWith(createUrlSource({ url: `${srv.url}/x.json`, allowHttp: false }).fetch(testContext()), 'url_forbidden');
      await rejectsWith(createUrlSource({ url: 'file:///etc/passwd', allowHttp: true }).fetch(testContext()), 'url_forbidden');
      const e = await rejectsWith(createUrlSource({ url: `http://bob:hunter2@127.0.0.1:${srv.port}/x.json`, allowHttp: true }).fetch(testContext()), 'invalid_argument');
      assert.doesNotMatch(JSON.stringify({ m: e.message, w: e.where }), /hunter2/);
    });
  });

  describe('https', () => {
    const cert = makeSelfSignedCert();
    const skip = cert ? false : 'openssl is not installed; cannot make a test certificate';
    it('fetches over https with the extra CA; untrusted certificate is refused', { skip }, async () => {
      const tlsSrv = await startHttpServer({ '/r.json': { body: FIXTURE } }, { tls: cert! });
      try {
        const src = createUrlSource({ url: `${tlsSrv.url}/r.json`, allowHttp: false });
        const ok = await src.fetch(testContext({ policy: { ca: cert!.cert } }));
        assert.equal(ok.kind, 'document');
        const e = await rejectsWith(src.fetch(testContext({ policy: { retries: 0 } })), 'source_unavailable');
        assert.match(e.message, /CERT|certificate/i);
        assert.equal(e.transient, false);
      } finally {
        await tlsSrv.close();
      }
    });
    it('a redirect from https to plain http is refused unless allowHttp', { skip }, async () => {
      srv.route('/plain-target.json', { body: FIXTURE });
      const tlsSrv = await startHttpServer({ '/down': { redirect: { to: `${srv.url}/plain-target.json` } } }, { tls: cert! });
      try {
        const e = await rejectsWith(
          createUrlSource({ url: `${tlsSrv.url}/down`, allowHttp: false }).fetch(testContext({ policy: { ca: cert!.cert } })),
          'url_forbidden',
        );
        assert.match(e.message, /https to plain http/);
        assert.equal(srv.hits('/plain-target.json').length, 0);
        const ok = await createUrlSource({ url: `${tlsSrv.url}/down`, allowHttp: true }).fetch(testContext({ policy: { ca: cert!.cert } }));
        assert.equal(ok.kind, 'document');
      } finally {
        await tlsSrv.close();
      }
    });
  });
});
