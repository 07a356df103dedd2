import type { RegistryRef } from '../snapshots/layout.ts';
import type { Problem } from './problem.ts';

/**
 * Who may read which registry. Two modes (MCPREG_AUTH):
 *
 * - `anonymous` (the local default): everyone reads everything; no token is looked at.
 * - `kubernetes`: the bearer token is checked with a TokenReview, then a SubjectAccessReview
 *   for `get` on `mcpregistries.toolhive.stacklok.io` named after the registry in its
 *   namespace (kube-auth.ts, which loads the Kubernetes client only when this mode is used).
 */

export interface Caller {
  /** the authenticated user name (never the token); `system:anonymous` in anonymous mode */
  user: string;
  /** sha256 of the bearer token (cache keys), '' in anonymous mode */
  tokenHash: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  /** the X-Request-Id of the request the caller was identified for (audit lines) */
  requestId?: string;
}

export type Authentication = { ok: true; caller: Caller } | { ok: false; problem: Problem; status: 401 | 503 };

export interface AccessControl {
  readonly mode: 'anonymous' | 'kubernetes';
  /** identifies the caller from the Authorization header */
  authenticate(authorization: string | undefined): Promise<Authentication>;
  /** may the caller read this registry? throws RegistryError when the decision cannot be made */
  canRead(caller: Caller, ref: RegistryRef): Promise<boolean>;
  close?(): void;
}

export const ANONYMOUS: Caller = { user: 'system:anonymous', tokenHash: '' };

export const anonymousAccess: AccessControl = {
  mode: 'anonymous',
  authenticate: () => Promise.resolve({ ok: true, caller: ANONYMOUS }),
  canRead: () => Promise.resolve(true),
};

/** the bearer token of an Authorization header, or undefined */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization);
  return m ? m[1] : undefined;
}
