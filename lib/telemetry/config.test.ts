import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditSinkOf, telemetryConfigFromEnv, telemetryEnabled } from './config.ts';

const on = (env: Record<string, string>) => {
  const c = telemetryConfigFromEnv(env, { serviceName: 'svc' });
  return { otlpMetrics: c.otlpMetrics, prometheus: c.prometheus, otlpTraces: c.otlpTraces };
};

test('nothing set: telemetry off, nothing to load', () => {
  const c = telemetryConfigFromEnv({}, { serviceName: 'svc' });
  assert.equal(telemetryEnabled(c), false);
  assert.deepEqual(c.audit, { kind: 'off' });
  assert.equal(c.serviceName, 'svc');
});

test('an OTLP endpoint turns on metrics and traces; per-signal endpoints and exporters select', () => {
  assert.deepEqual(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), { otlpMetrics: true, prometheus: false, otlpTraces: true });
  assert.deepEqual(on({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }), { otlpMetrics: false, prometheus: false, otlpTraces: true });
  assert.deepEqual(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }), { otlpMetrics: true, prometheus: false, otlpTraces: false });
  assert.deepEqual(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRICS_EXPORTER: 'prometheus' }), { otlpMetrics: false, prometheus: true, otlpTraces: true });
  assert.deepEqual(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }), { otlpMetrics: false, prometheus: false, otlpTraces: false });
});

test('MCPREG_METRICS=prometheus adds /metrics; off wins over an endpoint; anything else is refused', () => {
  assert.deepEqual(on({ MCPREG_METRICS: 'prometheus' }), { otlpMetrics: false, prometheus: true, otlpTraces: false });
  assert.deepEqual(on({ MCPREG_METRICS: 'off', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), { otlpMetrics: false, prometheus: false, otlpTraces: true });
  assert.throws(() => telemetryConfigFromEnv({ MCPREG_METRICS: 'statsd' }, { serviceName: 'svc' }), /MCPREG_METRICS must be prometheus or off/);
  assert.equal(telemetryConfigFromEnv({ OTEL_SERVICE_NAME: 'mine' }, { serviceName: 'svc' }).serviceName, 'mine');
});

test('MCPREG_AUDIT: off by default, stdout, or a file path', () => {
  assert.deepEqual(auditSinkOf(undefined), { kind: 'off' });
  assert.deepEqual(auditSinkOf('stdout'), { kind: 'stdout' });
  assert.deepEqual(auditSinkOf('/var/log/mcpreg-audit.jsonl'), { kind: 'file', path: '/var/log/mcpreg-audit.jsonl' });
});
