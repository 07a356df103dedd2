/**
 * API group, version and names of this project's custom resources, and the plural that
 * Knative's ApiServerSource derives from a kind. The CRDs in `crds/` are generated from
 * these constants (scripts/gen-crds.ts), so code and manifests cannot disagree.
 */

export const GROUP = 'toolhive.stacklok.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** `kubectl get toolhive` / `kubectl get mcp` list every resource of these categories. */
export const CATEGORIES = ['toolhive', 'mcp'] as const;

export interface ResourceNames {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
}

function names(kind: string, shortNames: string[]): ResourceNames {
  return { kind, listKind: `${kind}List`, plural: guessPlural(kind), singular: kind.toLowerCase(), shortNames };
}

export const MCP_REGISTRY = names('MCPRegistry', ['mcpreg']);
export const MCP_REGISTRY_SYNC_JOB = names('MCPRegistrySyncJob', ['mcpregsync']);
export const MCP_REGISTRY_IMPORT_JOB = names('MCPRegistryImportJob', ['mcpregimport']);
export const MCP_REGISTRY_EXPORT_JOB = names('MCPRegistryExportJob', ['mcpregexport']);

export const RESOURCES = [MCP_REGISTRY, MCP_REGISTRY_SYNC_JOB, MCP_REGISTRY_IMPORT_JOB, MCP_REGISTRY_EXPORT_JOB] as const;

/** Label that lets Knative's ApiServerSource watch only the ConfigMaps that hold registries. */
export const REGISTRY_SOURCE_LABEL = `${GROUP}/registry-source`;

/**
 * The resource name Kubernetes' `UnsafeGuessKindToResource` derives from a kind, which is
 * what Knative's ApiServerSource uses for its RBAC check and its watch: lower-cased kind,
 * then `s` → `ses`, `y` → `ies`, otherwise `+s`. A CRD whose plural differs is never watched.
 */
export function guessPlural(kind: string): string {
  const singular = kind.toLowerCase();
  if (singular === '') return '';
  if (singular.endsWith('s')) return `${singular}es`;
  if (singular.endsWith('y')) return `${singular.slice(0, -1)}ies`;
  return `${singular}s`;
}
