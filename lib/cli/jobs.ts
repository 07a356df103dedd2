import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeObject } from '../kube/objects.ts';
import { GROUP, MCP_REGISTRY_EXPORT_JOB, MCP_REGISTRY_IMPORT_JOB, VERSION } from '../kube/resources.ts';
import { CliFailure } from './io.ts';
import { kubeFailure, kubeStatus, type KubeTarget } from './kube.ts';
import type { JobObject } from './job-spec.ts';

/** Import and export jobs through @kubernetes/client-node for the CLI: create and get, failures as one line. */

export interface JobApi {
  create(object: JobObject): Promise<KubeObject>;
  /** null when there is none */
  get(namespace: string, name: string): Promise<KubeObject | null>;
}

export function jobApi(target: KubeTarget, kind: 'MCPRegistryImportJob' | 'MCPRegistryExportJob'): JobApi {
  const api = target.kubeConfig.makeApiClient(CustomObjectsApi);
  const names = kind === 'MCPRegistryImportJob' ? MCP_REGISTRY_IMPORT_JOB : MCP_REGISTRY_EXPORT_JOB;
  const base = { group: GROUP, version: VERSION, plural: names.plural };
  const label = names.kind.toLowerCase();
  return {
    async create(object) {
      const namespace = object.metadata.namespace ?? target.namespace;
      const what = object.metadata.name ?? object.metadata.generateName ?? '';
      try {
        return (await api.createNamespacedCustomObject({ ...base, namespace, body: { ...object, metadata: { ...object.metadata, namespace } } })) as KubeObject;
      } catch (e) {
        if (kubeStatus(e) === 409) throw new CliFailure(`${label} "${what}" already exists in namespace "${namespace}" (a job runs once: give it a new name)`);
        if (kubeStatus(e) === 404) throw new CliFailure(`the ${names.kind} CRD (${names.plural}.${GROUP}) is not installed on ${target.server}: kubectl apply -k crds/`);
        throw kubeFailure(e, `create ${label} "${what}" in namespace "${namespace}"`, target);
      }
    },
    async get(namespace, name) {
      try {
        return (await api.getNamespacedCustomObject({ ...base, namespace, name })) as KubeObject;
      } catch (e) {
        if (kubeStatus(e) === 404) return null;
        throw kubeFailure(e, `get ${label} "${name}" in namespace "${namespace}"`, target);
      }
    },
  };
}
