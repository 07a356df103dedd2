/**
 * One object per function holding its metrics, spans and audit log. `startTelemetry`
 * imports the OpenTelemetry SDK (sdk.ts) only when an exporter is configured: with
 * telemetry off, the functions start exactly as before.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAuditLog, NO_AUDIT, type AuditLog } from './audit.ts';
import { telemetryEnabled, type TelemetryConfig } from './config.ts';
import { NO_METRICS, type Metrics } from './metrics.ts';
import { NO_TRACING, type Tracing } from './tracing.ts';

export interface Telemetry {
  metrics: Metrics;
  tracing: Tracing;
  audit: AuditLog;
  /** answers GET /metrics in Prometheus text format, when MCPREG_METRICS=prometheus */
  prometheus?: (req: IncomingMessage, res: ServerResponse) => void;
  /** exports what is buffered (OTLP push) */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export const NO_TELEMETRY: Telemetry = {
  metrics: NO_METRICS,
  tracing: NO_TRACING,
  audit: NO_AUDIT,
  flush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

export interface StartOptions {
  /** OTLP push interval for metrics (default 60 s, or OTEL_METRIC_EXPORT_INTERVAL) */
  exportIntervalMs?: number;
  /** where audit lines go instead of the configured sink (tests) */
  auditWrite?: (line: string) => void;
}

export async function startTelemetry(config: TelemetryConfig, options: StartOptions = {}): Promise<Telemetry> {
  const audit = options.auditWrite ? createAuditLog({ kind: 'stdout' }, config.serviceName, options.auditWrite) : createAuditLog(config.audit, config.serviceName);
  if (!telemetryEnabled(config)) return audit.enabled ? { ...NO_TELEMETRY, audit } : NO_TELEMETRY;
  const { startSdk } = await import('./sdk.ts');
  return { ...startSdk(config, options), audit };
}
