import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../command.ts';
import { UsageError } from '../io.ts';
import { addCredentialOptions, addFilterOptions, addGitTargetOptions, addJobOptions, addSourceOptions } from '../options.ts';

export default defineCommand({
  path: ['registry', 'import'],
  summary: 'create an MCPRegistryImportJob (--wait for it), or import between files (--from FILE --to FILE)',
  define: (cmd, ctx) =>
    addJobOptions(
      addGitTargetOptions(
        addCredentialOptions(
          addSourceOptions(
            addFilterOptions(
              cmd
                .usage('[JOB] (--configmap CM[:KEY] | --url URL | --git REPO | --from-registry URL) (--to-configmap CM[:KEY] | --to-registry NAME | --to-git REPO) [options]\n       mcpreg registry import --from FILE|- --to FILE [options]')
                .description(
                  `In the cluster: creates an MCPRegistryImportJob named JOB (default: a generated import-… name)
  that the sync function runs once: the servers of the source (the source flags of registry add)
  filtered, converted (--convert-to) and merged (--mode merge) or replacing (--mode replace)
  into the target: --to-configmap CM[:KEY] (created when missing), --to-registry NAME (that
  MCPRegistry's ConfigMap or git source) or --to-git REPO (commit and push). --registry NAME also
  creates an MCPRegistry reading the target. --plan makes the job report what would change and
  write nothing. --dry-run prints the job instead (YAML, or -o json) for a GitOps repository;
  --wait waits for it to finish and exits 1 with its message when it fails.
  
  Between files (--from FILE, or - for standard input; --to FILE, created when missing): the same
  import without a cluster. --dry-run then reports what would change and writes nothing. The
  summary line counts added, updated, unchanged, kept, removed and skipped (invalid, filtered)
  servers; --report FILE writes the outcome of every server as JSON. An import that changes
  nothing leaves the file untouched.`,
                )
                .argument('[JOB]', 'name of the MCPRegistryImportJob (cluster mode)')
                .option('--from <FILE>', 'between files: the registry document to import (- for standard input)')
                .option('--to <FILE>', 'between files: the registry document to write (created when missing)')
                .addOption(new Option('--mode <MODE>', 'merge|replace (default merge)').choices(['merge', 'replace'] as const))
                .addOption(new Option('--format <FORMAT>', "toolhive|upstream: the source's format (default: detected)").choices(['toolhive', 'upstream'] as const))
                .addOption(new Option('--convert-to <FORMAT>', "toolhive|upstream: the format written (default: the source's)").choices(['toolhive', 'upstream'] as const))
                .option('--report <FILE>', "between files: write every server's outcome (and the counts) as JSON to FILE")
                .option('--to-configmap <CM[:KEY]>', 'target: a ConfigMap key in the namespace (created when missing; key default registry.json)')
                .option('--to-registry <NAME>', "target: that MCPRegistry's source (its ConfigMap key or git file)")
                .option('--registry <NAME>', 'also create an MCPRegistry NAME reading the target (left as it is when it exists)')
                .option('--plan', 'the job reports what would change and writes nothing (spec.dryRun)'),
              { keep: 'import', drop: 'skip' },
            ),
          ),
        ),
      ),
    )
      .addHelpText('after', '\nexit status: 0 imported (or planned, or printed), 1 the job or the import failed (invalid input, unwritable target), 2 usage error')
      .action(async (job, options) => {
        const { fileMode, runJobCommand } = await import('../job-command.ts');
        const cluster = { JOB: job, '--configmap': options.configmap, '--url': options.url, '--git': options.git, '--from-registry': options.fromRegistry, '--auth-secret': options.authSecret, '--allow-http': options.allowHttp, '--to-configmap': options.toConfigmap, '--to-registry': options.toRegistry, '--to-git': options.toGit, '--registry': options.registry, '--plan': options.plan, '--backoff-limit': options.backoffLimit, '--ttl': options.ttl, '--wait': options.wait, '-o': options.output };
        if (fileMode('registry import', options, cluster)) {
          const { importBetweenFiles } = await import('../job-files.ts');
          const result = await importBetweenFiles({ ...options, from: options.from!, to: options.to!, mode: options.mode ?? 'merge', dryRun: options.dryRun ?? false }, ctx.io.stdin);
          ctx.io.stdout.write(result.summary);
          return;
        }
        if (options.report !== undefined) throw new UsageError('registry import: --report applies between files; a job writes its report to the ConfigMap in status.result.reportRef');
        const { importJobFromFlags } = await import('../job-spec.ts');
        await runJobCommand(ctx, 'registry import', options, (ns) => importJobFromFlags(job, ns, options));
      }),
});
