import type { CliContext } from './command.ts';
import { parseDurationFlag, UsageError } from './io.ts';
import type { JobObject } from './job-spec.ts';
import type { KubeFlags } from './kube.ts';

/**
 * `registry import|export` in cluster mode, after the flags became a job: print it
 * (--dry-run), or create it in the cluster and, with --wait, wait for it to finish.
 */

export interface JobCommandFlags extends KubeFlags {
  dryRun?: boolean;
  output?: 'yaml' | 'json' | 'name';
  wait?: boolean;
  timeout: string;
}

export async function runJobCommand(ctx: CliContext, command: string, flags: JobCommandFlags, build: (namespace: string | undefined) => JobObject): Promise<void> {
  if (flags.dryRun && flags.wait) throw new UsageError(`${command}: --dry-run and --wait exclude each other`);
  const timeoutMs = await parseDurationFlag(command, '--timeout', flags.timeout);
  const { objectName, renderDocument } = await import('./output.ts');
  const { GROUP } = await import('../kube/resources.ts');
  const name = (o: { kind: string; metadata: { name?: string } }, suffix: string) => `${objectName(o.kind, GROUP, o.metadata.name ?? '')}${suffix}\n`;
  if (flags.dryRun) {
    const object = build(flags.namespace);
    ctx.io.stdout.write(flags.output === 'name' ? name(object, ' (dry run)') : renderDocument(object, flags.output ?? 'yaml'));
    return;
  }
  const { connectKube } = await import('./kube.ts');
  const target = await connectKube(flags, ctx.env);
  const object = build(target.namespace);
  const { jobApi } = await import('./jobs.ts');
  const api = jobApi(target, object.kind as 'MCPRegistryImportJob' | 'MCPRegistryExportJob');
  const created = await api.create(object);
  if (flags.output === 'json' || flags.output === 'yaml') ctx.io.stdout.write(renderDocument(created, flags.output));
  else ctx.io.stdout.write(name(created, ' created'));
  if (flags.wait) {
    const { jobGoal, waitFor } = await import('./wait.ts');
    const ns = created.metadata.namespace ?? target.namespace;
    ctx.io.stdout.write(await waitFor(jobGoal(created.kind, ns, created.metadata.name), { read: () => api.get(ns, created.metadata.name), timeoutMs, stderr: ctx.io.stderr }));
  }
}

/** --from/--to (file mode) or neither (cluster mode); a flag of the other mode is a usage error. */
export function fileMode(command: string, flags: { from?: string; to?: string }, clusterFlags: Record<string, unknown>): boolean {
  const file = flags.from !== undefined || flags.to !== undefined;
  if (file && (flags.from === undefined || flags.to === undefined)) throw new UsageError(`${command}: --from and --to go together (between files); without both, the command creates a job in the cluster`);
  if (file) {
    const other = Object.entries(clusterFlags).find(([, v]) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0));
    if (other) throw new UsageError(`${command}: ${other[0]} applies to the job in the cluster, not between files (--from/--to)`);
  }
  return file;
}
