import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../command.ts';
import { addFilterOptions, addGitTargetOptions, addJobOptions } from '../options.ts';

export default defineCommand({
  path: ['registry', 'export'],
  summary: "create an MCPRegistryExportJob of a registry's snapshot (--wait for it), or export between files (--from FILE --to FILE)",
  define: (cmd, ctx) =>
    addJobOptions(
      addGitTargetOptions(
        addFilterOptions(
          cmd
            .usage('[JOB] --registry NAME (--to-configmap CM[:KEY] | --to-object-key KEY | --to-s3 s3://BUCKET/KEY | --to-git REPO) [--format F] [options]\n       mcpreg registry export --from FILE|- --to FILE [--format F] [options]')
            .description(
              `In the cluster: creates an MCPRegistryExportJob named JOB (default: a generated NAME-export-…
  name) that the sync function runs once: the current snapshot of the MCPRegistry --registry NAME,
  or the subset the filters keep, in --format, written to --to-configmap CM[:KEY], --to-object-key
  KEY (the snapshot bucket), --to-s3 s3://BUCKET/KEY (another S3-compatible bucket: --s3-endpoint,
  --s3-credentials-secret, …) or --to-git REPO (commit and push). --dry-run prints the job instead
  (YAML, or -o json) for a GitOps repository; --wait waits for it to finish and exits 1 with its
  message when it fails.
  
  Between files: reads a registry document (--from FILE, or - for standard input; format
  detected) and writes it, or the subset the filters keep, to --to FILE (replaced atomically).
  
  --format:
    toolhive        ToolHive's registry.json
    upstream        ToolHive's upstream file envelope {"$schema","version","meta","data":{"servers":[server.json…]}}
    upstream-list   the registry API's list envelope {"servers":[{"server","_meta"}],"metadata":{"count"}}`,
            )
            .argument('[JOB]', 'name of the MCPRegistryExportJob (cluster mode)')
            .option('--from <FILE>', 'between files: the registry document to read (- for standard input)')
            .option('--to <FILE>', 'between files: the file to write')
            .addOption(new Option('--format <FORMAT>', 'toolhive|upstream|upstream-list (default toolhive)').choices(['toolhive', 'upstream', 'upstream-list'] as const))
            .option('--registry <NAME>', 'the MCPRegistry whose current snapshot is exported (cluster mode)')
            .option('--to-configmap <CM[:KEY]>', 'target: a ConfigMap key in the namespace (created when missing; key default registry.json)')
            .option('--to-object-key <KEY>', 'target: an object key in the snapshot bucket')
            .option('--to-s3 <s3://BUCKET/KEY>', 'target: an object in another S3-compatible bucket')
            .option('--s3-endpoint <URL>', 'with --to-s3: the S3-compatible endpoint (default AWS S3)')
            .option('--s3-region <R>', 'with --to-s3: the region requests are signed for (default us-east-1)')
            .option('--s3-path-style', 'with --to-s3: path-style URLs (MinIO, Ceph, …)')
            .option('--s3-allow-http', 'with --to-s3: allow a plain http:// endpoint')
            .option('--s3-credentials-secret <NAME>', 'with --to-s3: a Secret in the namespace holding the key pair')
            .option('--s3-access-key-id-key <K>', 'with --s3-credentials-secret: the key holding the access key id (default accessKeyId)')
            .option('--s3-secret-access-key-key <K>', 'with --s3-credentials-secret: the key holding the secret access key (default secretAccessKey)'),
          { keep: 'export', drop: 'leave out' },
        ),
      ),
    )
      .addHelpText('after', '\nexit status: 0 written (or the job succeeded, or printed), 1 the job or the export failed (invalid input, unwritable target), 2 usage error')
      .action(async (job, options) => {
        const { fileMode, runJobCommand } = await import('../job-command.ts');
        const cluster = { JOB: job, '--registry': options.registry, '--to-configmap': options.toConfigmap, '--to-object-key': options.toObjectKey, '--to-s3': options.toS3, '--to-git': options.toGit, '--backoff-limit': options.backoffLimit, '--ttl': options.ttl, '--wait': options.wait, '--dry-run': options.dryRun, '-o': options.output };
        if (fileMode('registry export', options, cluster)) {
          const { exportBetweenFiles } = await import('../job-files.ts');
          ctx.io.stdout.write(await exportBetweenFiles({ ...options, from: options.from!, to: options.to!, format: options.format ?? 'toolhive' }, ctx.io.stdin));
          return;
        }
        const { exportJobFromFlags } = await import('../job-spec.ts');
        await runJobCommand(ctx, 'registry export', options, (ns) => exportJobFromFlags(job, ns, options));
      }),
});
