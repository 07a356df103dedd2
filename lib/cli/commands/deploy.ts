import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../command.ts';
import { UsageError } from '../io.ts';
import { apiOption, contextOption, kubeconfigOption, namespaceOption, repeatableOption } from '../options.ts';

export default defineCommand({
  path: ['deploy'],
  summary: 'deploy a server from a registry as a ToolHive MCPServer or MCPRemoteProxy',
  define: (cmd, ctx) =>
    cmd
      .description(
        `Creates the ToolHive workload that runs a server of a registry: an MCPServer for a container
image (with its permission profile in a ConfigMap), an MCPRemoteProxy for a remote server. It
carries the registry labels (registry-name, registry-namespace, server-name, tier, category)
and is applied with server-side apply under the field manager mcp-registry, so that the fields
you set yourself stay yours. The server is named by its ToolHive or upstream name; the entry
comes from the query API (found as for search).

Variables: --env KEY=VALUE gives a value (required variables without a default need one);
secret variables (and secret headers of remote servers) come only from a Secret in the
workload's namespace: --secret VAR=SECRET/KEY. --dry-run prints what would be applied
(YAML, or -o json), for GitOps, and changes nothing.`,
      )
      .argument('<SERVER>', 'the server (ToolHive or upstream name)')
      .requiredOption('--registry <NS/NAME>', 'the registry whose entry to deploy')
      .option('--name <N>', 'name of the workload (default: the server name)')
      .addOption(namespaceOption())
      .addOption(repeatableOption('--env <KEY=VALUE>', 'a value for a variable of the entry (repeatable)'))
      .addOption(repeatableOption('--secret <VAR=SECRET/KEY>', 'a secret variable or header from a Secret key (repeatable)'))
      .option('--dry-run', 'print what would be applied instead of applying it')
      .addOption(new Option('-o, --output <FORMAT>', 'yaml|json: print the objects (default: a line per object; yaml with --dry-run)').choices(['yaml', 'json'] as const))
      .addOption(apiOption())
      .addOption(kubeconfigOption())
      .addOption(contextOption())
      .action(async (server, options) => {
        const ref = options.registry;
        if (!/^[^/\s]+\/[^/\s]+$/.test(ref)) throw new UsageError(`deploy: --registry must be NAMESPACE/NAME, not ${JSON.stringify(ref)}`);
        if (options.name !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(options.name)) throw new UsageError(`deploy: --name must be a DNS label (lower-case letters, digits, -; at most 63), not ${JSON.stringify(options.name)}`);
        const [registryNs, registryName] = ref.split('/') as [string, string];
        const { parseEnvFlags, parseSecretFlags, registryEntry } = await import('../deploy.ts');
        const env = parseEnvFlags(options.env ?? []);
        const secrets = parseSecretFlags(options.secret ?? []);
        const { connectQueryApi } = await import('../query-api.ts');
        const api = await connectQueryApi({ ...options, namespace: registryNs }, ctx.env, { namespace: registryNs, name: registryName });
        const { entry, snapshot } = await registryEntry(api, server, ref);
        const { planWorkload } = await import('../../deploy/workload.ts');
        const plan = planWorkload(entry, { registry: { namespace: registryNs, name: registryName }, namespace: options.namespace ?? registryNs, workloadName: options.name, env, secrets, snapshot, userValues: [...Object.keys(env), ...Object.keys(secrets)] });
        const objects = [...(plan.configMap ? [plan.configMap] : []), plan.workload];
        const { listDocument, renderDocument } = await import('../output.ts');
        const render = (items: readonly unknown[], format: 'yaml' | 'json') =>
          format === 'json' ? renderDocument(items.length === 1 ? items[0] : listDocument(items), 'json') : items.map((o) => renderDocument(o, 'yaml')).join('---\n');
        if (options.dryRun) {
          ctx.io.stdout.write(render(objects, options.output ?? 'yaml'));
          return;
        }
        const { connectKube, kubeFailure } = await import('../kube.ts');
        const target = await connectKube({ ...options, namespace: options.namespace ?? registryNs }, ctx.env);
        const { applyWorkload } = await import('../../deploy/apply.ts');
        let applied;
        try {
          applied = await applyWorkload(target.kubeConfig, plan);
        } catch (e) {
          const { isRegistryError } = await import('../../errors.ts');
          throw isRegistryError(e) ? e : kubeFailure(e, 'deploy', target);
        }
        const done = [...(applied.configMap ? [applied.configMap] : []), applied.workload];
        if (options.output) ctx.io.stdout.write(render(done, options.output));
        else for (const o of objects) ctx.io.stdout.write(`${o.kind.toLowerCase()}${o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : ''}/${o.metadata.name} serverside-applied\n`);
      }),
});
