import { defineCommand } from '../command.ts';
import { UsageError } from '../io.ts';
import { allNamespacesOption, contextOption, kubeconfigOption, namespaceOption, outputOption } from '../options.ts';

export default defineCommand({
  path: ['registry', 'list'],
  summary: 'list MCPRegistries with their readiness, server counts and last sync',
  define: (cmd, ctx) =>
    cmd
      .description(
        `Lists the MCPRegistries of a namespace (-n, else the kubeconfig context's) or of every
namespace (-A), with the columns of \`kubectl get mcpregistries\` (-o wide adds phase, invalid
entries, next sync, snapshot and the Ready reason).`,
      )
      .addOption(namespaceOption())
      .addOption(allNamespacesOption())
      .addOption(outputOption())
      .addOption(kubeconfigOption())
      .addOption(contextOption())
      .action(async (options) => {
        if (options.allNamespaces && options.namespace !== undefined) throw new UsageError('registry list: -n and -A exclude each other');
        const { connectKube } = await import('../kube.ts');
        const { registryApi } = await import('../registries.ts');
        const { registryColumns, registryName } = await import('../registry-view.ts');
        const { renderObjects } = await import('../output.ts');
        const target = await connectKube(options, ctx.env);
        const namespace = options.allNamespaces ? undefined : target.namespace;
        const items = await registryApi(target).list(namespace);
        if (items.length === 0 && (options.output === 'table' || options.output === 'wide')) {
          ctx.io.stderr.write(namespace === undefined ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`);
          return;
        }
        ctx.io.stdout.write(renderObjects(items, options.output, { columns: registryColumns(namespace === undefined, Date.now()), name: registryName }));
      }),
});
