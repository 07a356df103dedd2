/**
 * An OTLP/HTTP receiver for tests: a real HTTP server taking POST /v1/metrics and
 * /v1/traces with JSON bodies (what the OpenTelemetry JS http exporters send), decoding them
 * into the data points and spans they carry. Raw bodies are kept so tests can search them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}

export type Attrs = Record<string, string | number | boolean>;

export interface ReceivedPoint {
  metric: string;
  unit: string;
  kind: 'sum' | 'gauge' | 'histogram';
  attributes: Attrs;
  value: number;
  /** histogram: sum of observations */
  sum?: number;
}

export interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  attributes: Attrs;
  status?: { code?: number; message?: string };
  service: string;
}

export interface OtlpReceiver {
  url: string;
  raw: string[];
  points(): ReceivedPoint[];
  spans(): ReceivedSpan[];
  close(): Promise<void>;
}

function attrs(list: KeyValue[] | undefined): Attrs {
  const out: Attrs = {};
  for (const kv of list ?? []) {
    const v = kv.value;
    out[kv.key] = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue ?? ''));
  }
  return out;
}

/** OTLP JSON encodes ids as hex (the JS exporters) or base64; normalise to hex */
function hexId(id: string | undefined): string {
  if (!id) return '';
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const raw: string[] = [];
  const metrics: unknown[] = [];
  const traces: unknown[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const type = req.headers['content-type'] ?? '';
      if (req.method !== 'POST' || !String(type).includes('json') || (req.url !== '/v1/metrics' && req.url !== '/v1/traces')) {
        res.writeHead(400);
        res.end();
        return;
      }
      raw.push(body);
      (req.url === '/v1/metrics' ? metrics : traces).push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    raw,
    points() {
      const out: ReceivedPoint[] = [];
      for (const m of metrics as Array<{ resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: any[] }> }> }>) {
        for (const rm of m.resourceMetrics) {
          for (const sm of rm.scopeMetrics) {
            for (const metric of sm.metrics) {
              const kind = metric.sum ? 'sum' : metric.gauge ? 'gauge' : 'histogram';
              const data = metric.sum ?? metric.gauge ?? metric.histogram;
              for (const p of data.dataPoints as any[]) {
                out.push({
                  metric: metric.name,
                  unit: metric.unit,
                  kind,
                  attributes: attrs(p.attributes),
                  value: kind === 'histogram' ? Number(p.count) : Number(p.asDouble ?? p.asInt ?? 0),
                  ...(kind === 'histogram' ? { sum: Number(p.sum) } : {}),
                });
              }
            }
          }
        }
      }
      return out;
    },
    spans() {
      const out: ReceivedSpan[] = [];
      for (const t of traces as Array<{ resourceSpans: Array<{ resource: { attributes: KeyValue[] }; scopeSpans: Array<{ spans: any[] }> }> }>) {
        for (const rs of t.resourceSpans) {
          const service = String(attrs(rs.resource.attributes)['service.name'] ?? '');
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              out.push({ name: s.name, traceId: hexId(s.traceId), spanId: hexId(s.spanId), parentSpanId: hexId(s.parentSpanId), attributes: attrs(s.attributes), status: s.status, service });
            }
          }
        }
      }
      return out;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** the latest data point of a metric with these attributes (cumulative temporality) */
export function latest(points: ReceivedPoint[], metric: string, match: Attrs = {}): ReceivedPoint | undefined {
  return points.filter((p) => p.metric === metric && Object.entries(match).every(([k, v]) => p.attributes[k] === v)).at(-1);
}
