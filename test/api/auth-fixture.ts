/**
 * MCPREG_AUTH=kubernetes, set up for tests: the embedded control plane with a token file and
 * RBAC (alice's group may read team-a/public, bob every registry, carol none; the query
 * function itself may only create TokenReviews and SubjectAccessReviews), three registries
 * published to a real store, and the real query server reviewing with its own token.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { Logger } from '../../lib/log.ts';
import type { Telemetry } from '../../lib/telemetry/telemetry.ts';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane/index.ts';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { startQuery, tempStore, type Running } from './harness.ts';

export const TOKENS = {
  query: 'query-function-token-0123456789',
  alice: 'alice-token-abcdefghijklmnop',
  bob: 'bob-token-qrstuvwxyz012345',
  carol: 'carol-token-6789abcdefghij',
};

export interface AuthFixture {
  cp: ControlPlane;
  api: Running;
  dir: string;
  stop(): Promise<void>;
}

/** `apiServer` maps the control plane's URL to the one the query function uses (a proxy in front of it) */
export async function startAuthFixture(options: { env?: Record<string, string>; logger?: Logger; telemetry?: Telemetry; apiServer?: (url: string) => Promise<string> } = {}): Promise<AuthFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpreg-auth-'));
  const tokensFile = join(dir, 'tokens.csv');
  await writeFile(
    tokensFile,
    [
      `${TOKENS.query},system:serviceaccount:mcp-system:query,uid-query,"system:serviceaccounts"`,
      `${TOKENS.alice},alice,uid-alice,"team-a-readers"`,
      `${TOKENS.bob},bob,uid-bob`,
      `${TOKENS.carol},carol,uid-carol`,
    ].join('\n') + '\n',
  );
  const cp = await startControlPlane({ tokensFile });
  const admin = cp.kubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  for (const ns of ['team-a', 'team-b', 'mcp-system']) await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  // the query function: only the two review APIs
  await rbac.createClusterRole({
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
      metadata: { name: 'mcp-registry-query-reviews' },
      rules: [
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
      ],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
      metadata: { name: 'mcp-registry-query-reviews' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'mcp-registry-query-reviews' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:serviceaccount:mcp-system:query' }],
    },
  });
  // team-a-readers (alice) may read team-a/public only
  await rbac.createNamespacedRole({
    namespace: 'team-a',
    body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'public-reader' }, rules: [{ apiGroups: ['toolhive.stacklok.io'], resources: ['mcpregistries'], resourceNames: ['public'], verbs: ['get'] }] },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: 'team-a',
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding',
      metadata: { name: 'public-readers' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'public-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'team-a-readers' }],
    },
  });
  // bob reads every registry
  await rbac.createClusterRole({ body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'registry-reader' }, rules: [{ apiGroups: ['toolhive.stacklok.io'], resources: ['mcpregistries'], verbs: ['get', 'list'] }] } });
  await rbac.createClusterRoleBinding({
    body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'bob-reads' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'registry-reader' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }] },
  });

  const t = await tempStore();
  const cleanupStore = t.cleanup;
  const entries = fixtureEntries();
  for (const [namespace, name] of [
    ['team-a', 'public'],
    ['team-a', 'private'],
    ['team-b', 'other'],
  ] as const) {
    await publishEntries(t.store, { namespace, name }, entries);
  }
  // the query function's own credentials: its token against the control plane
  const own = cp.kubeConfig();
  const current = own.getCurrentCluster()!;
  const cluster = options.apiServer ? { ...current, server: await options.apiServer(current.server) } : current;
  own.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'query', token: TOKENS.query }],
    contexts: [{ name: 'query', cluster: cluster.name, user: 'query' }],
    currentContext: 'query',
  });
  const api = await startQuery({ store: t.store, env: { MCPREG_AUTH: 'kubernetes', ...options.env }, kubeConfig: own, ...(options.logger ? { logger: options.logger } : {}), ...(options.telemetry ? { telemetry: options.telemetry } : {}) });
  return {
    cp,
    api,
    dir,
    async stop() {
      await api.close();
      await cp.stop();
      await cleanupStore();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
