import { createHmac, timingSafeEqual } from 'node:crypto';
import { isValidRef } from '../snapshots/keys.ts';

/**
 * The plain webhook's formats. Pure.
 *
 * `POST /webhooks/{namespace}/{name}` with `X-Hub-Signature-256: sha256=<hex>`, the
 * HMAC-SHA256 of the raw body under the registry's webhook secret (the header GitHub sends;
 * any sender can compute it: `openssl dgst -sha256 -hmac SECRET`). A delivery id
 * (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID` or `X-Delivery-Id`) seen before for the same
 * registry is a replay and is ignored.
 */

export const SIGNATURE_HEADER = 'x-hub-signature-256';
export const DELIVERY_HEADERS = ['x-github-delivery', 'x-gitlab-event-uuid', 'x-delivery-id'] as const;

export function webhookPath(path: string): { namespace: string; name: string } | undefined {
  const m = /^\/webhooks\/([^/]+)\/([^/]+)\/?$/.exec(path);
  if (!m) return undefined;
  const ref = { namespace: decodeURIComponent(m[1]!), name: decodeURIComponent(m[2]!) };
  return isValidRef(ref) ? ref : undefined;
}

export function signBody(body: Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** constant-time comparison of the presented signature with the body's */
export function signatureValid(body: Uint8Array, presented: string | undefined, secret: string): boolean {
  if (!presented || !secret) return false;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(presented.trim());
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(Buffer.from(m[1]!, 'hex'), expected);
}

export function deliveryIdOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  for (const h of DELIVERY_HEADERS) {
    const v = headers[h];
    if (typeof v === 'string' && v.length > 0) return v.slice(0, 200);
  }
  return undefined;
}

/** delivery ids seen, per registry, the oldest forgotten past `max` (memory stays bounded) */
export function createReplayGuard(max = 10_000) {
  const seen = new Map<string, true>();
  return {
    /** true the first time `registry`+`id` is seen */
    first(registry: string, id: string): boolean {
      const k = `${registry}\n${id}`;
      if (seen.has(k)) return false;
      seen.set(k, true);
      if (seen.size > max) seen.delete(seen.keys().next().value!);
      return true;
    },
    get size() {
      return seen.size;
    },
  };
}
