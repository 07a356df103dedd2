import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { queryConfigFromEnv, type QueryConfig } from '../../lib/api/config.ts';
import { startQueryServer, type QueryServer } from '../../lib/api/server.ts';
import { createLogger, silentLogger, type Logger } from '../../lib/log.ts';
import { createFsStore } from '../../lib/snapshots/fs-store.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import type { Telemetry } from '../../lib/telemetry/telemetry.ts';

/**
 * Test plumbing for the query API: a real filesystem store in a temp directory, the real
 * server on 127.0.0.1:0, and a raw HTTP client (no automatic decompression, no pooling, so
 * tests see exactly what went over the wire and leave no sockets behind).
 */

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: () => any;
}

export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export async function tempStore(): Promise<{ store: SnapshotStore; dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpreg-api-'));
  const store = createFsStore({ dir, durable: false });
  return { store, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface Running {
  url: string;
  server: QueryServer;
  get(path: string, headers?: Record<string, string>): Promise<RawResponse>;
  close(): Promise<void>;
}

export async function startQuery(options: { store: SnapshotStore; env?: Record<string, string>; config?: Partial<QueryConfig>; kubeConfig?: KubeConfig; logger?: Logger; telemetry?: Telemetry }): Promise<Running> {
  const config = { ...queryConfigFromEnv({ PORT: '0', MCPREG_PREFETCH: 'false', ...options.env }), ...options.config };
  const logger = options.logger ?? (process.env.MCPREG_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger);
  const server = await startQueryServer({ store: options.store, config, logger, host: '127.0.0.1', ...(options.kubeConfig ? { kubeConfig: options.kubeConfig } : {}), ...(options.telemetry ? { telemetry: options.telemetry } : {}) });
  return {
    url: server.url,
    server,
    get: (path, headers) => request(`${server.url}${path}`, headers ? { headers } : {}),
    close: () => server.close(),
  };
}
