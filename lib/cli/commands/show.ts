import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../command.ts';
import { UsageError } from '../io.ts';
import { apiOption, contextOption, kubeconfigOption, namespaceOption } from '../options.ts';

export default defineCommand({
  path: ['show'],
  summary: 'one server: registries that carry it, versions, image or URL, env vars, tools',
  define: (cmd, ctx) =>
    cmd
      .description(
        `Shows one server by its ToolHive name (postgres-mcp-pro) or upstream name
(io.github.stacklok/postgres-mcp-pro): the registries you may read that carry it and their
versions, its image or remote URL, transport, environment variables (required, secret,
default), tools, and the ToolHive workloads (MCPServers, MCPRemoteProxies) labelled with it
in the cluster. Without --registry, the first registry that carries it is shown;
--version shows another version than the latest. The query API is found as for search.`,
      )
      .argument('<SERVER>', 'the server')
      .option('--registry <NS/NAME>', 'the registry whose entry to show')
      .option('--version <V>', 'a version other than the latest')
      .addOption(new Option('-o, --output <FORMAT>', 'json|yaml|name (default: the details)').choices(['json', 'yaml', 'name'] as const))
      .addOption(apiOption())
      .addOption(kubeconfigOption())
      .addOption(contextOption())
      .addOption(namespaceOption())
      .action(async (server, options) => {
        const ref = options.registry;
        if (ref !== undefined && !/^[^/\s]+\/[^/\s]+$/.test(ref)) throw new UsageError(`show: --registry must be NAMESPACE/NAME, not ${JSON.stringify(ref)}`);
        const { connectQueryApi } = await import('../query-api.ts');
        const { showServer, workloadsOf } = await import('../show.ts');
        const { renderDocument } = await import('../output.ts');
        const { serverDetails } = await import('../server-view.ts');
        const api = await connectQueryApi(options, ctx.env, ref ? { namespace: ref.split('/')[0]!, name: ref.split('/')[1]! } : undefined);
        const view = await showServer(api, server, { registry: ref, version: options.version });
        const workloads = await workloadsOf(api, view.name, view.upstreamName);
        if (workloads) view.workloads = workloads;
        if (options.output === 'name') ctx.io.stdout.write(`${view.name}\n`);
        else if (options.output) ctx.io.stdout.write(renderDocument(view, options.output));
        else ctx.io.stdout.write(serverDetails(view));
      }),
});
