/**
 * The query function's spans with the real OpenTelemetry SDK exporting to an OTLP receiver
 * on loopback: a request carrying a W3C `traceparent` gets a server span that is a child of
 * the caller's span, named by its route template, with the store reads under it; a request
 * without one starts a trace of its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { telemetryConfigFromEnv } from '../../lib/telemetry/config.ts';
import { startTelemetry, type Telemetry } from '../../lib/telemetry/telemetry.ts';
import { fixtureEntries, publishEntries } from '../api/fixture.ts';
import { request, startQuery, tempStore, type Running } from '../api/harness.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../servers/otlp.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN = 'b7ad6b7169203331';

describe('query traces over OTLP', () => {
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  let api: Running;
  let cleanup: () => Promise<void>;

  before(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    const config = telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_METRICS_EXPORTER: 'none' }, { serviceName: 'mcp-registry-query' });
    assert.deepEqual([config.otlpMetrics, config.otlpTraces], [false, true]);
    telemetry = await startTelemetry(config);
    const t = await tempStore();
    cleanup = t.cleanup;
    await publishEntries(t.store, { namespace: 'mcp', name: 'reg' }, fixtureEntries());
    api = await startQuery({ store: t.store, telemetry });
  });

  after(async () => {
    await api?.close();
    await telemetry?.shutdown();
    await receiver?.close();
    await cleanup?.();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  });

  test("a query's span is a child of the caller's trace; the store reads are its children", async () => {
    const traceparent = `00-${TRACE_ID}-${PARENT_SPAN}-01`;
    for (let i = 0; i < 2; i++) {
      // the second one is a repeat: answered from memory, and still traced
      const r = await request(`${api.url}/registries/mcp/reg/v0.1/servers?limit=5`, { headers: { traceparent } });
      assert.equal(r.status, 200);
    }
    assert.equal((await request(`${api.url}/registries/mcp/reg/v0.1/servers/io.example%2Fnone-of-these/versions`, { headers: { traceparent } })).status, 404);
    assert.equal((await api.get('/registries/mcp/reg/v0.1/servers?limit=1')).status, 200);
    await telemetry.flush();

    const spans = receiver.spans();
    const ours = spans.filter((s) => s.traceId === TRACE_ID);
    const servers = ours.filter((s) => s.name === 'GET /registries/{namespace}/{name}/v0.1/servers');
    assert.equal(servers.length, 2, `spans: ${ours.map((s) => s.name).join(', ')}`);
    for (const s of servers) {
      assert.equal(s.parentSpanId, PARENT_SPAN);
      assert.equal(s.service, 'mcp-registry-query');
      assert.equal(s.attributes['http.route'], '/registries/{namespace}/{name}/v0.1/servers');
      assert.equal(s.attributes['http.request.method'], 'GET');
      assert.equal(s.attributes['http.response.status_code'], 200);
    }
    const reads = ours.filter((s) => s.name === 'store.get' && s.parentSpanId === servers[0]!.spanId);
    assert.ok(reads.length >= 1, `store reads under the first request: ${ours.map((s) => `${s.name}<${s.parentSpanId}`).join(', ')}`);
    const missing = ours.find((s) => s.name === 'GET /registries/{namespace}/{name}/v0.1/servers/{serverName}/versions');
    assert.equal(missing?.attributes['http.response.status_code'], 404);
    assert.ok(!ours.some((s) => JSON.stringify(s).includes('none-of-these')), 'no raw path in span names or attributes');
    // without a traceparent: a root span in a trace of its own
    const own = spans.filter((s) => s.traceId !== TRACE_ID && s.name === 'GET /registries/{namespace}/{name}/v0.1/servers');
    assert.equal(own.length, 1);
    assert.equal(own[0]!.parentSpanId, '');
  });
});
