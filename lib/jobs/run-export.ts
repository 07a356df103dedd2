import type { KubeConfig } from '@kubernetes/client-node';
import { RegistryError } from '../errors.ts';
import type { ToolhiveRegistry } from '../formats/toolhive-schema.ts';
import type { ServerResponse } from '../formats/upstream-schema.ts';
import { MCPRegistryExportJobSpec } from '../kube/job-specs.ts';
import type { KubeObject } from '../kube/objects.ts';
import { readPointer, readSnapshotFile } from '../snapshots/read.ts';
import type { SnapshotStore } from '../snapshots/store.ts';
import { createKubeSecretReader } from '../kube/secrets.ts';
import type { FetchPolicy } from '../sources/types.ts';
import { writeConfigMapKey } from './configmap-target.ts';
import { updateGitFile } from './git-target.ts';
import { writeS3Object } from './s3-target.ts';
import { renderExport } from './export-render.ts';
import type { JobWork } from './lifecycle.ts';

/** An MCPRegistryExportJob's work: the registry's current snapshot, rendered, written to its target. */

export interface ExportDeps {
  kubeConfig: KubeConfig;
  store: SnapshotStore;
  /** git targets: the SSRF policy and limits, and one push's deadline */
  policy: FetchPolicy;
  deadlineMs: number;
  now: () => Date;
}

/** Object keys an export may not write: the snapshots and pointers the query API serves. */
const RESERVED_PREFIX = 'registries/';

const decoder = new TextDecoder('utf-8', { fatal: true });

export function parseSpec<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }, job: KubeObject): T {
  const parsed = schema.safeParse(job.spec);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = `spec.${issue?.path.map(String).join('.') ?? ''}`;
  throw new RegistryError('invalid_argument', `${path}: ${issue?.message ?? 'invalid'}`, { where: { path } });
}

export async function runExport(deps: ExportDeps, job: KubeObject): Promise<JobWork> {
  const spec = parseSpec(MCPRegistryExportJobSpec, job);
  const ns = job.metadata.namespace ?? 'default';
  const ref = { namespace: ns, name: spec.registryRef.name };
  const current = await readPointer(deps.store, ref);
  if (!current) {
    // the registry may not have synced yet: worth retrying
    throw new RegistryError('not_found', `MCPRegistry ${ns}/${ref.name} has no published snapshot yet`, { where: { path: 'spec.registryRef.name' }, transient: true });
  }
  const pointer = current.pointer;
  const [toolhive, upstream] = await Promise.all([readSnapshotFile(deps.store, pointer, 'toolhive'), readSnapshotFile(deps.store, pointer, 'upstream')]);
  const content = {
    toolhive: JSON.parse(decoder.decode(toolhive.body)) as ToolhiveRegistry,
    upstream: (JSON.parse(decoder.decode(upstream.body)) as { servers: ServerResponse[] }).servers,
  };
  const out = renderExport(content, spec.format, spec.filter);
  let location: string;
  let wrote = true;
  let commit = '';
  if (spec.target.configMap) {
    const { name, key } = spec.target.configMap;
    location = `configmap/${ns}/${name}#${key}`;
    wrote = await writeConfigMapKey(deps.kubeConfig, { namespace: ns, name, key, text: out.text, instead: 'export to spec.target.git, spec.target.s3 or spec.target.objectKey instead, or narrow spec.filter' });
  } else if (spec.target.objectKey) {
    const key = spec.target.objectKey;
    if (key.startsWith(RESERVED_PREFIX)) {
      throw new RegistryError('invalid_argument', `spec.target.objectKey must not start with ${RESERVED_PREFIX} (the snapshots the query API serves live there)`, { where: { path: 'spec.target.objectKey', key } });
    }
    await deps.store.put(key, Buffer.from(out.text), { contentType: 'application/json' });
    location = key;
  } else if (spec.target.s3) {
    location = (await writeS3Object({ target: spec.target.s3, secrets: createKubeSecretReader(deps.kubeConfig, ns), policy: deps.policy, text: out.text })).location;
  } else if (spec.target.git) {
    const written = await updateGitFile({
      target: spec.target.git,
      secrets: createKubeSecretReader(deps.kubeConfig, ns),
      policy: deps.policy,
      signal: AbortSignal.timeout(deps.deadlineMs),
      now: deps.now,
      defaultMessage: () => `Export snapshot ${pointer.hash.slice(0, 12)} of MCPRegistry ${ns}/${ref.name} (${spec.format}, ${out.serverCount} servers)`,
      compute: (current) => (current === out.text ? null : out.text),
    });
    location = written.location;
    wrote = written.commit !== null;
    if (written.commit) commit = ` in commit ${written.commit}`;
  } else {
    throw new RegistryError('invalid_argument', 'spec.target: set exactly one of configMap, objectKey, s3 and git', { where: { path: 'spec.target' } });
  }
  const message = `exported snapshot ${pointer.hash.slice(0, 12)} of ${ns}/${ref.name}: ${out.serverCount} servers, ${out.bytes} bytes (${spec.format}) to ${location}${wrote ? commit : ' (already held it: unchanged)'}`;
  return { reason: 'Exported', result: { serverCount: out.serverCount, bytes: out.bytes, snapshotHash: pointer.hash, location, message } };
}
