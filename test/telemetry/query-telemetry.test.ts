/**
 * The query function's telemetry with the real OpenTelemetry SDK: OTLP/HTTP push to a
 * receiver on loopback and the Prometheus endpoint on the function's own port, with
 * MCPREG_AUTH=kubernetes against the embedded control plane. Checks the request metrics'
 * attributes and bounded cardinality (1,000 server names queried make a handful of series),
 * cache and snapshot-load counts, auth decisions, the audit lines of allowed and denied
 * reads, and that no token appears in any of it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { telemetryConfigFromEnv } from '../../lib/telemetry/config.ts';
import { startTelemetry, type Telemetry } from '../../lib/telemetry/telemetry.ts';
import { startAuthFixture, TOKENS, type AuthFixture } from '../api/auth-fixture.ts';
import { request } from '../api/harness.ts';
import { latest, startOtlpReceiver, type OtlpReceiver } from '../servers/otlp.ts';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('query telemetry (OTLP and Prometheus, kubernetes auth)', () => {
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  let fx: AuthFixture;
  const audit: string[] = [];

  before(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    const config = telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_EXPORTER: 'none', MCPREG_METRICS: 'prometheus' }, { serviceName: 'mcp-registry-query' });
    assert.deepEqual([config.otlpMetrics, config.prometheus, config.otlpTraces], [true, true, false]);
    telemetry = await startTelemetry(config, { auditWrite: (line) => audit.push(line) });
    fx = await startAuthFixture({ telemetry });
  });

  after(async () => {
    await fx?.stop();
    await telemetry?.shutdown();
    await receiver?.close();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  });

  test('requests, caches, snapshot loads and auth decisions: attributes, cardinality, audit, no tokens', async () => {
    const { api } = fx;
    const get = (path: string, token?: string) => request(`${api.url}${path}`, token ? { headers: bearer(token) } : {});
    assert.equal((await get('/registries/team-a/public/v0.1/servers', TOKENS.alice)).status, 200);
    assert.equal((await get('/registries/team-a/public/v0.1/servers', TOKENS.alice)).status, 200);
    assert.equal((await get('/registries/team-a/private/v0.1/servers', TOKENS.alice)).status, 403);
    assert.equal((await get('/registries/team-a/public/v0.1/servers', 'not-a-valid-token-zzzz')).status, 401);
    // 1,000 distinct server names, and 100 made-up registries
    for (let i = 0; i < 1000; i += 50) {
      const batch = Array.from({ length: 50 }, (_, j) => get(`/registries/team-a/public/v0.1/servers/io.example%2Fserver-${i + j}/versions`, TOKENS.bob));
      for (const r of await Promise.all(batch)) assert.equal(r.status, 404);
    }
    for (let i = 0; i < 100; i++) assert.equal((await get(`/registries/made-up/reg-${i}/v0.1/servers`, TOKENS.bob)).status, 404);

    // Prometheus text on the function's port parses, and has the request histogram
    const scraped = await get('/metrics');
    assert.equal(scraped.status, 200);
    const families = parsePrometheusTextFormat(scraped.text);
    const http = families.find((f) => f.name === 'http_server_request_duration');
    assert.ok(http, `families: ${families.map((f) => f.name).join(', ')}`);
    assert.equal(http.type, 'HISTOGRAM');
    // (this parser folds a histogram's labelled series into one; counters keep their labels)
    assert.ok(http.metrics.length >= 1);
    const decisions = families.find((f) => f.name === 'mcpreg_query_auth_decisions_total');
    assert.equal(decisions?.type, 'COUNTER');
    const byOutcome = Object.fromEntries(decisions.metrics.map((m) => [m.labels?.mcpreg_auth_outcome, Number(m.value)]));
    assert.equal(byOutcome.unauthenticated, 1);
    assert.ok((byOutcome.allowed ?? 0) >= 2 && (byOutcome.denied ?? 0) >= 1, JSON.stringify(byOutcome));
    const lookups = families.find((f) => f.name === 'mcpreg_query_cache_lookups_total');
    assert.ok(lookups?.metrics.some((m) => m.labels?.mcpreg_cache === 'response' && m.labels.mcpreg_cache_result === 'hit'));

    await telemetry.flush();
    const points = receiver.points();
    const requests = points.filter((p) => p.metric === 'http.server.request.duration');
    const series = new Set(requests.map((p) => JSON.stringify(p.attributes)));
    assert.ok(series.size < 20, `${series.size} series: ${[...series].join('\n')}`);
    assert.equal(requests[0]?.unit, 's');
    const ok = latest(points, 'http.server.request.duration', { 'http.route': '/registries/{namespace}/{name}/v0.1/servers', 'http.response.status_code': 200, 'http.request.method': 'GET' });
    assert.equal(ok?.attributes['mcpreg.registry'], 'team-a/public');
    assert.equal(ok?.value, 2);
    const missing = latest(points, 'http.server.request.duration', { 'http.route': '/registries/{namespace}/{name}/v0.1/servers/{serverName}/versions', 'http.response.status_code': 404 });
    assert.equal(missing?.value, 1000);
    assert.equal(missing?.attributes['mcpreg.registry'], undefined, 'no registry label on errors');
    assert.ok(!requests.some((p) => String(p.attributes['mcpreg.registry'] ?? '').startsWith('made-up/')));
    assert.ok((latest(points, 'mcpreg.query.cache.lookups', { 'mcpreg.cache': 'response', 'mcpreg.cache.result': 'hit' })?.value ?? 0) >= 1);
    assert.ok((latest(points, 'mcpreg.query.cache.lookups', { 'mcpreg.cache': 'response', 'mcpreg.cache.result': 'miss' })?.value ?? 0) >= 1);
    assert.ok((latest(points, 'mcpreg.query.snapshot.loads', { 'mcpreg.object.kind': 'snapshot' })?.value ?? 0) >= 1);
    assert.ok((latest(points, 'mcpreg.query.snapshot.load.size', { 'mcpreg.object.kind': 'snapshot' })?.value ?? 0) > 1000);
    assert.equal(latest(points, 'mcpreg.query.auth.decisions', { 'mcpreg.auth.outcome': 'unauthenticated' })?.value, 1);
    assert.ok((latest(points, 'mcpreg.query.auth.decisions', { 'mcpreg.auth.outcome': 'allowed' })?.value ?? 0) >= 2);
    assert.ok((latest(points, 'mcpreg.query.auth.decisions', { 'mcpreg.auth.outcome': 'denied' })?.value ?? 0) >= 1);

    // audit: who, which registry, allowed or denied
    const records = audit.map((l) => JSON.parse(l) as Record<string, unknown>);
    const reads = records.filter((r) => r.action === 'registry.read');
    const aliceHash = createHash('sha256').update(TOKENS.alice).digest('hex').slice(0, 12);
    assert.ok(reads.some((r) => r.actor === 'alice' && r.resource === 'mcpregistries/team-a/public' && r.outcome === 'allowed' && r.credential === aliceHash));
    assert.ok(reads.some((r) => r.actor === 'alice' && r.resource === 'mcpregistries/team-a/private' && r.outcome === 'denied'));
    assert.ok(reads.some((r) => r.outcome === 'denied' && r.reason === 'unauthenticated'));
    assert.ok(reads.every((r) => r.service === 'mcp-registry-query' && typeof r.time === 'string'));

    const everything = [...audit, ...receiver.raw, scraped.text];
    for (const token of [...Object.values(TOKENS), 'not-a-valid-token-zzzz']) {
      for (const text of everything) assert.ok(!text.includes(token), `a token in telemetry output`);
      const fullHash = createHash('sha256').update(token).digest('hex');
      for (const text of everything) assert.ok(!text.includes(fullHash), 'a full token hash in telemetry output');
    }
  });
});
