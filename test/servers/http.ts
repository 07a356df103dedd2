/**
 * A small configurable HTTP server on 127.0.0.1:0 for URL-source tests. Each route describes
 * one behaviour: auth checks, ETag/304, Last-Modified, redirects, gzip/br/deflate, slow and
 * truncated bodies, failures before success, 429 with Retry-After, oversized bodies.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export interface RouteSpec {
  status?: number;
  body?: string | Uint8Array;
  /** generate a body of this many bytes (JSON-ish filler) instead of `body` */
  size?: number;
  headers?: Record<string, string>;
  /** sends ETag and answers 304 to a matching If-None-Match */
  etag?: string;
  /** sends Last-Modified and answers 304 to an If-Modified-Since at or after it */
  lastModified?: string;
  /** the request must carry these credentials, else 401 */
  auth?: { bearer?: string; basic?: { user: string; pass: string }; header?: { name: string; value: string } };
  redirect?: { to: string; status?: number };
  encoding?: 'gzip' | 'br' | 'deflate';
  /** send the body in chunks of `chunkBytes` every `intervalMs` */
  slow?: { chunkBytes: number; intervalMs: number };
  /** declare the full Content-Length, send only `sendBytes`, then cut the connection */
  truncate?: { sendBytes: number };
  /** the first `count` requests get `status` (with Retry-After when given) */
  failFirst?: { count: number; status: number; retryAfter?: string };
  /** full control */
  handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  time: number;
}

export interface TestHttpServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  route(path: string, spec: RouteSpec): void;
  hits(path: string): RecordedRequest[];
  close(): Promise<void>;
}

function bodyOf(spec: RouteSpec): Buffer {
  if (spec.size !== undefined) {
    const b = Buffer.alloc(spec.size, 0x20);
    b.write('{"x":"');
    if (spec.size > 8) b.write('"}', spec.size - 2);
    return b;
  }
  if (spec.body === undefined) return Buffer.alloc(0);
  // a view, not a copy: benchmarks serve 100+ MB bodies
  return typeof spec.body === 'string' ? Buffer.from(spec.body) : Buffer.from(spec.body.buffer, spec.body.byteOffset, spec.body.byteLength);
}

function authorised(req: http.IncomingMessage, auth: NonNullable<RouteSpec['auth']>): boolean {
  const h = req.headers.authorization ?? '';
  if (auth.bearer !== undefined && h === `Bearer ${auth.bearer}`) return true;
  if (auth.basic && h === `Basic ${Buffer.from(`${auth.basic.user}:${auth.basic.pass}`).toString('base64')}`) return true;
  if (auth.header && req.headers[auth.header.name.toLowerCase()] === auth.header.value) return true;
  return false;
}

export interface HttpServerOptions {
  /** serve https with this key and certificate (see tls.ts) */
  tls?: { key: string; cert: string };
}

export async function startHttpServer(routes: Record<string, RouteSpec> = {}, options: HttpServerOptions = {}): Promise<TestHttpServer> {
  const table = new Map(Object.entries(routes));
  const counts = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers, time: Date.now() });
    const spec = table.get(path);
    if (!spec) {
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ title: 'Not Found', status: 404, detail: `no route ${path}` }));
      return;
    }
    if (spec.handler) return spec.handler(req, res);
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    if (spec.auth && !authorised(req, spec.auth)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'application/problem+json' });
      // echoes the header it got, like a careless server would: the client must scrub it
      res.end(JSON.stringify({ title: 'Unauthorized', status: 401, detail: `bad credentials: ${req.headers.authorization ?? ''}` }));
      return;
    }
    if (spec.failFirst && n <= spec.failFirst.count) {
      const h: Record<string, string> = { 'content-type': 'application/json' };
      if (spec.failFirst.retryAfter !== undefined) h['retry-after'] = spec.failFirst.retryAfter;
      res.writeHead(spec.failFirst.status, h);
      res.end(JSON.stringify({ error: 'try again' }));
      return;
    }
    if (spec.redirect) {
      res.writeHead(spec.redirect.status ?? 302, { location: spec.redirect.to });
      res.end();
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', ...spec.headers };
    if (spec.etag) {
      headers.etag = spec.etag;
      if (req.headers['if-none-match'] === spec.etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
    }
    if (spec.lastModified) {
      headers['last-modified'] = spec.lastModified;
      const since = req.headers['if-modified-since'];
      if (since && Date.parse(since) >= Date.parse(spec.lastModified)) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
    }
    let body = bodyOf(spec);
    if (spec.encoding === 'gzip') body = zlib.gzipSync(body);
    else if (spec.encoding === 'br') body = zlib.brotliCompressSync(body);
    else if (spec.encoding === 'deflate') body = zlib.deflateSync(body);
    if (spec.encoding) headers['content-encoding'] = spec.encoding;
    if (spec.truncate) {
      headers['content-length'] = String(body.length);
      res.writeHead(spec.status ?? 200, headers);
      res.write(body.subarray(0, spec.truncate.sendBytes), () => {
        const t = setTimeout(() => {
          timers.delete(t);
          req.socket.destroy();
        }, 20);
        timers.add(t);
      });
      return;
    }
    if (spec.slow) {
      headers['content-length'] = String(body.length);
      res.writeHead(spec.status ?? 200, headers);
      let offset = 0;
      const { chunkBytes, intervalMs } = spec.slow;
      const tick = setInterval(() => {
        if (offset >= body.length) {
          clearInterval(tick);
          timers.delete(tick);
          res.end();
          return;
        }
        res.write(body.subarray(offset, offset + chunkBytes));
        offset += chunkBytes;
      }, intervalMs);
      timers.add(tick);
      res.on('close', () => {
        clearInterval(tick);
        timers.delete(tick);
      });
      return;
    }
    headers['content-length'] = String(body.length);
    res.writeHead(spec.status ?? 200, headers);
    res.end(body);
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handle) : http.createServer(handle);

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    route(path, spec) {
      table.set(path, spec);
      counts.delete(path);
    },
    hits: (path) => requests.filter((r) => r.path === path),
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A document that tests edit in place: served with its ETag, 304 to a matching If-None-Match;
 * set `status` to make it fail (plain-text body) until it is set back to 200.
 */
export interface MutableDocument {
  body: string;
  etag: string;
  status: number;
  route: RouteSpec;
}

export function mutableDocument(body: string, etag: string): MutableDocument {
  const doc: MutableDocument = {
    body,
    etag,
    status: 200,
    route: {
      handler: (req, res) => {
        if (doc.status !== 200) {
          res.writeHead(doc.status, { 'content-type': 'text/plain' });
          res.end('broken');
          return;
        }
        if (req.headers['if-none-match'] === doc.etag) {
          res.writeHead(304, { etag: doc.etag });
          res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', etag: doc.etag });
        res.end(doc.body);
      },
    },
  };
  return doc;
}
