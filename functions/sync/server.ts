import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryError, isRegistryError } from '../../lib/errors.ts';
import { cloudEventTypeOf, decodeEvent, PoisonEvent } from '../../lib/events/decode.ts';
import type { Logger } from '../../lib/log.ts';
import type { HandleResult } from '../../lib/sync/controller.ts';
import type { DecodedEvent } from '../../lib/events/decode.ts';
import type { IngressAuth } from '../../lib/sync/ingress-auth.ts';
import type { WebhookHandler } from '../../lib/sync/webhook.ts';
import { webhookPath } from '../../lib/sync/webhook-signature.ts';
import { credentialHash } from '../../lib/telemetry/audit.ts';
import { NO_TELEMETRY, type Telemetry } from '../../lib/telemetry/telemetry.ts';

/**
 * The sync function's HTTP surface. CloudEvents in (binary or structured), 204 out.
 *
 * | answer | when | what a Broker does |
 * | --- | --- | --- |
 * | 204 | handled, including "nothing to do" | done |
 * | 401 / 403 | ingress authentication on (`MCPREG_SYNC_OIDC_AUDIENCE`) and no valid token, or another sender's | no retry; dead letter |
 * | 400 / 415 / 422 | poison: not a CloudEvent, unknown type, unhandled kind | no retry; dead letter |
 * | 413 | body over the limit | no retry |
 * | 503 | transient: Kubernetes API unreachable, store unavailable | retried with backoff |
 * | 500 | a bug | retried |
 *
 * Bodies of error answers are one line of text; never a stack trace, never a status code
 * passed through from a client library.
 */

export interface SyncServerOptions {
  handle(event: DecodedEvent): Promise<HandleResult>;
  log: Logger;
  /** when set, every event must pass it before its body is read (lib/sync/ingress-auth.ts) */
  authorize?: IngressAuth;
  /** largest request body (default 8 MiB: a ConfigMap can hold 1 MiB plus managedFields) */
  maxBodyBytes?: number;
  /** metrics (and GET /metrics), a span per event, audit lines for events accepted or refused */
  telemetry?: Telemetry;
  /** `POST /webhooks/{namespace}/{name}`, authenticated by its own signature (lib/sync/webhook.ts) */
  webhook?: WebhookHandler;
  /** largest webhook body (default 1 MiB) */
  maxWebhookBytes?: number;
}

/** against slow or stalled clients (slowloris); none of them bounds the handling of a request */
export interface SyncServerTimeouts {
  /** request headers must arrive within this (default 20 s) */
  headersTimeoutMs?: number;
  /** the whole request, headers and body, must arrive within this (default 60 s) */
  requestTimeoutMs?: number;
  /** idle keep-alive connections are closed after this (default 65 s) */
  keepAliveTimeoutMs?: number;
}

export interface SyncServer {
  server: http.Server;
  url: string;
  close(): Promise<void>;
}

