/**
 * An import job's `spec.registry`: an MCPRegistry reading what the import wrote (its
 * ConfigMap key or git file), created when missing and left as it is when it exists, so that
 * a curated registry can be assembled and served by one declarative job.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { RegistryError } from '../errors.ts';
import type { ImportRegistry } from '../kube/job-specs.ts';
import { MCPRegistrySpec, type SourceSpec } from '../kube/mcpregistry-spec.ts';
import type { KubeObject } from '../kube/objects.ts';
import { createResourceClient } from '../kube/registry-client.ts';
import { API_VERSION, MCP_REGISTRY } from '../kube/resources.ts';
import type { ResolvedImportTarget } from './run-import.ts';

/** The MCPRegistry source that reads an import target. */
export function sourceReading(target: ResolvedImportTarget, format: 'toolhive' | 'upstream'): { source: SourceSpec; format: 'toolhive' | 'upstream' } {
  if (target.kind === 'configMap') return { source: { type: 'configmap', configMap: { name: target.configMap.name, key: target.configMap.key } }, format };
  const g = target.git;
  return {
    source: { type: 'git', git: { repository: g.repository, branch: g.branch, path: g.path, allowHttp: g.allowHttp, ...(g.authSecret ? { authSecret: g.authSecret } : {}) } },
    format,
  };
}

export interface EnsuredRegistry {
  name: string;
  created: boolean;
}

export async function ensureRegistry(
  kubeConfig: KubeConfig,
  input: { namespace: string; registry: ImportRegistry; target: ResolvedImportTarget; format: 'toolhive' | 'upstream'; job: string },
): Promise<EnsuredRegistry> {
  const { namespace, registry } = input;
  const reading = sourceReading(input.target, input.format);
  const spec = {
    ...reading,
    ...(registry.displayName ? { displayName: registry.displayName } : {}),
    ...(registry.description ? { description: registry.description } : {}),
  };
  const parsed = MCPRegistrySpec.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RegistryError('invalid_argument', `spec.registry: an MCPRegistry reading the target would be invalid: ${issue?.path.join('.')}: ${issue?.message}`, { where: { path: 'spec.registry' } });
  }
  const client = createResourceClient(kubeConfig, MCP_REGISTRY.plural as 'mcpregistries');
  const body: KubeObject = {
    apiVersion: API_VERSION,
    kind: MCP_REGISTRY.kind,
    metadata: { name: registry.name, namespace, annotations: { [CREATED_BY_ANNOTATION]: input.job } },
    spec,
  };
  const created = await client.create(body);
  return { name: registry.name, created: created !== null };
}

/** Which import job created a registry (informational; the registry outlives the job). */
export const CREATED_BY_ANNOTATION = 'toolhive.stacklok.io/created-by-import-job';
