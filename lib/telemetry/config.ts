/**
 * Which telemetry is on, from the environment. Pure. The standard OpenTelemetry variables
 * choose the exporters (an OTLP endpoint turns OTLP push on; `OTEL_*_EXPORTER=none` or
 * `OTEL_SDK_DISABLED=true` turn it off) and `MCPREG_METRICS=prometheus` adds a Prometheus
 * `/metrics` endpoint on the function's own port. With nothing set, nothing is loaded.
 */
import { RegistryError } from '../errors.ts';

export type AuditSink = { kind: 'off' } | { kind: 'stdout' } | { kind: 'file'; path: string };

export interface TelemetryConfig {
  /** push metrics over OTLP/HTTP (JSON) to the configured endpoint */
  otlpMetrics: boolean;
  /** serve Prometheus text on GET /metrics */
  prometheus: boolean;
  /** push spans over OTLP/HTTP (JSON) */
  otlpTraces: boolean;
  /** `service.name` of the resource */
  serviceName: string;
  audit: AuditSink;
}

type Env = Record<string, string | undefined>;

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

export function telemetryConfigFromEnv(env: Env, defaults: { serviceName: string }): TelemetryConfig {
  const audit = auditSinkOf(env.MCPREG_AUDIT);
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const metricsMode = (env.MCPREG_METRICS ?? '').trim().toLowerCase();
  if (metricsMode !== '' && metricsMode !== 'prometheus' && metricsMode !== 'off') {
    throw new RegistryError('invalid_argument', `MCPREG_METRICS must be prometheus or off (got ${JSON.stringify(env.MCPREG_METRICS)})`);
  }
  const metricsExporters = list(env.OTEL_METRICS_EXPORTER);
  const tracesExporters = list(env.OTEL_TRACES_EXPORTER);
  const anyEndpoint = (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').trim() !== '';
  const metricsEndpoint = anyEndpoint || (env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? '').trim() !== '';
  const tracesEndpoint = anyEndpoint || (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? '').trim() !== '';
  const prometheus = !disabled && metricsMode !== 'off' && (metricsMode === 'prometheus' || metricsExporters.includes('prometheus'));
  const otlpMetrics =
    !disabled && metricsMode !== 'off' && !metricsExporters.includes('none') && metricsEndpoint && (metricsExporters.length === 0 || metricsExporters.includes('otlp'));
  const otlpTraces = !disabled && !tracesExporters.includes('none') && tracesEndpoint && (tracesExporters.length === 0 || tracesExporters.includes('otlp'));
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || defaults.serviceName;
  return { otlpMetrics, prometheus, otlpTraces, serviceName, audit };
}

export function auditSinkOf(value: string | undefined): AuditSink {
  const v = (value ?? '').trim();
  if (v === '' || v === 'off') return { kind: 'off' };
  if (v === 'stdout') return { kind: 'stdout' };
  return { kind: 'file', path: v };
}

export function telemetryEnabled(c: TelemetryConfig): boolean {
  return c.otlpMetrics || c.prometheus || c.otlpTraces;
}
