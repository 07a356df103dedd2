import { createHash } from 'node:crypto';
import type { KubeConfig, ObservableMiddleware } from '@kubernetes/client-node';
import { RegistryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { RegistryRef } from '../snapshots/layout.ts';
import { bearerToken, type AccessControl, type Authentication, type Caller } from './auth.ts';
import { problem } from './problem.ts';

/**
 * `MCPREG_AUTH=kubernetes`: the caller's bearer token is reviewed by the Kubernetes API
 * (TokenReview), then each registry read is authorised with a SubjectAccessReview for `get`
 * on `mcpregistries` (group `toolhive.stacklok.io`) named `{name}` in `{namespace}`.
 *
 * Decisions are cached for `cacheTtlMs` keyed by the sha256 of the token (never the token);
 * API failures are not cached and surface as 503. Tokens never reach logs or errors.
 * This module (and @kubernetes/client-node) is only loaded in this mode.
 */

export const MCPREGISTRY_RESOURCE = { group: 'toolhive.stacklok.io', resource: 'mcpregistries', verb: 'get' } as const;

export interface KubeAccessOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** how long a TokenReview or SubjectAccessReview answer is reused (default 10 s) */
  cacheTtlMs?: number;
  /** audiences to request in the TokenReview (default: the API server's) */
  audiences?: string[];
  /** at most this many cached decisions (default 10000) */
  maxEntries?: number;
  /** a TokenReview or SubjectAccessReview taking longer fails with 503 and is not cached (default 5 s) */
  timeoutMs?: number;
  now?: () => number;
}

interface Cached<T> {
  at: number;
  value: T;
}

type Identity = Omit<Caller, 'tokenHash'>;

class TtlCache<T> {
  readonly #map = new Map<string, Cached<T>>();
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;
  constructor(ttl: number, max: number, now: () => number) {
    this.#ttl = ttl;
    this.#max = max;
    this.#now = now;
  }
  get(key: string): T | undefined {
    const hit = this.#map.get(key);
    if (!hit) return undefined;
    if (this.#now() - hit.at >= this.#ttl) {
      this.#map.delete(key);
      return undefined;
    }
    return hit.value;
  }
  set(key: string, value: T): void {
    if (this.#map.size >= this.#max) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
    this.#map.set(key, { at: this.#now(), value });
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** why a review call failed, without anything from the request (the token is in it) */
function reviewFailure(what: string, e: unknown): RegistryError {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
    return new RegistryError('source_unavailable', `${what} timed out`, { transient: true, where: { source: 'kubernetes' } });
  }
  const code = (e as { code?: unknown })?.code;
  const status = typeof code === 'number' ? ` (HTTP ${code})` : '';
  return new RegistryError('source_unavailable', `${what} failed${status}`, { transient: true, where: { source: 'kubernetes' } });
}

export async function createKubeAccess(options: KubeAccessOptions): Promise<AccessControl> {
  const k8s = await import('@kubernetes/client-node');
  const authn = options.kubeConfig.makeApiClient(k8s.AuthenticationV1Api);
  const authz = options.kubeConfig.makeApiClient(k8s.AuthorizationV1Api);
  const now = options.now ?? (() => performance.now());
  const ttl = options.cacheTtlMs ?? 10_000;
  const max = options.maxEntries ?? 10_000;
  const identities = new TtlCache<Identity | null>(ttl, max, now);
  const decisions = new TtlCache<boolean>(ttl, max, now);
  const inflight = new Map<string, Promise<unknown>>();
  const timeoutMs = options.timeoutMs ?? 5000;
  // each review call gets its own deadline: a frozen API server must not hold requests (or
  // the callers queued behind the same in-flight review) for longer than this
  const withDeadline = () => {
    const signal = AbortSignal.timeout(timeoutMs);
    const middleware: ObservableMiddleware = {
      pre: (c) => (c.setSignal(signal), new k8s.Observable(Promise.resolve(c))),
      post: (c) => new k8s.Observable(Promise.resolve(c)),
    };
    return { middleware: [middleware], middlewareMergeStrategy: 'append' as const };
  };
  /** the API server's audiences are not ours: with audiences configured, the answer must name one of them */
  const audienceMatches = (returned: string[] | undefined): boolean => {
    if (!options.audiences) return true;
    return (returned ?? []).some((a) => options.audiences!.includes(a));
  };

  const once = <T>(key: string, run: () => Promise<T>): Promise<T> => {
    let p = inflight.get(key) as Promise<T> | undefined;
    if (!p) {
      p = run().finally(() => inflight.delete(key));
      inflight.set(key, p);
    }
    return p;
  };

  async function review(token: string, hash: string): Promise<Identity | null> {
    const cached = identities.get(hash);
    if (cached !== undefined) return cached;
    return once(`tr:${hash}`, async () => {
      let result;
      try {
        result = await authn.createTokenReview(
          { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(options.audiences ? { audiences: options.audiences } : {}) } } },
          withDeadline(),
        );
      } catch (e) {
        throw reviewFailure('TokenReview', e);
      }
      const status = result.status;
      const identity: Identity | null =
        status?.authenticated === true && status.user?.username && audienceMatches(status.audiences)
          ? {
              user: status.user.username,
              ...(status.user.uid ? { uid: status.user.uid } : {}),
              ...(status.user.groups ? { groups: status.user.groups } : {}),
              ...(status.user.extra ? { extra: status.user.extra } : {}),
            }
          : null;
      identities.set(hash, identity);
      return identity;
    });
  }

  return {
    mode: 'kubernetes',
    async authenticate(authorization: string | undefined): Promise<Authentication> {
      const token = bearerToken(authorization);
      if (!token) {
        return { ok: false, status: 401, problem: problem(401, authorization ? 'The Authorization header is not a bearer token' : 'A bearer token is required') };
      }
      const hash = sha256(token);
      let identity: Identity | null;
      try {
        identity = await review(token, hash);
      } catch (e) {
        options.logger.warn('token review unavailable', { error: e instanceof RegistryError ? e.describe() : String(e) });
        return { ok: false, status: 503, problem: problem(503, 'Authentication is temporarily unavailable') };
      }
      if (!identity) return { ok: false, status: 401, problem: problem(401, 'The bearer token is not valid') };
      return { ok: true, caller: { ...identity, tokenHash: hash } };
    },
    async canRead(caller: Caller, ref: RegistryRef): Promise<boolean> {
      const key = `${caller.tokenHash}|${ref.namespace}/${ref.name}`;
      const cached = decisions.get(key);
      if (cached !== undefined) return cached;
      const identity = caller;
      return once(`sar:${key}`, async () => {
        let result;
        try {
          result = await authz.createSubjectAccessReview(
            {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SubjectAccessReview',
              spec: {
                user: identity.user,
                ...(identity.uid ? { uid: identity.uid } : {}),
                ...(identity.groups ? { groups: identity.groups } : {}),
                ...(identity.extra ? { extra: identity.extra } : {}),
                resourceAttributes: { ...MCPREGISTRY_RESOURCE, namespace: ref.namespace, name: ref.name },
              },
            },
            },
            withDeadline(),
          );
        } catch (e) {
          throw reviewFailure('SubjectAccessReview', e);
        }
        const allowed = result.status?.allowed === true && result.status?.denied !== true;
        decisions.set(key, allowed);
        return allowed;
      });
    },
  };
}
