/**
 * RBAC evaluated from the stored Roles, ClusterRoles, RoleBindings and ClusterRoleBindings,
 * with Kubernetes' matching rules: `*` wildcards, `resource/subresource` (also with `*` as the
 * resource), resourceNames, non-resource URLs (exact, or a prefix ending in `*`), User/Group/ServiceAccount subjects,
 * ClusterRole aggregation, and the `system:masters` group that bypasses authorization.
 */
import type { UserInfo } from './auth.ts';
import { isObject, type KubeObject } from './objects.ts';
import { matchesLabels, type LabelRequirement } from './selectors.ts';
import type { Store } from './store.ts';

export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  namespace?: string;
  /** non-resource requests */
  path?: string;
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const RBAC = 'rbac.authorization.k8s.io';
const GR = {
  roles: `${RBAC}/roles`,
  clusterroles: `${RBAC}/clusterroles`,
  rolebindings: `${RBAC}/rolebindings`,
  clusterrolebindings: `${RBAC}/clusterrolebindings`,
};

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.includes('*') || rule.verbs.includes(verb);
}

export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!verbMatches(rule, a.verb)) return false;
  if (!a.resourceRequest) {
    const path = a.path ?? '';
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
  }
  const groups = rule.apiGroups ?? [];
  if (!groups.includes('*') && !groups.includes(a.apiGroup ?? '')) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : (a.resource ?? '');
  const resourceOk = (rule.resources ?? []).some(
    (r) => r === '*' || r === combined || (a.subresource !== undefined && a.subresource !== '' && r === `*/${a.subresource}`),
  );
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(a.name ?? '');
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

