import type { KubeConfig } from '@kubernetes/client-node';
import { RegistryError } from '../errors.ts';
import { parseRegistryDocument, parseRegistryValue, type ParsedDocument } from '../formats/parse.ts';
import { GitTarget, MCPRegistryImportJobSpec, type ConfigMapTarget } from '../kube/job-specs.ts';
import { MCPRegistrySpec } from '../kube/mcpregistry-spec.ts';
import { createResourceClient } from '../kube/registry-client.ts';
import type { KubeObject } from '../kube/objects.ts';
import { createKubeSecretReader } from '../kube/secrets.ts';
import type { SnapshotStore } from '../snapshots/store.ts';
import { createSource as defaultCreateSource } from '../sources/index.ts';
import type { FetchPolicy, Source } from '../sources/types.ts';
import type { SourceSpec } from '../kube/mcpregistry-spec.ts';
import { CONFIGMAP_MAX_BYTES, readConfigMapKey, writeConfigMapKey } from './configmap-target.ts';
import { gitLocation, updateGitFile } from './git-target.ts';
import { planImport, summarizeImport, type ImportPlan } from './import-plan.ts';
import { ensureRegistry } from './import-registry.ts';
import type { JobWork } from './lifecycle.ts';
import { parseSpec } from './run-export.ts';

/**
 * An MCPRegistryImportJob's work: read the source (any MCPRegistry source type, with its
 * Secrets and the SSRF policy), plan the import against the target (a ConfigMap key, a git
 * file, or the source of the MCPRegistry `target.registryRef` names) as it is now, write it
 * (unless dryRun) and the per-server report, which goes to a ConfigMap named in
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

/** Where an import writes: a ConfigMap key or a git file; `registryRef` resolves to its registry's source. */
export type ResolvedImportTarget = { kind: 'configMap'; configMap: ConfigMapTarget } | { kind: 'git'; git: GitTarget };

async function resolveTarget(deps: ImportDeps, spec: MCPRegistryImportJobSpec, ns: string): Promise<ResolvedImportTarget> {
  const t = spec.target;
  if (t.configMap) return { kind: 'configMap', configMap: t.configMap };
  if (t.git) return { kind: 'git', git: t.git };
  const ref = t.registryRef!;
  const where = { path: 'spec.target.registryRef.name' };
  const registry = await createResourceClient(deps.kubeConfig, 'mcpregistries').get(ns, ref.name);
  if (!registry) throw new RegistryError('not_found', `MCPRegistry ${ns}/${ref.name} not found`, { where });
  const parsed = MCPRegistrySpec.safeParse(registry.spec);
  if (!parsed.success) throw new RegistryError('invalid_argument', `MCPRegistry ${ns}/${ref.name} has an invalid spec`, { where });
  const source = parsed.data.source;
  if (source.type === 'configmap' && source.configMap) return { kind: 'configMap', configMap: { name: source.configMap.name, key: source.configMap.key } };
  if (source.type === 'git' && source.git && !source.git.tag && !source.git.commit) {
    const g = source.git;
    return { kind: 'git', git: GitTarget.parse({ repository: g.repository, ...(g.branch ? { branch: g.branch } : {}), path: g.path, ...(g.authSecret ? { authSecret: g.authSecret } : {}), allowHttp: g.allowHttp }) };
  }
  throw new RegistryError(
    'invalid_argument',
    `MCPRegistry ${ns}/${ref.name} reads a ${source.type} source${source.type === 'git' ? ' pinned to a tag or commit' : ''}, which an import cannot write; import into a registry whose source is a ConfigMap or a git branch, or use spec.target.configMap / spec.target.git`,
    { where },
  );
}

export async function runImport(deps: ImportDeps, job: KubeObject): Promise<JobWork> {
  const spec = parseSpec(MCPRegistryImportJobSpec, job);
  const ns = job.metadata.namespace ?? 'default';
  const target = await resolveTarget(deps, spec, ns);
  const incoming = await readSource(deps, spec, ns, job.metadata.name);
  const now = deps.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  let plan: ImportPlan | undefined;
  /** the target's current text → the plan, and the text to write (null: nothing to write) */
  const compute = (currentText: string | null, file: string): string | null => {
    const existing = currentText === null ? null : { document: parseRegistryDocument(currentText, { file, mode: 'lenient' }), text: currentText };
    plan = planImport({ incoming, existing, mode: spec.mode, convertTo: spec.convertTo, filter: spec.filter, now });
    return !spec.dryRun && plan.changed ? plan.text : null;
  };
  let location: string;
  let wrote = false;
  let commit = '';
  if (target.kind === 'git') {
    const written = await updateGitFile({
      target: target.git,
      secrets: createKubeSecretReader(deps.kubeConfig, ns),
      policy: deps.policy,
      signal: AbortSignal.timeout(deps.deadlineMs),
      now: deps.now,
      defaultMessage: () => `MCPRegistryImportJob ${ns}/${job.metadata.name}: ${summarizeImport(plan!.counts, false)}`,
      compute: (current) => compute(current, `${gitLocation(target.git)}`),
    });
    location = written.location;
    wrote = written.commit !== null;
    if (written.commit) commit = ` (commit ${written.commit.slice(0, 12)})`;
  } else {
    const { name, key } = target.configMap;
    location = `configmap/${ns}/${name}#${key}`;
    const text = compute(await readConfigMapKey(deps.kubeConfig, ns, name, key), `configmap ${ns}/${name} key ${key}`);
    if (text !== null) {
      wrote = await writeConfigMapKey(deps.kubeConfig, {
        namespace: ns,
        name,
        key,
        text,
        instead: 'import into a git repository instead (spec.target.git), or narrow spec.filter',
      });
    }
  }
  const done = plan!;
  let registryNote = '';
  if (spec.registry) {
    const ref = `MCPRegistry ${ns}/${spec.registry.name}`;
    if (spec.dryRun) registryNote = `; ${ref} would be created unless it exists`;
    else {
      const ensured = await ensureRegistry(deps.kubeConfig, { namespace: ns, registry: spec.registry, target, format: done.format, job: `${ns}/${job.metadata.name}` });
      registryNote = ensured.created ? `; ${ref} created, reading ${location}` : `; ${ref} exists: left as it is`;
    }
  }
  const reportText = `${JSON.stringify({ job: `${ns}/${job.metadata.name}`, dryRun: spec.dryRun, location, counts: done.counts, servers: done.report }, null, 2)}\n`;
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
  const c = done.counts;
  const message = `${location}: ${summarizeImport(c, spec.dryRun)}${spec.dryRun ? ' (dry run: nothing written)' : wrote ? commit : ' (already up to date: unchanged)'}${registryNote}; report in ${reportRef}`;
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
