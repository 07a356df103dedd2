import { createHash, timingSafeEqual } from 'node:crypto';
import type { IngressAuth, IngressDecision } from '../sync/ingress-auth.ts';

/**
 * Who may POST /events to the query function (a published event makes it revalidate a
 * registry): only the sync function, by one of
 *
 * - a shared token (`MCPREG_EVENTS_TOKEN`, from a Secret) as `Authorization: Bearer …`, for a
 *   sync function that delivers to the query function directly;
 * - the Broker's OIDC token for `MCPREG_EVENTS_OIDC_AUDIENCE` (the Trigger's subscriber
 *   audience; the Broker does not forward a header of ours), reviewed as the sync function's
 *   ingress does (`lib/sync/ingress-auth.ts`), optionally limited to `MCPREG_EVENTS_OIDC_SUBJECTS`.
 *
 * With neither configured, events are accepted only when the API itself is anonymous; with
 * `MCPREG_AUTH=kubernetes` they are refused (401): freshness then comes from the pointer TTL.
 */

export type EventsAuth = (authorization: string | undefined) => Promise<IngressDecision>;

export interface EventsAuthOptions {
  /** the shared token (already trimmed) */
  token?: string;
  /** the OIDC review, when an audience is configured */
  oidc?: IngressAuth;
  /** refuse events when neither is configured (MCPREG_AUTH=kubernetes) */
  required: boolean;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export function createEventsAuth(options: EventsAuthOptions): EventsAuth {
  const expected = options.token ? digest(options.token) : undefined;
  const { oidc } = options;
  return async (authorization) => {
    if (!expected && !oidc) {
      if (!options.required) return { ok: true, user: 'anonymous' };
      return { ok: false, status: 401, reason: 'events are refused: MCPREG_AUTH=kubernetes and neither MCPREG_EVENTS_TOKEN nor MCPREG_EVENTS_OIDC_AUDIENCE is set' };
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return { ok: false, status: 401, reason: 'a bearer token is required' };
    // compared as digests: constant time whatever the lengths
    if (expected && timingSafeEqual(digest(match[1]!), expected)) return { ok: true, user: 'MCPREG_EVENTS_TOKEN' };
    if (oidc) return oidc(authorization);
    return { ok: false, status: 401, reason: 'the bearer token is not valid' };
  };
}

/** The query function's events authentication from its configuration; the OIDC review is built on first use. */
export function eventsAuthFromConfig(
  config: { auth: 'anonymous' | 'kubernetes'; eventsToken: string | undefined; eventsOidcAudience: string | undefined; eventsOidcSubjects: readonly string[]; authTimeoutMs: number },
  kubeConfig: () => Promise<import('@kubernetes/client-node').KubeConfig>,
): EventsAuth {
  const audience = config.eventsOidcAudience;
  let review: Promise<IngressAuth> | undefined;
  const oidc: IngressAuth | undefined = audience
    ? async (authorization) => {
        review ??= (async () => {
          const { createIngressAuth } = await import('../sync/ingress-auth.ts');
          return createIngressAuth({ kubeConfig: await kubeConfig(), audience, subjects: config.eventsOidcSubjects, timeoutMs: config.authTimeoutMs });
        })();
        try {
          return await (await review)(authorization);
        } catch {
          review = undefined;
          return { ok: false, status: 503, reason: 'the Kubernetes credentials for the TokenReview are unavailable' };
        }
      }
    : undefined;
  return createEventsAuth({ ...(config.eventsToken ? { token: config.eventsToken } : {}), ...(oidc ? { oidc } : {}), required: config.auth === 'kubernetes' });
}