export function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.username;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return user.username === `system:serviceaccount:${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

const rulesOf = (o: KubeObject | undefined): PolicyRule[] =>
  (Array.isArray(o?.rules) ? (o.rules as unknown[]) : []).filter((r): r is PolicyRule => isObject(r) && Array.isArray(r.verbs));

function selectorRequirements(sel: unknown): LabelRequirement[] {
  if (!isObject(sel)) return [];
  const reqs: LabelRequirement[] = [];
  for (const [k, v] of Object.entries((sel.matchLabels as Record<string, string> | undefined) ?? {})) reqs.push({ key: k, op: 'in', values: [v] });
  for (const e of (sel.matchExpressions as { key: string; operator: string; values?: string[] }[] | undefined) ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as const)[e.operator as 'In'];
    if (!op) return [{ key: '', op: 'in', values: [] }];
    reqs.push(op === 'in' || op === 'notin' ? { key: e.key, op, values: e.values ?? [] } : ({ key: e.key, op } as LabelRequirement));
  }
  return reqs;
}

export class RbacAuthorizer {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** A ClusterRole's rules, including those aggregated from ClusterRoles its selectors match. */
  clusterRoleRules(name: string): PolicyRule[] {
    const role = this.#store.get(GR.clusterroles, undefined, name);
    if (!role) return [];
    const rules = rulesOf(role);
    const selectors = (role.aggregationRule as { clusterRoleSelectors?: unknown[] } | undefined)?.clusterRoleSelectors;
    if (Array.isArray(selectors) && selectors.length > 0) {
      for (const other of this.#store.list(GR.clusterroles)) {
        if (other.metadata.name === name) continue;
        if (selectors.some((s) => matchesLabels(selectorRequirements(s), other.metadata.labels))) rules.push(...rulesOf(other));
      }
    }
    return rules;
  }

  /** Every (binding, role, rules) that applies to `user` in `namespace` (cluster-wide bindings always). */
  *grants(user: UserInfo, namespace: string | undefined): Generator<{ binding: string; role: string; subject: string; rules: PolicyRule[] }> {
    for (const b of this.#store.list(GR.clusterrolebindings)) {
      const subject = ((b.subjects as Subject[] | undefined) ?? []).find((s) => subjectMatches(s, user, undefined));
      const ref = b.roleRef as { kind?: string; name?: string } | undefined;
      if (!subject || ref?.kind !== 'ClusterRole' || !ref.name) continue;
      yield { binding: `ClusterRoleBinding "${b.metadata.name}"`, role: `ClusterRole "${ref.name}"`, subject: `${subject.kind} "${subject.name}"`, rules: this.clusterRoleRules(ref.name) };
    }
    if (!namespace) return;
    for (const b of this.#store.list(GR.rolebindings, namespace)) {
      const subject = ((b.subjects as Subject[] | undefined) ?? []).find((s) => subjectMatches(s, user, namespace));
      const ref = b.roleRef as { kind?: string; name?: string } | undefined;
      if (!subject || !ref?.name) continue;
      const rules =
        ref.kind === 'ClusterRole' ? this.clusterRoleRules(ref.name) : ref.kind === 'Role' ? rulesOf(this.#store.get(GR.roles, namespace, ref.name)) : [];
      yield {
        binding: `RoleBinding "${b.metadata.name}/${namespace}"`,
        role: `${ref.kind} "${ref.name}"`,
        subject: `${subject.kind} "${subject.name}"`,
        rules: rules.filter((r) => !(r.nonResourceURLs?.length ?? 0)),
      };
    }
  }

  authorize(a: Attributes): Decision {
    if (a.user.groups.includes('system:masters')) return { allowed: true, reason: 'allowed by group system:masters' };
    for (const g of this.grants(a.user, a.resourceRequest ? a.namespace : undefined)) {
      if (g.rules.some((r) => ruleAllows(r, a))) return { allowed: true, reason: `RBAC: allowed by ${g.binding} of ${g.role} to ${g.subject}` };
    }
    return { allowed: false, reason: '' };
  }

  /** SelfSubjectRulesReview: the rules that apply to `user` in `namespace`. */
  rules(user: UserInfo, namespace: string): { resourceRules: PolicyRule[]; nonResourceRules: PolicyRule[] } {
    if (user.groups.includes('system:masters'))
      return { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] };
    const resourceRules: PolicyRule[] = [];
    const nonResourceRules: PolicyRule[] = [];
    for (const g of this.grants(user, namespace)) {
      for (const r of g.rules) {
        if (r.nonResourceURLs?.length) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
        else resourceRules.push({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) });
      }
    }
    return { resourceRules, nonResourceRules };
  }
}

const BOOTSTRAP = { labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } };

const clusterRole = (name: string, rules: PolicyRule[]) => ({
  apiVersion: `${RBAC}/v1`,
  kind: 'ClusterRole',
  metadata: { name, ...structuredClone(BOOTSTRAP) },
  rules,
});
const clusterRoleBinding = (name: string, role: string, groups: string[]) => ({
  apiVersion: `${RBAC}/v1`,
  kind: 'ClusterRoleBinding',
  metadata: { name, ...structuredClone(BOOTSTRAP) },
  roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
  subjects: groups.map((g) => ({ apiGroup: RBAC, kind: 'Group', name: g })),
});

/** The default policy kube-apiserver bootstraps, reduced to what this server serves. */
export function bootstrapPolicy(): { clusterRoles: Record<string, unknown>[]; clusterRoleBindings: Record<string, unknown>[] } {
  return {
    clusterRoles: [
      clusterRole('cluster-admin', [
        { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
        { nonResourceURLs: ['*'], verbs: ['*'] },
      ]),
      clusterRole('system:discovery', [
        { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], verbs: ['get'] },
      ]),
      clusterRole('system:basic-user', [
        { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
        { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
      ]),
      clusterRole('system:public-info-viewer', [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }]),
    ],
    clusterRoleBindings: [
      clusterRoleBinding('cluster-admin', 'cluster-admin', ['system:masters']),
      clusterRoleBinding('system:discovery', 'system:discovery', ['system:authenticated']),
      clusterRoleBinding('system:basic-user', 'system:basic-user', ['system:authenticated']),
      clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', ['system:authenticated', 'system:unauthenticated']),
    ],
  };
}
