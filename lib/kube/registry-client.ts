import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { RegistryError } from '../errors.ts';
import { GROUP, MCP_REGISTRY, MCP_REGISTRY_EXPORT_JOB, MCP_REGISTRY_IMPORT_JOB, MCP_REGISTRY_SYNC_JOB, VERSION } from './resources.ts';
import type { KubeObject } from './objects.ts';
import { tracedApi } from './traced-api.ts';

/**
 * Reads and writes of our custom resources through @kubernetes/client-node. Errors become
 * RegistryError: 404 → 'not_found', 409 → 'conflict', 401/403 → 'auth_failed', 400/422 →
 * 'invalid_argument'; 5xx and network failures → KubeApiUnavailable (transient), which the
 * sync function answers with 503 so that the Broker retries.
 */

export type ResourcePlural = typeof MCP_REGISTRY.plural | typeof MCP_REGISTRY_SYNC_JOB.plural | typeof MCP_REGISTRY_IMPORT_JOB.plural | typeof MCP_REGISTRY_EXPORT_JOB.plural;

export class KubeApiUnavailable extends RegistryError {}

export function apiError(e: unknown, what: string): RegistryError {
  if (e instanceof RegistryError) return e;
  const status = (e as { code?: unknown }).code;
  if (typeof status === 'number') {
    if (status === 404) return new RegistryError('not_found', `${what}: not found`);
    if (status === 409) return new RegistryError('conflict', `${what}: the object changed meanwhile (HTTP 409)`, { transient: true });
    if (status === 401 || status === 403) return new RegistryError('auth_failed', `${what}: forbidden by the API server (HTTP ${status}); check the sync function's RBAC`);
    if (status === 422 || status === 400) {
      const body = (e as { body?: unknown }).body;
      let detail = '';
      try {
        const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string };
        detail = parsed?.message ? `: ${parsed.message.slice(0, 500)}` : '';
      } catch {
        // body was not JSON
      }
      return new RegistryError('invalid_argument', `${what}: rejected by the API server (HTTP ${status})${detail}`);
    }
    return new KubeApiUnavailable('internal', `${what}: the API server answered HTTP ${status}`, { transient: status >= 500 || status === 429 });
  }
  return new KubeApiUnavailable('internal', `${what}: the Kubernetes API server is unreachable`, { transient: true, cause: e });
}

export function isKubeUnavailable(e: unknown): boolean {
  return e instanceof KubeApiUnavailable && e.transient;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface ResourceClient {
  get(namespace: string, name: string): Promise<KubeObject | null>;
  list(namespace?: string): Promise<KubeObject[]>;
  /** create; null when an object of that name exists already (it is left as it is) */
  create(object: KubeObject): Promise<KubeObject | null>;
  /** replace the status subresource; 409 on a stale resourceVersion */
  replaceStatus(object: KubeObject, status: unknown): Promise<KubeObject>;
  /** JSON merge patch of metadata (finalizers, annotations), guarded by resourceVersion */
  patchMetadata(object: KubeObject, metadata: Record<string, unknown>): Promise<KubeObject>;
  /** delete, guarded by uid (a newer object of the same name is left alone); false when already gone */
  delete(object: KubeObject): Promise<boolean>;
}

export function createResourceClient(kubeConfig: KubeConfig, plural: ResourcePlural): ResourceClient {
  const api = tracedApi(kubeConfig.makeApiClient(CustomObjectsApi), plural);
  const base = { group: GROUP, version: VERSION, plural };
  const label = (ns: string, name: string) => `${plural}/${ns}/${name}`;
  return {
    async get(namespace, name) {
      try {
        return (await api.getNamespacedCustomObject({ ...base, namespace, name })) as KubeObject;
      } catch (e) {
        const err = apiError(e, `get ${label(namespace, name)}`);
        if (err.code === 'not_found') return null;
        throw err;
      }
    },
    async list(namespace) {
      try {
        const out: KubeObject[] = [];
        let cont: string | undefined;
        do {
          const page = (namespace
            ? await api.listNamespacedCustomObject({ ...base, namespace, limit: 500, _continue: cont })
            : await api.listClusterCustomObject({ ...base, limit: 500, _continue: cont })) as { items: KubeObject[]; metadata?: { continue?: string } };
          out.push(...page.items);
          cont = page.metadata?.continue || undefined;
        } while (cont);
        return out;
      } catch (e) {
        throw apiError(e, `list ${plural}${namespace ? ` in ${namespace}` : ''}`);
      }
    },
    async create(object) {
      const { namespace = '', name } = object.metadata;
      try {
        return (await api.createNamespacedCustomObject({ ...base, namespace, body: object })) as KubeObject;
      } catch (e) {
        const err = apiError(e, `create ${label(namespace, name)}`);
        if ((e as { code?: unknown }).code === 409) return null;
        throw err;
      }
    },
        async replaceStatus(object, status) {
      const { namespace = '', name } = object.metadata;
      try {
        const body = { apiVersion: object.apiVersion, kind: object.kind, metadata: { name, namespace, resourceVersion: object.metadata.resourceVersion }, status };
        return (await api.replaceNamespacedCustomObjectStatus({ ...base, namespace, name, body })) as KubeObject;
      } catch (e) {
        throw apiError(e, `write status of ${label(namespace, name)}`);
      }
    },
    async patchMetadata(object, metadata) {
      const { namespace = '', name } = object.metadata;
      try {
        const body = { metadata: { ...metadata, resourceVersion: object.metadata.resourceVersion } };
        return (await api.patchNamespacedCustomObject({ ...base, namespace, name, body }, mergePatch)) as KubeObject;
      } catch (e) {
        throw apiError(e, `patch ${label(namespace, name)}`);
      }
    },
    async delete(object) {
      const { namespace = '', name, uid } = object.metadata;
      try {
        await api.deleteNamespacedCustomObject({ ...base, namespace, name, body: { preconditions: uid ? { uid } : undefined } });
        return true;
      } catch (e) {
        const err = apiError(e, `delete ${label(namespace, name)}`);
        if (err.code === 'not_found') return false;
        throw err;
      }
    },
  };
}
