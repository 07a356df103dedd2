import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { FaultRules, type FaultRule } from './s3-faults.ts';

/**
 * A loopback HTTP front for s3rver that adds what s3rver lacks and our stores rely on
 * (see README.md here):
 *
 * 1. Conditional PUT, as AWS S3 has done since 2024: `If-None-Match: *` fails with 412
 *    PreconditionFailed when the key exists; `If-Match: <etag>` fails with 412 when the ETag
 *    differs and with 404 NoSuchKey when there is no object. PUTs are serialised per key, so
 *    the check and the write are atomic. Deletes (DELETE, POST ?delete) run alone: they wait
 *    for the writes in flight and hold back new ones, because s3rver's cleanup of emptied
 *    directories races with writes and deletes in the same directory.
 * 2. SigV4 verification: s3rver only looks up the access key id; the front recomputes each
 *    header signature with the maintained SigV4 signer (@smithy/signature-v4, the one the AWS
 *    SDK uses) and answers 403 SignatureDoesNotMatch when it differs, so tests exercise real
 *    credentials end to end. (Payload hashes are not re-checked: the signature covers the
 *    `x-amz-content-sha256` header, not the bytes.)
 *
 * 3. Faults on demand (`faults`, rules of s3-faults.ts): 500/503, timeouts, resets mid-body,
 *    bodies that stall, slow responses, a PUT done but its answer lost. Applied after the
 *    signature check.
 *
 * Requests are forwarded unchanged (method, path, headers including Host, and the body as a
 * stream); responses stream back. Path-style requests only.
 */

export interface FrontOptions {
  upstreamPort: number;
  /** the one key pair the front accepts; null disables signature checks */
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
}

export interface Front {
  port: number;
  /** requests seen, by kind: for tests that count S3 calls (e.g. "zero writes") */
  readonly counts: Record<'get' | 'head' | 'put' | 'delete' | 'post' | 'list' | 'other', number>;
  /** fault rules: add, clear, state (armed rules and faults injected by kind) */
  readonly faults: FaultRules;
  close(): Promise<void>;
}

