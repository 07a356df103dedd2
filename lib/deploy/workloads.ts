import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { apiError } from '../kube/registry-client.ts';
import { guessPlural } from '../kube/resources.ts';
import type { KubeObject } from '../kube/objects.ts';
import { MCP_REMOTE_PROXY_KIND, MCP_SERVER_KIND, WORKLOAD_GROUP, WORKLOAD_VERSION } from './workload.ts';

/**
 * Lists ToolHive workloads (MCPServers and MCPRemoteProxies) through the Kubernetes API: one
 * paged list per kind. A kind whose CRD is not installed is reported in `missing`, not thrown.
 */

export const WORKLOAD_KINDS = [MCP_SERVER_KIND, MCP_REMOTE_PROXY_KIND] as const;

export interface WorkloadListing {
  items: KubeObject[];
  /** kinds whose CRD is not installed */
  missing: string[];
}

export async function listWorkloads(kubeConfig: KubeConfig, options: { namespace?: string | undefined; labelSelector?: string } = {}): Promise<WorkloadListing> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const items: KubeObject[] = [];
  const missing: string[] = [];
  for (const kind of WORKLOAD_KINDS) {
    const base = { group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: guessPlural(kind), limit: 500, ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}) };
    let cont: string | undefined;
    try {
      do {
        const page = (options.namespace
          ? await api.listNamespacedCustomObject({ ...base, namespace: options.namespace, _continue: cont })
          : await api.listClusterCustomObject({ ...base, _continue: cont })) as { items: KubeObject[]; metadata?: { continue?: string } };
        for (const item of page.items) items.push({ ...item, apiVersion: item.apiVersion ?? `${WORKLOAD_GROUP}/${WORKLOAD_VERSION}`, kind: item.kind ?? kind });
        cont = page.metadata?.continue || undefined;
      } while (cont);
    } catch (e) {
      if ((e as { code?: unknown }).code === 404) {
        missing.push(kind);
        continue;
      }
      throw apiError(e, `list ${base.plural}${options.namespace ? ` in ${options.namespace}` : ''}`);
    }
  }
  return { items, missing };
}