function readBytes(req: http.IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve(size > limit ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else if (!over) chunks.push(c);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function answer(res: http.ServerResponse, status: number, text?: string): void {
  if (text === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}

export function createSyncRequestHandler(options: SyncServerOptions) {
  const { log } = options;
  const limit = options.maxBodyBytes ?? 8 * 1024 * 1024;
  let inflight = 0;
  const tel = options.telemetry ?? NO_TELEMETRY;
  const refused = (req: http.IncomingMessage, reason: string) =>
    tel.audit.record({ actor: sourceOf(req), action: 'event.receive', resource: `events/${headerOf(req, 'ce-type') ?? 'unknown'}`, outcome: 'refused', reason, ...requestIdOf(req) });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && (path === '/healthz' || path === '/readyz' || path === '/health/readiness' || path === '/health/liveness')) {
      return answer(res, 200, 'ok');
    }
    if (req.method === 'GET' && path === '/metrics' && tel.prometheus) return tel.prometheus(req, res);
    if (options.webhook && path.startsWith('/webhooks/')) {
      const ref = webhookPath(path);
      if (!ref) return answer(res, 404, 'POST /webhooks/{namespace}/{name}');
      if (req.method !== 'POST') return answer(res, 405, 'POST webhooks here');
      const webhookLimit = options.maxWebhookBytes ?? 1024 * 1024;
      const bytes = await readBytes(req, webhookLimit);
      if (bytes === 'too-large') return answer(res, 413, `request body over ${webhookLimit} bytes`);
      try {
        const a = await options.webhook(ref, req.headers, bytes, req.socket.remoteAddress ?? 'unknown');
        return answer(res, a.status, a.text);
      } catch (e) {
        const transient = isRegistryError(e) && e.transient;
        log.error('webhook failed', { registry: `${ref.namespace}/${ref.name}`, error: isRegistryError(e) ? e.describe() : e instanceof Error ? e.message : String(e) });
        return answer(res, transient ? 503 : 500, isRegistryError(e) ? e.describe() : 'internal error');
      }
    }
    if (req.method !== 'POST' || (path !== '/' && path !== '/dead-letter')) {
      return answer(res, path === '/' || path === '/dead-letter' ? 405 : 404, path === '/' ? 'POST CloudEvents here' : 'not found');
    }
    let deliverer: string | undefined;
    if (options.authorize) {
      const decision = await options.authorize(req.headers.authorization);
      if (!decision.ok) {
        req.resume();
        log.warn('event refused: not authenticated', { status: decision.status, reason: decision.reason });
        if (tel.audit.enabled) {
          // the sender is not known: its ce-source is only a claim, and its token appears as a hash prefix at most
          const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
          tel.audit.record({
            actor: 'unknown',
            ...(bearer ? { credential: credentialHash(bearer[1]!) } : {}),
            action: 'event.receive',
            resource: `events/${headerOf(req, 'ce-type') ?? 'unknown'}`,
            outcome: 'refused',
            reason: `${decision.status}: ${decision.reason}`,
            ...requestIdOf(req),
          });
        }
        return answer(res, decision.status, decision.reason);
      }
      deliverer = decision.user;
    }
    const body = await readBody(req, limit);
    if (body === 'too-large') {
      log.warn('event refused: body too large', { limit });
      refused(req, `body over ${limit} bytes`);
      return answer(res, 413, `request body over ${limit} bytes`);
    }
    let event: DecodedEvent;
    try {
      event = decodeEvent({ headers: req.headers, body });
    } catch (e) {
      if (e instanceof PoisonEvent) {
        log.warn('poison event refused', { status: e.status, reason: e.message });
        refused(req, `${e.status}: ${e.message}`);
        return answer(res, e.status, e.message);
      }
      throw e;
    }
    if (path === '/dead-letter') {
      // events the Broker gave up on: say so once, loudly, and accept them
      const h = req.headers;
      log.error('event dead-lettered', { type: event.type, id: event.id, errorCode: h['ce-knativeerrorcode'], errorDest: h['ce-knativeerrordest'] });
      return answer(res, 204);
    }
    inflight++;
    tel.audit.record({ actor: deliverer ?? event.source ?? 'unknown', action: 'event.receive', resource: `events/${cloudEventTypeOf(event)}`, outcome: 'accepted', requestId: event.id });
    try {
      const result = await tel.tracing.span('event', { 'cloudevents.event_id': event.id, 'cloudevents.event_type': event.type, ...(event.source ? { 'cloudevents.event_source': event.source } : {}) }, () => options.handle(event), req.headers);
      log.debug('event handled', { event: result.event, id: event.id, registries: result.registries.map((r) => `${r.registry}:${r.outcome}`).join(',') });
      return answer(res, 204);
    } catch (e) {
      const transient = isRegistryError(e) && e.transient;
      const message = isRegistryError(e) ? e.describe() : 'internal error';
      log.error(transient ? 'event failed, will be retried' : 'event failed', { id: event.id, error: isRegistryError(e) ? e.describe() : e instanceof Error ? e.message : String(e) });
      return answer(res, transient ? 503 : 500, message);
    } finally {
      inflight--;
    }
  }

  return {
    get inflight() {
      return inflight;
    },
    listener(req: http.IncomingMessage, res: http.ServerResponse): void {
      handle(req, res).catch((e: unknown) => {
        log.error('request failed', { error: e instanceof Error ? e.message : String(e) });
        if (!res.headersSent) answer(res, 500, 'internal error');
        else res.destroy();
      });
    },
  };
}

function headerOf(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v.slice(0, 200) : undefined;
}

function sourceOf(req: http.IncomingMessage): string {
  return headerOf(req, 'ce-source') ?? req.socket.remoteAddress ?? 'unknown';
}

function requestIdOf(req: http.IncomingMessage): { requestId?: string } {
  const id = headerOf(req, 'ce-id') ?? headerOf(req, 'x-request-id');
  return id ? { requestId: id } : {};
}

export async function startSyncServer(options: SyncServerOptions & SyncServerTimeouts & { port?: number; host?: string }): Promise<SyncServer> {
  const handler = createSyncRequestHandler(options);
  const requestTimeout = options.requestTimeoutMs ?? 60_000;
  const headersTimeout = Math.min(options.headersTimeoutMs ?? 20_000, requestTimeout);
  // Node's timeouts cover receiving the request only: a sync may then run for minutes
  // (Knative's timeoutSeconds bounds that). Expired requests are looked for this often:
  const connectionsCheckingInterval = Math.max(25, Math.min(30_000, Math.floor(headersTimeout / 4)));
  const server = http.createServer({ keepAlive: true, requestTimeout, headersTimeout, connectionsCheckingInterval }, handler.listener);
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

export { RegistryError };
