import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../command.ts';
import { parseDurationFlag, UsageError } from '../io.ts';
import { contextOption, kubeconfigOption, namespaceOption, addCredentialOptions, addFilterOptions, addSourceOptions, repeatableOption, timeoutOption, waitOption } from '../options.ts';

export default defineCommand({
  path: ['registry', 'add'],
  summary: 'create an MCPRegistry from flags (or print it with --dry-run -o yaml, for GitOps)',
  define: (cmd, ctx) =>
    addCredentialOptions(addFilterOptions(addSourceOptions(
      cmd
        .usage('NAME (--configmap CM[:KEY] | --url URL | --git REPO | --from-registry URL | --aggregate [NS/]NAME...) [options]')
        .description(
          `Creates an MCPRegistry from flags: exactly one source, and optionally its format, sync interval,
  filters and credentials. The object is checked with the CRD's schema before anything is sent;
  a mistake names the flag. --dry-run prints it instead (YAML, or -o json) to commit to a GitOps
  repository; --wait waits for the first sync and exits 1 with the status message when it fails.
  
  Credentials come from a Secret in the registry's namespace: --auth-secret NAME with one of
  --token-key K (bearer token), --username-key U --password-key P (basic auth), or
  --header NAME --header-key K (a header whose value is the key's). --header NAME=VALUE adds a
  plain request header (never put credentials there).
  
  --aggregate makes a registry that serves the union of other MCPRegistries' snapshots: give it
  once per member, first wins. A member in another namespace (NS/NAME) must carry the annotation
  toolhive.stacklok.io/aggregation-allowed-namespaces listing this namespace.`,
        )
        .argument('<NAME>', 'name of the MCPRegistry')
        .addOption(namespaceOption()))
        .addOption(repeatableOption('--aggregate <[NS/]NAME>', 'source: other MCPRegistries, repeated in priority order (a server name is taken whole from the first that has it)'))
        .option('--allow-partial', 'with --aggregate: publish without members that are missing, not yet synced or not allowed')
        .addOption(new Option('--format <FORMAT>', 'toolhive|upstream: the source\'s format (default: detected)').choices(['toolhive', 'upstream'] as const))
        .option('--interval <DURATION>', 're-sync period, e.g. 30m, 1h (default 1h)'),
      { keep: 'keep', drop: 'drop' },
    ))
      .addOption(waitOption())
      .addOption(timeoutOption())
      .option('--dry-run', 'print the MCPRegistry instead of creating it (needs no cluster)')
      .addOption(new Option('-o, --output <FORMAT>', 'yaml|json|name: print the object (default: a line saying what was created; yaml with --dry-run)').choices(['yaml', 'json', 'name'] as const))
      .addOption(kubeconfigOption())
      .addOption(contextOption())
      .action(async (name, options) => {
        if (options.dryRun && options.wait) throw new UsageError('registry add: --dry-run and --wait exclude each other');
        const timeoutMs = await parseDurationFlag('registry add', '--timeout', options.timeout);
        const { registryFromFlags } = await import('../registry-spec.ts');
        const { renderDocument } = await import('../output.ts');
        if (options.dryRun) {
          const object = registryFromFlags(name, options.namespace, options);
          ctx.io.stdout.write(options.output === 'name' ? `mcpregistry.toolhive.stacklok.io/${name} (dry run)\n` : renderDocument(object, options.output ?? 'yaml'));
          return;
        }
        const { connectKube } = await import('../kube.ts');
        const target = await connectKube(options, ctx.env);
        const object = registryFromFlags(name, target.namespace, options);
        const { registryApi } = await import('../registries.ts');
        const api = registryApi(target);
        const created = await api.create(object as never);
        if (options.output === 'json' || options.output === 'yaml') ctx.io.stdout.write(renderDocument(created, options.output));
        else ctx.io.stdout.write(`mcpregistry.toolhive.stacklok.io/${name} created\n`);
        if (options.wait) {
          const { syncedGoal, waitFor } = await import('../wait.ts');
          ctx.io.stdout.write(await waitFor(syncedGoal(target.namespace, name, created.metadata.generation ?? 1), { read: () => api.get(target.namespace, name), timeoutMs, stderr: ctx.io.stderr }));
        }
      }),
});
