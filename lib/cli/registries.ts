import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeObject } from '../kube/objects.ts';
import { GROUP, MCP_REGISTRY, VERSION } from '../kube/resources.ts';
import { CliFailure } from './io.ts';
import { kubeFailure, kubeStatus, type KubeTarget } from './kube.ts';

/**
 * MCPRegistries through @kubernetes/client-node for the CLI: reads, create, annotate, delete,
 * with every failure as one line naming the registry (kubectl's wording where it has one).
 */

const base = { group: GROUP, version: VERSION, plural: MCP_REGISTRY.plural };
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface RegistryApi {
  list(namespace: string | undefined): Promise<KubeObject[]>;
  /** null when there is none */
  get(namespace: string, name: string): Promise<KubeObject | null>;
  create(object: KubeObject): Promise<KubeObject>;
  annotate(namespace: string, name: string, annotations: Record<string, string>): Promise<KubeObject>;
  /** false when there was none */
  remove(namespace: string, name: string): Promise<boolean>;
}

/** A 404 of the resource type itself (rather than of one object): the CRD is missing. */
function crdMissing(e: unknown, target: KubeTarget): CliFailure | undefined {
  if (kubeStatus(e) !== 404) return undefined;
  const body = (e as { body?: unknown }).body;
  let details: { name?: string } | undefined;
  try {
    details = ((typeof body === 'string' ? JSON.parse(body) : body) as { details?: { name?: string } } | undefined)?.details;
  } catch {
    details = undefined;
  }
  if (details?.name) return undefined;
  return new CliFailure(`the ${MCP_REGISTRY.kind} CRD (${MCP_REGISTRY.plural}.${GROUP}) is not installed on ${target.server}: kubectl apply -k crds/`);
}

const notFound = (namespace: string, name: string) => new CliFailure(`mcpregistry "${name}" not found in namespace "${namespace}"`);

export function registryApi(target: KubeTarget): RegistryApi {
  const api = target.kubeConfig.makeApiClient(CustomObjectsApi);
  const failure = (e: unknown, what: string) => crdMissing(e, target) ?? kubeFailure(e, what, target);
  return {
    async list(namespace) {
      const out: KubeObject[] = [];
      let cont: string | undefined;
      try {
        do {
          const page = (namespace === undefined
            ? await api.listClusterCustomObject({ ...base, limit: 500, _continue: cont })
            : await api.listNamespacedCustomObject({ ...base, namespace, limit: 500, _continue: cont })) as { items: KubeObject[]; metadata?: { continue?: string } };
          out.push(...page.items);
          cont = page.metadata?.continue || undefined;
        } while (cont);
      } catch (e) {
        throw failure(e, `list mcpregistries${namespace === undefined ? ' in all namespaces' : ` in namespace "${namespace}"`}`);
      }
      return out.sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
    },
    async get(namespace, name) {
      try {
        return (await api.getNamespacedCustomObject({ ...base, namespace, name })) as KubeObject;
      } catch (e) {
        const missing = crdMissing(e, target);
        if (missing) throw missing;
        if (kubeStatus(e) === 404) return null;
        throw failure(e, `get mcpregistry "${name}" in namespace "${namespace}"`);
      }
    },
    async create(object) {
      const { namespace = '', name } = object.metadata;
      try {
        return (await api.createNamespacedCustomObject({ ...base, namespace, body: object })) as KubeObject;
      } catch (e) {
        if (kubeStatus(e) === 409) throw new CliFailure(`mcpregistry "${name}" already exists in namespace "${namespace}"`);
        throw failure(e, `create mcpregistry "${name}" in namespace "${namespace}"`);
      }
    },
    async annotate(namespace, name, annotations) {
      try {
        return (await api.patchNamespacedCustomObject({ ...base, namespace, name, body: { metadata: { annotations } } }, mergePatch)) as KubeObject;
      } catch (e) {
        if (kubeStatus(e) === 404 && !crdMissing(e, target)) throw notFound(namespace, name);
        throw failure(e, `annotate mcpregistry "${name}" in namespace "${namespace}"`);
      }
    },
    async remove(namespace, name) {
      try {
        await api.deleteNamespacedCustomObject({ ...base, namespace, name });
        return true;
      } catch (e) {
        if (kubeStatus(e) === 404 && !crdMissing(e, target)) return false;
        throw failure(e, `delete mcpregistry "${name}" in namespace "${namespace}"`);
      }
    },
  };
}

export { notFound as registryNotFound };
