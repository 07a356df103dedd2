import type { KubeConfig } from '@kubernetes/client-node';
import { RegistryError } from '../errors.ts';
import { parseRegistryDocument, parseRegistryValue, type ParsedDocument } from '../formats/parse.ts';
import { MCPRegistryImportJobSpec } from '../kube/job-specs.ts';
import type { KubeObject } from '../kube/objects.ts';
import { createKubeSecretReader } from '../kube/secrets.ts';
import type { SnapshotStore } from '../snapshots/store.ts';
import { createSource as defaultCreateSource } from '../sources/index.ts';
import type { FetchPolicy, Source } from '../sources/types.ts';
import type { SourceSpec } from '../kube/mcpregistry-spec.ts';
import { CONFIGMAP_MAX_BYTES, readConfigMapKey, writeConfigMapKey } from './configmap-target.ts';
import { planImport, summarizeImport } from './import-plan.ts';
import type { JobWork } from './lifecycle.ts';
import { parseSpec } from './run-export.ts';

/**
 * An MCPRegistryImportJob's work: read the source (any MCPRegistry source type, with its
 * Secrets and the SSRF policy), plan the import against the target ConfigMap as it is now,
 * write it (unless dryRun) and the per-server report, which goes to a ConfigMap named in
 * status.result.reportRef (or to the snapshot store when it is over a ConfigMap's size).
 */

export interface ImportDeps {
  kubeConfig: KubeConfig;
  store: SnapshotStore;
  policy: FetchPolicy;
  deadlineMs: number;
  now: () => Date;
  createSource?: (spec: SourceSpec) => Source;
}

const REPORT_KEY = 'report.json';

async function readSource(deps: ImportDeps, spec: MCPRegistryImportJobSpec, ns: string, jobName: string): Promise<ParsedDocument> {
  const source = (deps.createSource ?? defaultCreateSource)(spec.source);
  const fetched = await source.fetch({
    namespace: ns,
    registryName: jobName,
    signal: AbortSignal.timeout(deps.deadlineMs),
    secrets: createKubeSecretReader(deps.kubeConfig, ns),
    policy: deps.policy,
    kubeConfig: deps.kubeConfig,
    force: true,
  });
  if (fetched.kind === 'document') return parseRegistryDocument(fetched.bytes, { file: fetched.file, format: spec.format, mode: 'lenient' });
  if (fetched.kind === 'entries') return parseRegistryValue({ servers: fetched.entries, metadata: { count: fetched.entries.length } }, { file: 'registry API', format: 'upstream', mode: 'lenient' });
  throw new RegistryError('internal', 'the source answered "unchanged" to a forced fetch', { where: { source: spec.source.type } });
}

export async function runImport(deps: ImportDeps, job: KubeObject): Promise<JobWork> {
  const spec = parseSpec(MCPRegistryImportJobSpec, job);
  const ns = job.metadata.namespace ?? 'default';
  const target = spec.target.configMap;
  if (!target) {
    throw new RegistryError('unsupported', 'spec.target.registryRef: importing into a stored registry is not implemented yet; use spec.target.configMap', { where: { path: 'spec.target.registryRef' } });
  }
  const incoming = await readSource(deps, spec, ns, job.metadata.name);
  const currentText = await readConfigMapKey(deps.kubeConfig, ns, target.name, target.key);
  const existing = currentText === null ? null : { document: parseRegistryDocument(currentText, { file: `configmap ${ns}/${target.name} key ${target.key}`, mode: 'lenient' }), text: currentText };
  const plan = planImport({ incoming, existing, mode: spec.mode, convertTo: spec.convertTo, filter: spec.filter, now: deps.now().toISOString().replace(/\.\d{3}Z$/, 'Z') });
  const location = `configmap/${ns}/${target.name}#${target.key}`;
  let wrote = false;
  if (!spec.dryRun && plan.changed) {
    wrote = await writeConfigMapKey(deps.kubeConfig, {
      namespace: ns,
      name: target.name,
      key: target.key,
      text: plan.text,
      instead: 'import into a git repository instead (spec.target.git, not implemented yet), or narrow spec.filter',
    });
  }
  const reportText = `${JSON.stringify({ job: `${ns}/${job.metadata.name}`, dryRun: spec.dryRun, location, counts: plan.counts, servers: plan.report }, null, 2)}\n`;
  const reportName = `${job.metadata.name}-report`.slice(0, 253);
  let reportRef: string;
  if (Buffer.byteLength(reportText) + REPORT_KEY.length < CONFIGMAP_MAX_BYTES) {
    await writeConfigMapKey(deps.kubeConfig, { namespace: ns, name: reportName, key: REPORT_KEY, text: reportText, instead: '' });
    reportRef = `configmap/${ns}/${reportName}#${REPORT_KEY}`;
  } else {
    const key = `jobs/${ns}/${job.metadata.name}/report.json`;
    await deps.store.put(key, Buffer.from(reportText), { contentType: 'application/json' });
    reportRef = key;
  }
  const c = plan.counts;
  const message = `${location}: ${summarizeImport(c, spec.dryRun)}${spec.dryRun ? ' (dry run: nothing written)' : wrote ? '' : ' (already up to date: unchanged)'}; report in ${reportRef}`;
  return {
    reason: spec.dryRun ? 'DryRun' : 'Imported',
    result: {
      serverCount: c.total,
      invalidCount: c.skippedInvalid,
      counts: { added: c.added, updated: c.updated, unchanged: c.unchanged, kept: c.kept, removed: c.removed, skippedInvalid: c.skippedInvalid, skippedFiltered: c.skippedFiltered },
      location,
      reportRef,
      message,
    },
  };
}