/** Per-key mutual exclusion plus an exclusive "all keys" barrier, FIFO. */
class WriteLocks {
  #tails = new Map<string, Promise<void>>();
  #barrier: Promise<void> = Promise.resolve();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = Promise.all([this.#tails.get(key), this.#barrier]);
    const result = before.then(work);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  runExclusive<T>(work: () => Promise<T>): Promise<T> {
    const before = Promise.all([...this.#tails.values(), this.#barrier]);
    const result = before.then(work);
    this.#barrier = result.then(
      () => {},
      () => {},
    );
    return result;
  }
}

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sendError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  const fields = Object.entries(extra)
    .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
    .join('');
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${fields}</Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error(`request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function bare(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Node's hash and HMAC in the shape the smithy signer expects. */
class NodeSha256 {
  #hash;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

async function verifySignature(req: IncomingMessage, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<string | null> {
  const authorization = req.headers.authorization;
  if (!authorization) return 'the request is not signed';
  const m = AUTH.exec(authorization);
  if (!m) return 'the Authorization header is not a SigV4 header signature';
  const [, accessKeyId, , region, service, signedHeaders, signature] = m as unknown as string[];
  if (accessKeyId !== credentials.accessKeyId) return 'unknown access key id';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!date) return 'missing or malformed x-amz-date';
  const signingDate = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!));
  if (Math.abs(Date.now() - signingDate.getTime()) > 15 * 60_000) return 'request time too skewed';

  const names = signedHeaders!.split(';');
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = req.headers[name];
    if (value === undefined) return `signed header ${name} is missing`;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const url = new URL(req.url ?? '/', 'http://front.invalid');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    region: region!,
    service: service!,
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    { method: req.method ?? 'GET', protocol: 'http:', hostname: 'front.invalid', path: url.pathname, query, headers },
    { signingDate, signableHeaders: new Set(names), signingRegion: region!, signingService: service! },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? signed.headers.Authorization))?.[1] ?? '';
  const ok = expected.length === 64 && timingSafeEqual(Buffer.from(expected), Buffer.from(signature!));
  return ok ? null : 'signature mismatch';
}

export async function startConditionalFront(options: FrontOptions): Promise<Front> {
  const locks = new WriteLocks();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const counts: Front['counts'] = { get: 0, head: 0, put: 0, delete: 0, post: 0, list: 0, other: 0 };

  const faults = new FaultRules();

  const forward = (req: IncomingMessage, res: ServerResponse, fault: FaultRule | null = null): Promise<void> =>
    new Promise((resolveForward) => {
      const upstream = http.request(
        { host: '127.0.0.1', port: options.upstreamPort, method: req.method, path: req.url, headers: req.headers, agent },
        (up) => {
          up.on('error', () => {
            res.destroy();
            resolveForward();
          });
          if (fault?.kind === 'lost-response') {
            up.resume();
            up.on('end', () => {
              res.destroy();
              resolveForward();
            });
            return;
          }
          if (fault?.kind === 'reset') {
            const half = Math.floor(Number(up.headers['content-length'] ?? 0) / 2);
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.flushHeaders();
            let sent = 0;
            const cut = () => {
              up.destroy();
              // let the headers and the bytes written reach the client before the cut
              setTimeout(() => res.destroy(), 20);
              resolveForward();
            };
            if (half === 0) return cut();
            up.on('data', (chunk: Buffer) => {
              if (sent >= half) return;
              const part = chunk.subarray(0, half - sent);
              sent += part.length;
              res.write(part);
              if (sent >= half) cut();
            });
            return;
          }
          if (fault?.kind === 'stall') {
            // the headers and half the body, then nothing: the socket stays open (until `ms`)
            const half = Math.floor(Number(up.headers['content-length'] ?? 0) / 2);
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.flushHeaders();
            let sent = 0;
            up.on('data', (chunk: Buffer) => {
              if (sent >= half) return;
              const part = chunk.subarray(0, half - sent);
              sent += part.length;
              res.write(part);
            });
            const timer = fault.ms === undefined ? undefined : setTimeout(() => res.destroy(), fault.ms);
            res.on('close', () => {
              clearTimeout(timer);
              up.destroy();
              resolveForward();
            });
            return;
          }
          if (fault?.kind === 'slow') {
            const delayMs = fault.delayMs ?? 200;
            const chunkBytes = fault.chunkBytes ?? 1024;
            up.pause();
            const pending: Buffer[] = [];
            let ended = false;
            let timer: NodeJS.Timeout | undefined;
            const step = () => {
              timer = undefined;
              if (res.destroyed) return up.destroy(), resolveForward();
              if (!res.headersSent) res.writeHead(up.statusCode ?? 502, up.headers);
              const chunk = pending.shift();
              if (chunk) {
                res.write(chunk.subarray(0, chunkBytes));
                if (chunk.length > chunkBytes) pending.unshift(chunk.subarray(chunkBytes));
              } else if (ended) {
                res.end();
                return resolveForward();
              } else {
                up.resume();
                return;
              }
              timer = setTimeout(step, delayMs);
            };
            up.on('data', (chunk: Buffer) => {
              pending.push(chunk);
              up.pause();
              timer ??= setTimeout(step, delayMs);
            });
            up.on('end', () => {
              ended = true;
              timer ??= setTimeout(step, delayMs);
            });
            res.on('close', () => {
              if (timer) clearTimeout(timer);
              if (!res.writableFinished) up.destroy(), resolveForward();
            });
            timer = setTimeout(step, delayMs);
            return;
          }
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.on('end', () => resolveForward());
        },
      );
      upstream.on('error', (e) => {
        if (res.destroyed) return resolveForward();
        if (!res.headersSent) sendError(res, 502, 'InternalError', `s3rver unreachable: ${e.message}`);
        else res.destroy();
        resolveForward();
      });
      // a client that goes away before its answer is whole (a process killed while loading
      // a snapshot) must not leave the upstream exchange on a socket of the agent's pool
      // (paused, or still to be answered): after maxSockets of those every later request
      // would wait forever. Checked now as well: the client may be gone already.
      const abandon = () => {
        if (res.writableFinished) return;
        upstream.destroy();
        resolveForward();
      };
      if (res.destroyed) abandon();
      else res.once('close', abandon);
      req.pipe(upstream);
    });

  /**
   * Forward a buffered, idempotent request (DeleteObjects), retrying s3rver's 500s: its
   * filesystem store deletes the keys of one batch concurrently and trips over its own cleanup
   * of emptied directories (readdir/rmdir of a directory a sibling delete just removed).
   */
  const forwardIdempotent = async (req: IncomingMessage, body: Buffer, res: ServerResponse, lose = false): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const answer = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer } | Error>((resolveOne) => {
        const upstream = http.request(
          { host: '127.0.0.1', port: options.upstreamPort, method: req.method, path: req.url, headers: req.headers, agent },
          (up) => {
            const chunks: Buffer[] = [];
            up.on('data', (c: Buffer) => chunks.push(c));
            up.on('end', () => resolveOne({ status: up.statusCode ?? 502, headers: up.headers, body: Buffer.concat(chunks) }));
            up.on('error', resolveOne);
          },
        );
        upstream.on('error', resolveOne);
        upstream.end(body);
      });
      if (answer instanceof Error) return sendError(res, 502, 'InternalError', `s3rver unreachable: ${answer.message}`);
      if (answer.status === 500 && attempt < 4) continue;
      if (lose) return void res.destroy();
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
      return;
    }
  };

  /** the current ETag of bucket/key (unquoted), or null; s3rver allows anonymous HEAD */
  const currentEtag = (path: string): Promise<string | null> =>
    new Promise((resolveHead, rejectHead) => {
      const head = http.request({ host: '127.0.0.1', port: options.upstreamPort, method: 'HEAD', path, agent }, (up) => {
        up.resume();
        if (up.statusCode === 404) resolveHead(null);
        else if (up.statusCode === 200) resolveHead(bare(String(up.headers.etag ?? '')));
        else rejectHead(new Error(`HEAD ${path} answered ${up.statusCode}`));
      });
      head.on('error', rejectHead);
      head.end();
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://front.invalid');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const objectKey = rest.join('/');
    const method = req.method ?? 'GET';
    // the AWS SDK tags requests with ?x-id=<Operation>; any other parameter names a subresource
    const hasQuery = [...url.searchParams.keys()].some((k) => k !== 'x-id');
    counts[
      method === 'GET' ? (objectKey ? 'get' : 'list') : method === 'HEAD' ? 'head' : method === 'PUT' ? 'put' : method === 'DELETE' ? 'delete' : method === 'POST' ? 'post' : 'other'
    ]++;

    if (options.credentials) {
      const problem = await verifySignature(req, options.credentials);
      if (problem) {
        req.resume();
        sendError(res, 403, problem === 'unknown access key id' ? 'InvalidAccessKeyId' : 'SignatureDoesNotMatch', problem);
        return;
      }
    }

    const fault = faults.take(method, objectKey);
    if (fault?.kind === 'status') {
      req.resume();
      const status = fault.status ?? 503;
      const code = status === 503 ? 'SlowDown' : status === 500 ? 'InternalError' : 'ServiceUnavailable';
      sendError(res, status, code, `injected fault: ${status}`);
      return;
    }
    if (fault?.kind === 'timeout') {
      req.resume();
      await new Promise<void>((resolveTimeout) => {
        const timer = fault.ms === undefined ? undefined : setTimeout(() => (res.destroy(), resolveTimeout()), fault.ms);
        res.on('close', () => (clearTimeout(timer), resolveTimeout()));
      });
      return;
    }

    if (method === 'PUT' && bucket && objectKey && !hasQuery) {
      const ifMatch = req.headers['if-match'];
      const ifNoneMatch = req.headers['if-none-match'];
      await locks.run(`${bucket}/${objectKey}`, async () => {
        if (ifMatch !== undefined || ifNoneMatch !== undefined) {
          if (ifNoneMatch !== undefined && ifNoneMatch !== '*') {
            req.resume();
            return sendError(res, 501, 'NotImplemented', 'If-None-Match on PUT accepts only *');
          }
          const current = await currentEtag(url.pathname);
          if (ifNoneMatch === '*' && current !== null) {
            req.resume();
            return sendError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
              Condition: 'If-None-Match',
            });
          }
          if (ifMatch !== undefined && current === null) {
            req.resume();
            return sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.', { Key: objectKey });
          }
          if (ifMatch !== undefined && bare(ifMatch) !== current) {
            req.resume();
            return sendError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
              Condition: 'If-Match',
            });
          }
        }
        await forward(req, res, fault);
      });
      return;
    }
    if (method === 'DELETE' && bucket && objectKey && !hasQuery) {
      await locks.runExclusive(() => forward(req, res, fault));
      return;
    }
    if (method === 'POST' && url.searchParams.has('delete')) {
      const body = await readBody(req, 4 * 1024 * 1024);
      // any other fault on a DeleteObjects: done, answer lost
      await locks.runExclusive(() => forwardIdempotent(req, body, res, fault !== null));
      return;
    }
    await forward(req, res, fault);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalError', e instanceof Error ? e.message : String(e));
      else res.destroy();
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  return {
    port: (server.address() as AddressInfo).port,
    counts,
    faults,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      agent.destroy();
    },
  };
}
