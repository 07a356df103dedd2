/**
 * Discovery documents: /version, legacy discovery (/api, /api/v1, /apis, /apis/{g},
 * /apis/{g}/{v}) and aggregated discovery (apidiscovery.k8s.io/v2, one request for all groups),
 * plus the OpenAPI v3 documents kubectl reads to learn that the server validates fields itself.
 */
import type { ResourceRegistry, ResourceType } from './resources.ts';
import { apiVersionOf } from './objects.ts';
import { versionInfo } from './resources.ts';

/** kubectl's version dispatcher on some machines picks a client matching this. */
export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-mcpreg' };

export function versionInfoDoc(): Record<string, unknown> {
  return {
    major: KUBE_VERSION.major,
    minor: KUBE_VERSION.minor,
    gitVersion: KUBE_VERSION.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'n/a (node.js embedded control plane)',
    compiler: 'node',
    platform: `${process.platform}/${process.arch}`,
  };
}

function resourceEntries(t: ResourceType, version: string): Record<string, unknown>[] {
  const info = versionInfo(t, version)!;
  const main = {
    name: t.resource,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: t.verbs,
    ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
    ...(t.categories.length ? { categories: t.categories } : {}),
  };
  const subs: Record<string, unknown>[] = [];
  if (info.status) subs.push({ name: `${t.resource}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
  for (const s of t.extraSubresources ?? []) subs.push({ name: `${t.resource}/${s.name}`, singularName: '', namespaced: t.namespaced, group: s.group, version: s.version, kind: s.kind, verbs: s.verbs });
  return [main, ...subs];
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function resourceList(registry: ResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const types = registry.groups().get(group)?.get(version);
  if (!types) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources: types.flatMap((t) => resourceEntries(t, version)) };
}

function groupDoc(group: string, versions: string[]): Record<string, unknown> {
  const gv = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: gv, preferredVersion: gv[0] };
}

export function apiGroupList(registry: ResourceRegistry): Record<string, unknown> {
  const groups = [...registry.groups().entries()].filter(([g]) => g !== '').map(([g, versions]) => groupDoc(g, [...versions.keys()]));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(registry: ResourceRegistry, group: string): Record<string, unknown> | undefined {
  const versions = registry.groups().get(group);
  if (!versions || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group, [...versions.keys()]) };
}

/** apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api (core) or /apis (all named groups). */
export function aggregatedDiscovery(registry: ResourceRegistry, core: boolean, discoveryVersion: 'v2' | 'v2beta1'): Record<string, unknown> {
  const items = [];
  for (const [group, versions] of registry.groups()) {
    if ((group === '') !== core) continue;
    items.push({
      metadata: core ? { creationTimestamp: null } : { name: group, creationTimestamp: null },
      versions: [...versions.entries()].map(([version, types]) => ({
        version,
        resources: types.map((t) => {
          const info = versionInfo(t, version)!;
          const subresources = [
            ...(info.status ? [{ subresource: 'status', responseKind: { group, version, kind: t.kind }, verbs: ['get', 'patch', 'update'] }] : []),
            ...(t.extraSubresources ?? []).map((s) => ({ subresource: s.name, responseKind: { group: s.group, version: s.version, kind: s.kind }, verbs: s.verbs })),
          ];
          return {
            resource: t.resource,
            responseKind: { group, version, kind: t.kind },
            scope: t.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: t.singular,
            verbs: t.verbs,
            ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
            ...(t.categories.length ? { categories: t.categories } : {}),
            ...(subresources.length ? { subresources } : {}),
          };
        }),
        freshness: 'Current',
      })),
    });
  }
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${discoveryVersion}`, metadata: {}, items };
}

/** /openapi/v3: one entry per group version, each pointing at its document. */
export function openApiIndex(registry: ResourceRegistry, hash: string): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [group, versions] of registry.groups()) {
    for (const version of versions.keys()) {
      const key = group === '' ? `api/${version}` : `apis/${group}/${version}`;
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
    }
  }
  return { paths };
}

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({ name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string' } }));

/**
 * A group version's OpenAPI v3 document: every operation with the query parameters this
 * server honours (kubectl checks `fieldValidation` here to leave validation to the server)
 * and the custom resources' schemas under components (for `kubectl explain`).
 */
export function openApiGroupVersion(registry: ResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const types = registry.groups().get(group)?.get(version);
  if (!types) return undefined;
  const prefix = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const gvk = (t: ResourceType) => [{ group, version, kind: t.kind }];
  const reverseGroup = group === '' ? 'io.k8s.api.core' : group.split('.').reverse().join('.');
  for (const t of types) {
    const schemaName = `${reverseGroup}.${version}.${t.kind}`;
    const info = versionInfo(t, version)!;
    schemas[schemaName] = { ...(info.schema ?? { type: 'object' }), 'x-kubernetes-group-version-kind': gvk(t) };
    const ref = { $ref: `#/components/schemas/${schemaName}` };
    const body = { content: { 'application/json': { schema: ref } } };
    const ok = { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } };
    const op = (action: string, extra: Record<string, unknown> = {}) => ({
      operationId: `${action}${t.kind}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': { group, version, kind: t.kind },
      parameters: QUERY_PARAMS,
      responses: ok,
      ...extra,
    });
    const collection = t.namespaced ? `${prefix}/namespaces/{namespace}/${t.resource}` : `${prefix}/${t.resource}`;
    if (t.review) {
      paths[collection] = { post: op('post', { requestBody: body }) };
      continue;
    }
    paths[collection] = { get: op('list'), post: op('post', { requestBody: body }) };
    const item = `${collection}/{name}`;
    paths[item] = { get: op('get'), put: op('put', { requestBody: body }), patch: op('patch', { requestBody: body }), delete: op('delete') };
    if (info.status) paths[`${item}/status`] = { get: op('get'), put: op('put', { requestBody: body }), patch: op('patch', { requestBody: body }) };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion }, paths, components: { schemas } };
}
