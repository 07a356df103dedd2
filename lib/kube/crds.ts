import { stringify } from 'yaml';
import type { z } from 'zod';
import { toStructuralSchema, type JsonSchema } from './crd-schema.ts';
import {
  JobStatus,
  MCPRegistryExportJobSpec,
  MCPRegistryImportJobSpec,
  MCPRegistrySyncJobSpec,
} from './job-specs.ts';
import { MCPRegistrySpec } from './mcpregistry-spec.ts';
import { MCPRegistryStatus } from './mcpregistry-status.ts';
import {
  CATEGORIES,
  GROUP,
  MCP_REGISTRY,
  MCP_REGISTRY_EXPORT_JOB,
  MCP_REGISTRY_IMPORT_JOB,
  MCP_REGISTRY_SYNC_JOB,
  VERSION,
  type ResourceNames,
} from './resources.ts';

/**
 * The CustomResourceDefinitions of this project, built from the zod schemas. `crds/*.yaml`
 * are these objects rendered by scripts/gen-crds.ts; a test fails when they differ, so the
 * committed YAML and the types used by the code are the same thing.
 */

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  /** 1 = shown only with `kubectl get -o wide` */
  priority?: number;
}

export interface CrdDefinition {
  names: ResourceNames;
  /** file name under crds/ */
  file: string;
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const readyOf = (field: 'status' | 'reason') => `.status.conditions[?(@.type=="Ready")].${field}`;

export const CRD_DEFINITIONS: readonly CrdDefinition[] = [
  {
    names: MCP_REGISTRY,
    file: 'mcpregistries.yaml',
    description:
      'MCPRegistry declares a registry of MCP servers: where its document comes from, how it is filtered, and how often it is synced. ' +
      'The sync function publishes each sync as an immutable snapshot that the query API serves.',
    spec: MCPRegistrySpec,
    status: MCPRegistryStatus,
    printerColumns: [
      { name: 'Ready', type: 'string', jsonPath: readyOf('status'), description: 'Whether a current snapshot is served' },
      { name: 'Servers', type: 'integer', jsonPath: '.status.serverCount', description: 'Servers in the published snapshot' },
      { name: 'Last Sync', type: 'date', jsonPath: '.status.lastSyncTime', description: 'When the last successful sync finished' },
      { name: 'Source', type: 'string', jsonPath: '.spec.source.type', description: 'Source type' },
      { name: 'Deployed', type: 'integer', jsonPath: '.status.workloads.associated', description: 'Workloads (MCPServers, MCPRemoteProxies) associated with the registry' },
      AGE,
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', priority: 1 },
      { name: 'Invalid', type: 'integer', jsonPath: '.status.invalidCount', priority: 1, description: 'Entries skipped as invalid' },
      // a string, not a date: kubectl renders a future date as <invalid>
      { name: 'Next Sync', type: 'string', jsonPath: '.status.nextSyncTime', priority: 1, description: 'When the next sync is due (RFC 3339)' },
      { name: 'Snapshot', type: 'string', jsonPath: '.status.snapshot.hash', priority: 1, description: 'Hash of the published snapshot' },
      { name: 'Reason', type: 'string', jsonPath: readyOf('reason'), priority: 1, description: 'Reason of the Ready condition' },
      { name: 'Behind', type: 'integer', jsonPath: '.status.workloads.behind', priority: 1, description: 'Associated workloads not running their current entry' },
    ],
  },
  {
    names: MCP_REGISTRY_SYNC_JOB,
    file: 'mcpregistrysyncjobs.yaml',
    description: 'MCPRegistrySyncJob asks for one immediate sync of an MCPRegistry and records its outcome.',
    spec: MCPRegistrySyncJobSpec,
    status: JobStatus,
    printerColumns: [
      { name: 'Registry', type: 'string', jsonPath: '.spec.registryRef.name' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Servers', type: 'integer', jsonPath: '.status.result.serverCount' },
      { name: 'Completed', type: 'date', jsonPath: '.status.completionTime' },
      AGE,
      { name: 'Message', type: 'string', jsonPath: '.status.result.message', priority: 1 },
    ],
  },
  {
    names: MCP_REGISTRY_IMPORT_JOB,
    file: 'mcpregistryimportjobs.yaml',
    description: 'MCPRegistryImportJob loads the servers of a source into a ConfigMap key, merged or replacing, once, and records the outcome with a per-server report.',
    spec: MCPRegistryImportJobSpec,
    status: JobStatus,
    printerColumns: [
      { name: 'Source', type: 'string', jsonPath: '.spec.source.type' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Servers', type: 'integer', jsonPath: '.status.result.serverCount', description: 'Servers in the written document' },
      { name: 'Added', type: 'integer', jsonPath: '.status.result.counts.added' },
      { name: 'Updated', type: 'integer', jsonPath: '.status.result.counts.updated' },
      { name: 'Completed', type: 'date', jsonPath: '.status.completionTime' },
      AGE,
      { name: 'Removed', type: 'integer', jsonPath: '.status.result.counts.removed', priority: 1 },
      { name: 'Invalid', type: 'integer', jsonPath: '.status.result.counts.skippedInvalid', priority: 1 },
      { name: 'Dry Run', type: 'boolean', jsonPath: '.spec.dryRun', priority: 1 },
      { name: 'Report', type: 'string', jsonPath: '.status.result.reportRef', priority: 1 },
      { name: 'Message', type: 'string', jsonPath: '.status.result.message', priority: 1 },
    ],
  },
  {
    names: MCP_REGISTRY_EXPORT_JOB,
    file: 'mcpregistryexportjobs.yaml',
    description: "MCPRegistryExportJob writes a registry's current snapshot in a chosen format to a ConfigMap or an object key of the snapshot bucket, once, and records the outcome.",
    spec: MCPRegistryExportJobSpec,
    status: JobStatus,
    printerColumns: [
      { name: 'Registry', type: 'string', jsonPath: '.spec.registryRef.name' },
      { name: 'Format', type: 'string', jsonPath: '.spec.format' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Servers', type: 'integer', jsonPath: '.status.result.serverCount', description: 'Servers exported' },
      { name: 'Location', type: 'string', jsonPath: '.status.result.location', description: 'Where the export was written' },
      { name: 'Completed', type: 'date', jsonPath: '.status.completionTime' },
      AGE,
      { name: 'Bytes', type: 'integer', jsonPath: '.status.result.bytes', priority: 1 },
      { name: 'Snapshot', type: 'string', jsonPath: '.status.result.snapshotHash', priority: 1, description: 'Hash of the snapshot exported' },
      { name: 'Message', type: 'string', jsonPath: '.status.result.message', priority: 1 },
    ],
  },
];

export function openApiSchema(def: CrdDefinition): JsonSchema {
  return {
    description: def.description,
    type: 'object',
    properties: {
      apiVersion: {
        description: 'APIVersion defines the versioned schema of this representation of an object.',
        type: 'string',
      },
      kind: { description: 'Kind is a string value representing the REST resource this object represents.', type: 'string' },
      metadata: { type: 'object' },
      spec: toStructuralSchema(def.spec),
      status: toStructuralSchema(def.status),
    },
    required: ['spec'],
  };
}

export function buildCrd(def: CrdDefinition): JsonSchema {
  const { names } = def;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'knative-mcp-registry' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: names.kind,
        listKind: names.listKind,
        plural: names.plural,
        singular: names.singular,
        shortNames: names.shortNames,
        categories: [...CATEGORIES],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema: openApiSchema(def) },
        },
      ],
    },
  };
}

export const GENERATED_HEADER = [
  '# Generated by scripts/gen-crds.ts from the zod schemas in lib/kube/ - do not edit by hand.',
  '# Regenerate with `npx node scripts/gen-crds.ts`; a test fails when this file is stale.',
].join('\n');

/** The exact text of `crds/<file>`. */
export function renderCrdYaml(def: CrdDefinition): string {
  return `${GENERATED_HEADER}\n${stringify(buildCrd(def), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
