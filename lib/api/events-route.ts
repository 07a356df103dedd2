import type { IncomingMessage } from 'node:http';
import { EVENT_TYPES, PoisonEvent, cloudEventTypeOf, decodeEvent } from '../events/decode.ts';
import { PreparedResponse } from './prepared.ts';
import { problem } from './problem.ts';
import { problemReply, type Ctx, type Reply } from './context.ts';
import { parseRegistryRef } from './router.ts';
import { credentialHash } from '../telemetry/audit.ts';

/**
 * POST /events: the `io.toolhive.registry.snapshot.published` CloudEvent (binary or
 * structured mode; subject `namespace/name`, data the new pointer) makes the registry's
 * next request revalidate its pointer at once, and drops the loaded snapshot when the event
 * names a different hash. Events are hints: a lost one only delays the switch by the pointer
 * TTL. Anything else is answered 4xx (poison: a Broker does not retry it); success is 204.
 */

class TooLarge extends Error {}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      req.resume();
      reject(new TooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(new TooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const NO_CONTENT = new PreparedResponse(204, 'application/json', Buffer.alloc(0));

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** the caller's bearer token as a hash prefix (audit `credential`), never the token */
function credentialOf(req: IncomingMessage): { credential: string } | Record<string, never> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m ? { credential: credentialHash(m[1]!) } : {};
}

export async function eventsRoute(ctx: Ctx, req: IncomingMessage): Promise<Reply> {
  // before the body is read: only the sync function may make us revalidate
  const decision = await ctx.authorizeEvent(req.headers.authorization);
  const { audit } = ctx.telemetry;
  // one audit line per delivery, whatever its outcome
  const record = (outcome: 'accepted' | 'refused', reason: string | undefined, event?: { id: string; type: string }) => {
    if (!audit.enabled) return;
    const type = event?.type ?? header(req, 'ce-type') ?? 'unknown';
    const requestId = header(req, 'x-request-id') ?? event?.id ?? header(req, 'ce-id');
    audit.record({
      actor: decision.ok ? decision.user : 'unknown',
      ...credentialOf(req),
      action: 'event.receive',
      resource: `events/${type}`,
      outcome,
      ...(reason !== undefined ? { reason } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
    });
  };
  if (!decision.ok) {
    req.resume();
    ctx.log.warn('event refused', { status: decision.status, reason: decision.reason });
    record('refused', `${decision.status}: ${decision.reason}`);
    const headers: Record<string, string> | undefined = decision.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : decision.status === 503 ? { 'Retry-After': '1' } : undefined;
    return problemReply(problem(decision.status, decision.reason), headers);
  }
  let body: string;
  try {
    body = await readBody(req, ctx.settings.maxEventBytes);
  } catch (e) {
    if (e instanceof TooLarge) {
      record('refused', `413: body over ${ctx.settings.maxEventBytes} bytes`);
      return problemReply(problem(413, `The event is larger than ${ctx.settings.maxEventBytes} bytes`));
    }
    throw e;
  }
  let decoded;
  try {
    decoded = decodeEvent({ headers: req.headers, body });
  } catch (e) {
    if (e instanceof PoisonEvent) {
      record('refused', `${e.status}: ${e.message}`);
      return problemReply(problem(e.status, e.message));
    }
    throw e;
  }
  const seen = { id: decoded.id, type: cloudEventTypeOf(decoded) };
  if (decoded.type !== 'published') {
    record('refused', `400: only ${EVENT_TYPES.published} is accepted here`, seen);
    return problemReply(problem(400, `event ${decoded.id}: this endpoint only accepts ${EVENT_TYPES.published}`));
  }
  const ref = decoded.subject ? parseRegistryRef(decoded.subject) : undefined;
  if (!ref) {
    record('refused', '400: the subject is not namespace/name', seen);
    return problemReply(problem(400, `event ${decoded.id}: the subject must be "namespace/name" of the registry, got ${JSON.stringify(decoded.subject ?? null)}`));
  }
  const data = decoded.data as { hash?: unknown } | undefined;
  const hash = typeof data === 'object' && data !== null && typeof data.hash === 'string' && /^[0-9a-f]{64}$/.test(data.hash) ? data.hash : undefined;
  ctx.cache.invalidate(ref, hash);
  record('accepted', `${ref.namespace}/${ref.name}${hash ? ` ${hash.slice(0, 12)}` : ''}`, seen);
  ctx.log.info('snapshot published; cache invalidated', { registry: `${ref.namespace}/${ref.name}`, event: decoded.id, ...(hash ? { hash: hash.slice(0, 12) } : {}) });
  return { response: NO_CONTENT, cacheControl: 'no-store' };
}
