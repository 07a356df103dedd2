/**
 * The review kinds, answered and never stored: TokenReview, SelfSubjectReview,
 * SubjectAccessReview, SelfSubjectAccessReview, LocalSubjectAccessReview,
 * SelfSubjectRulesReview, and TokenRequest (`serviceaccounts/{name}/token`).
 */
import type { Authenticator, UserInfo } from './auth.ts';
import { newToken } from './auth.ts';
import { fieldError, type FieldError } from './field-errors.ts';
import { isObject, nowTimestamp } from './objects.ts';
import type { Attributes, Decision, RbacAuthorizer } from './rbac.ts';
import { apiError } from './status.ts';

export type Authorize = (a: Attributes) => Decision;

const specOf = (body: unknown, kind: string, apiVersion: string): Record<string, unknown> => {
  if (!isObject(body)) throw apiError.badRequest('the request body must be a JSON or YAML object');
  if (body.kind !== undefined && body.kind !== kind) throw apiError.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${kind})`);
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion)
    throw apiError.badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
  return isObject(body.spec) ? body.spec : {};
};

const respond = (body: unknown, kind: string, apiVersion: string, status: Record<string, unknown>, spec: Record<string, unknown>) => ({
  kind,
  apiVersion,
  metadata: { ...(isObject(body) && isObject(body.metadata) ? body.metadata : {}), creationTimestamp: null },
  spec,
  status,
});

const AUTHN = 'authentication.k8s.io/v1';
const AUTHZ = 'authorization.k8s.io/v1';

export function tokenReview(body: unknown, authn: Authenticator): Record<string, unknown> {
  const spec = specOf(body, 'TokenReview', AUTHN);
  if (typeof spec.token !== 'string' || spec.token === '') throw apiError.invalid('TokenReview', 'authentication.k8s.io', '', [fieldError.required('spec.token')]);
  const user = authn.review(spec.token);
  const audiences = Array.isArray(spec.audiences) ? spec.audiences : undefined;
  const status = user
    ? { authenticated: true, user: userJson(user), ...(audiences ? { audiences } : {}) }
    : { authenticated: false, user: {}, error: 'invalid bearer token' };
  return respond(body, 'TokenReview', AUTHN, status, spec);
}

function userJson(u: UserInfo): Record<string, unknown> {
  return { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra ? { extra: u.extra } : {}) };
}

export function selfSubjectReview(body: unknown, user: UserInfo): Record<string, unknown> {
  specOf(body, 'SelfSubjectReview', AUTHN);
  return { kind: 'SelfSubjectReview', apiVersion: AUTHN, metadata: { creationTimestamp: null }, status: { userInfo: userJson(user) } };
}

function attributesOf(spec: Record<string, unknown>, user: UserInfo, namespaceOverride?: string): { attrs: Attributes; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const ra = isObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nra = isObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if ((ra === undefined) === (nra === undefined))
    errors.push(fieldError.invalid('spec.resourceAttributes', ra ?? null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  if (ra) {
    const namespace = namespaceOverride ?? str(ra.namespace);
    return {
      errors,
      attrs: {
        user,
        verb: str(ra.verb),
        resourceRequest: true,
        apiGroup: str(ra.group),
        resource: str(ra.resource),
        subresource: str(ra.subresource),
        name: str(ra.name),
        ...(namespace ? { namespace } : {}),
      },
    };
  }
  return { errors, attrs: { user, verb: str(nra?.verb), resourceRequest: false, path: str(nra?.path) } };
}

const decisionStatus = (d: Decision) => ({ allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) });

export function subjectAccessReview(body: unknown, authorize: Authorize): Record<string, unknown> {
  const spec = specOf(body, 'SubjectAccessReview', AUTHZ);
  const user: UserInfo = {
    username: typeof spec.user === 'string' ? spec.user : '',
    ...(typeof spec.uid === 'string' ? { uid: spec.uid } : {}),
    groups: Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === 'string') : [],
  };
  const { attrs, errors } = attributesOf(spec, user);
  if (!user.username && user.groups.length === 0) errors.push(fieldError.invalid('spec.user', '', 'at least one of user or group must be specified'));
  if (errors.length) throw apiError.invalid('SubjectAccessReview', 'authorization.k8s.io', '', errors);
  return respond(body, 'SubjectAccessReview', AUTHZ, decisionStatus(authorize(attrs)), spec);
}

export function localSubjectAccessReview(body: unknown, namespace: string, authorize: Authorize): Record<string, unknown> {
  const spec = specOf(body, 'LocalSubjectAccessReview', AUTHZ);
  const ra = isObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  if (ra && typeof ra.namespace === 'string' && ra.namespace !== '' && ra.namespace !== namespace)
    throw apiError.invalid('LocalSubjectAccessReview', 'authorization.k8s.io', '', [
      fieldError.invalid('spec.resourceAttributes.namespace', ra.namespace, 'must match metadata.namespace'),
    ]);
  const user: UserInfo = {
    username: typeof spec.user === 'string' ? spec.user : '',
    groups: Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === 'string') : [],
  };
  const { attrs, errors } = attributesOf(spec, user, namespace);
  if (!user.username && user.groups.length === 0) errors.push(fieldError.invalid('spec.user', '', 'at least one of user or group must be specified'));
  if (errors.length) throw apiError.invalid('LocalSubjectAccessReview', 'authorization.k8s.io', '', errors);
  const out = respond(body, 'LocalSubjectAccessReview', AUTHZ, decisionStatus(authorize(attrs)), spec);
  return { ...out, metadata: { ...(out.metadata as object), namespace } };
}

export function selfSubjectAccessReview(body: unknown, user: UserInfo, authorize: Authorize): Record<string, unknown> {
  const spec = specOf(body, 'SelfSubjectAccessReview', AUTHZ);
  const { attrs, errors } = attributesOf(spec, user);
  if (errors.length) throw apiError.invalid('SelfSubjectAccessReview', 'authorization.k8s.io', '', errors);
  return respond(body, 'SelfSubjectAccessReview', AUTHZ, decisionStatus(authorize(attrs)), spec);
}

export function selfSubjectRulesReview(body: unknown, user: UserInfo, rbac: RbacAuthorizer | undefined): Record<string, unknown> {
  const spec = specOf(body, 'SelfSubjectRulesReview', AUTHZ);
  const namespace = typeof spec.namespace === 'string' ? spec.namespace : '';
  if (!namespace) throw apiError.invalid('SelfSubjectRulesReview', 'authorization.k8s.io', '', [fieldError.required('spec.namespace')]);
  const rules = rbac
    ? rbac.rules(user, namespace)
    : { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] };
  return respond(body, 'SelfSubjectRulesReview', AUTHZ, { ...rules, incomplete: false }, spec);
}

/** TokenRequest for a stored ServiceAccount: an opaque token that authenticates as that account. */
export function tokenRequest(body: unknown, namespace: string, name: string, authn: Authenticator): Record<string, unknown> {
  const spec = specOf(body, 'TokenRequest', AUTHN);
  const requested = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : 3600;
  if (!Number.isInteger(requested) || requested < 600)
    throw apiError.invalid('TokenRequest', 'authentication.k8s.io', name, [fieldError.invalid('spec.expirationSeconds', requested, 'may not specify a duration less than 10 minutes')]);
  const seconds = Math.min(requested, 48 * 3600);
  const token = newToken('mcpreg-sa');
  const expires = Date.now() + seconds * 1000;
  authn.add({
    token,
    user: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
    expires,
    origin: 'issued',
  });
  return {
    kind: 'TokenRequest',
    apiVersion: AUTHN,
    metadata: { name, namespace, creationTimestamp: nowTimestamp() },
    spec: { audiences: Array.isArray(spec.audiences) ? spec.audiences : [], expirationSeconds: seconds, boundObjectRef: spec.boundObjectRef ?? null },
    status: { token, expirationTimestamp: new Date(expires).toISOString().replace(/\.\d{3}Z$/, 'Z') },
  };
}
