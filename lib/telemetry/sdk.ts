/**
 * The OpenTelemetry SDK behind Metrics and Tracing, loaded only when telemetry is on.
 * Exporters follow the standard OTEL_* variables (endpoint, headers, timeout, interval):
 * OTLP over HTTP with JSON bodies, and/or the Prometheus exporter answering on the
 * function's own port (no second server: a scale-to-zero function has one port).
 */
import { context, propagation, SpanStatusCode, trace, type Attributes, type Context, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TelemetryConfig } from './config.ts';
import { createInstruments } from './instruments.ts';
import { NO_METRICS } from './metrics.ts';
import { setOutgoingTracing } from './outgoing.ts';
import type { StartOptions, Telemetry } from './telemetry.ts';
import { NO_TRACING, type SpanAttributes, type SpanHandle, type Tracing } from './tracing.ts';

function intervalFromEnv(): number | undefined {
  const v = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

function clean(attrs: SpanAttributes): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) out[k] = v;
  return out;
}

function headerCarrier(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const key = k.toLowerCase();
    // a CloudEvent in binary mode carries the extension as ce-traceparent
    const name = key === 'ce-traceparent' ? 'traceparent' : key === 'ce-tracestate' ? 'tracestate' : key;
    if (name === 'traceparent' || name === 'tracestate') out[name] ??= Array.isArray(v) ? v.join(',') : v;
  }
  return out;
}

const NO_SPAN: SpanHandle = { setAttributes: () => {}, fail: () => {}, childDone: () => {}, traceId: undefined };

function createTracing(tracer: Tracer, propagator: W3CTraceContextPropagator): Tracing {
  const tracing: Tracing = {
    enabled: true,
    child(name, attrs, fn) {
      return trace.getSpan(context.active()) ? tracing.span(name, attrs, fn) : fn(NO_SPAN);
    },
    async span(name, attrs, fn, parent) {
      const parentContext: Context = parent ? propagator.extract(context.active(), headerCarrier(parent), { get: (c, k) => (c as Record<string, string>)[k], keys: (c) => Object.keys(c as object) }) : context.active();
      const span = tracer.startSpan(name, { attributes: clean(attrs) }, parentContext);
      const spanContext = trace.setSpan(parentContext, span);
      const handle: SpanHandle = {
        setAttributes: (a) => span.setAttributes(clean(a)),
        fail: (message) => span.setStatus({ code: SpanStatusCode.ERROR, message }),
        childDone(childName, ms, a = {}) {
          const end = Date.now();
          tracer.startSpan(childName, { startTime: end - ms, attributes: clean(a) }, spanContext).end(end);
        },
        traceId: span.spanContext().traceId,
      };
      try {
        return await context.with(spanContext, () => fn(handle));
      } catch (e) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
        throw e;
      } finally {
        span.end();
      }
    },
  };
  return tracing;
}

export function startSdk(config: TelemetryConfig, options: StartOptions): Omit<Telemetry, 'audit'> {
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName });
  const readers: IMetricReader[] = [];
  let prometheus: PrometheusExporter | undefined;
  if (config.otlpMetrics) {
    readers.push(new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: options.exportIntervalMs ?? intervalFromEnv() ?? 60_000 }));
  }
  if (config.prometheus) {
    prometheus = new PrometheusExporter({ preventServerStart: true });
    readers.push(prometheus);
  }
  const meterProvider = readers.length > 0 ? new MeterProvider({ resource, readers }) : undefined;
  const metrics = meterProvider ? createInstruments(meterProvider.getMeter('knative-mcp-registry')) : NO_METRICS;

  let tracerProvider: BasicTracerProvider | undefined;
  let tracing: Tracing = NO_TRACING;
  if (config.otlpTraces) {
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    const propagator = new W3CTraceContextPropagator();
    propagation.setGlobalPropagator(propagator);
    tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
    tracing = createTracing(tracerProvider.getTracer('knative-mcp-registry'), propagator);
    setOutgoingTracing(tracing);
  }

  const handler = prometheus?.getMetricsRequestHandler.bind(prometheus);
  return {
    metrics,
    tracing,
    ...(handler ? { prometheus: handler } : {}),
    async flush() {
      await Promise.all([meterProvider?.forceFlush(), tracerProvider?.forceFlush()]);
    },
    async shutdown() {
      await Promise.all([meterProvider?.shutdown(), tracerProvider?.shutdown()]);
      if (config.otlpTraces) {
        setOutgoingTracing(NO_TRACING);
        context.disable();
        propagation.disable();
      }
    },
  };
}
