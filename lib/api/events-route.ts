import type { IncomingMessage } from 'node:http';
import { EVENT_TYPES, PoisonEvent, decodeEvent } from '../events/decode.ts';
import { PreparedResponse } from './prepared.ts';
import { problem } from './problem.ts';
import { problemReply, type Ctx, type Reply } from './context.ts';
import { parseRegistryRef } from './router.ts';

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

export async function eventsRoute(ctx: Ctx, req: IncomingMessage): Promise<Reply> {
  // before the body is read: only the sync function may make us revalidate
  const decision = await ctx.authorizeEvent(req.headers.authorization);
  if (!decision.ok) {
    req.resume();
    ctx.log.warn('event refused', { status: decision.status, reason: decision.reason });
    const headers: Record<string, string> | undefined = decision.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : decision.status === 503 ? { 'Retry-After': '1' } : undefined;
    return problemReply(problem(decision.status, decision.reason), headers);
  }
  let body: string;
  try {
    body = await readBody(req, ctx.settings.maxEventBytes);
  } catch (e) {
    if (e instanceof TooLarge) return problemReply(problem(413, `The event is larger than ${ctx.settings.maxEventBytes} bytes`));
    throw e;
  }
  let decoded;
  try {
    decoded = decodeEvent({ headers: req.headers, body });
  } catch (e) {
    if (e instanceof PoisonEvent) return problemReply(problem(e.status, e.message));
    throw e;
  }
  if (decoded.type !== 'published') {
    return problemReply(problem(400, `event ${decoded.id}: this endpoint only accepts ${EVENT_TYPES.published}`));
  }
  const ref = decoded.subject ? parseRegistryRef(decoded.subject) : undefined;
  if (!ref) {
    return problemReply(problem(400, `event ${decoded.id}: the subject must be "namespace/name" of the registry, got ${JSON.stringify(decoded.subject ?? null)}`));
  }
  const data = decoded.data as { hash?: unknown } | undefined;
  const hash = typeof data === 'object' && data !== null && typeof data.hash === 'string' && /^[0-9a-f]{64}$/.test(data.hash) ? data.hash : undefined;
  ctx.cache.invalidate(ref, hash);
  ctx.log.info('snapshot published; cache invalidated', { registry: `${ref.namespace}/${ref.name}`, event: decoded.id, ...(hash ? { hash: hash.slice(0, 12) } : {}) });
  return { response: NO_CONTENT, cacheControl: 'no-store' };
}
