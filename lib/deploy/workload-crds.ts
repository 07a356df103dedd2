import { loadAllYaml, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { z } from 'zod';
import { toStructuralSchema, type JsonSchema } from '../kube/crd-schema.ts';
import { guessPlural } from '../kube/resources.ts';
import { MCP_REMOTE_PROXY_KIND, MCP_SERVER_KIND, WORKLOAD_GROUP } from './workload.ts';

/**
 * CRDs compatible with ToolHive's MCPServer and MCPRemoteProxy, for local mode and tests
 * only: on a cluster ToolHive's operator installs the real ones and we never install these.
 * They declare the fields the registry fills (lib/deploy/workload.ts) with the operator's
 * types, and preserve every other field (the user's: resources, OIDC, replicas, …).
 * `env` and `secrets` are list-maps keyed by `name`, as in the operator's API.
 */

const open = <T extends z.ZodRawShape>(shape: T) => z.object(shape).meta({ 'x-kubernetes-preserve-unknown-fields': true });
const Port = z.number().int().min(1).max(65535);

export const MCPServerSpec = open({
  image: z.string().min(1).describe('Container image of the MCP server.'),
  transport: z.enum(['stdio', 'streamable-http', 'sse']).default('stdio'),
  proxyMode: z.enum(['sse', 'streamable-http']).optional(),
  proxyPort: Port.optional(),
  mcpPort: Port.optional(),
  args: z.array(z.string()).optional(),
  env: z
    .array(z.object({ name: z.string().min(1), value: z.string() }))
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
    .optional(),
  secrets: z
    .array(z.object({ name: z.string().min(1), key: z.string().min(1), targetEnvName: z.string().optional() }))
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
    .optional(),
  permissionProfile: z.object({ type: z.enum(['builtin', 'configmap']).default('builtin'), name: z.string().min(1), key: z.string().optional() }).optional(),
  resources: open({}).optional(),
});

export const MCPRemoteProxySpec = open({
  remoteUrl: z.string().regex(/^https?:\/\//).describe('URL of the remote MCP server.'),
  transport: z.enum(['sse', 'streamable-http']).default('streamable-http'),
  proxyPort: Port.optional(),
  headerForward: z
    .object({
      addPlaintextHeaders: z.record(z.string(), z.string()).optional(),
      addHeadersFromSecret: z.array(z.object({ headerName: z.string().min(1), valueSecretRef: z.object({ name: z.string().min(1), key: z.string().min(1) }) })).optional(),
    })
    .optional(),
});

const WorkloadStatus = open({});

function crd(kind: string, spec: z.ZodType, shortNames: string[]): JsonSchema {
  const plural = guessPlural(kind);
  const schema = {
    openAPIV3Schema: {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object' },
        spec: toStructuralSchema(spec),
        status: toStructuralSchema(WorkloadStatus),
      },
    },
  };
  const version = (name: string, storage: boolean) => ({
    name,
    served: true,
    storage,
    subresources: { status: {} },
    additionalPrinterColumns: [
      { name: 'Status', type: 'string', jsonPath: '.status.phase' },
      { name: 'URL', type: 'string', jsonPath: '.status.url' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    schema,
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${WORKLOAD_GROUP}`, labels: { 'app.kubernetes.io/part-of': 'knative-mcp-registry-local' } },
    spec: {
      group: WORKLOAD_GROUP,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames, categories: ['toolhive'] },
      scope: 'Namespaced',
      versions: [version('v1alpha1', false), version('v1beta1', true)],
    },
  };
}

/** The two CRDs as plain objects. */
export function workloadCrdObjects(): JsonSchema[] {
  return [crd(MCP_SERVER_KIND, MCPServerSpec, ['mcpserver', 'mcpservers']), crd(MCP_REMOTE_PROXY_KIND, MCPRemoteProxySpec, [])];
}

/** The two CRDs as client-node models (whose serialiser keeps the x-kubernetes-* keys). */
export function workloadCrds(): V1CustomResourceDefinition[] {
  return loadAllYaml(workloadCrdObjects().map((o) => stringify(o)).join('---\n')) as V1CustomResourceDefinition[];
}
