import type { KubeConfig } from '@kubernetes/client-node';

/**
 * The sync function's ingress authentication, when `MCPREG_SYNC_OIDC_AUDIENCE` is set: every
 * event must carry the bearer token Knative Eventing attaches to deliveries when its
 * `authentication-oidc` feature is on (a ServiceAccount token for the subscriber's audience).
 * The token is reviewed by the Kubernetes API (TokenReview with that audience); the answer
 * must be authenticated, for our audience, and — when `MCPREG_SYNC_OIDC_SUBJECTS` lists
 * usernames — for one of them. Failures of the API are a 503 (the Broker retries) and are not
 * remembered. The token never reaches logs or answers.
 */

export interface IngressAuthOptions {
  kubeConfig: KubeConfig;
  audience: string;
  /** usernames allowed to deliver events (empty: any authenticated caller for the audience) */
  subjects?: readonly string[];
  /** how long one TokenReview may take (default 5 s) */
  timeoutMs?: number;
}

export type IngressDecision = { ok: true; user: string } | { ok: false; status: 401 | 403 | 503; reason: string };

export type IngressAuth = (authorization: string | undefined) => Promise<IngressDecision>;

export function createIngressAuth(options: IngressAuthOptions): IngressAuth {
  const subjects = new Set(options.subjects ?? []);
  const timeoutMs = options.timeoutMs ?? 5_000;
  let api: Promise<import('@kubernetes/client-node').AuthenticationV1Api> | undefined;
  const authn = () => (api ??= import('@kubernetes/client-node').then((k8s) => options.kubeConfig.makeApiClient(k8s.AuthenticationV1Api)));

  return async (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return { ok: false, status: 401, reason: 'a bearer token is required' };
    const token = match[1]!;
    let status;
    try {
      const review = (await authn()).createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [options.audience] } },
      });
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref());
      status = (await Promise.race([review, timeout])).status;
    } catch (e) {
      const code = (e as { code?: unknown })?.code;
      return { ok: false, status: 503, reason: `TokenReview failed${typeof code === 'number' ? ` (HTTP ${code})` : ''}` };
    }
    const user = status?.user?.username;
    if (status?.authenticated !== true || !user) return { ok: false, status: 401, reason: 'the bearer token is not valid' };
    if (!(status.audiences ?? []).includes(options.audience)) return { ok: false, status: 401, reason: `the bearer token is not for audience ${options.audience}` };
    if (subjects.size > 0 && !subjects.has(user)) return { ok: false, status: 403, reason: `${user} may not deliver events here` };
    return { ok: true, user };
  };
}
