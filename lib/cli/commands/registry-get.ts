import { defineCommand } from '../command.ts';
import { Option } from '@commander-js/extra-typings';
import { contextOption, kubeconfigOption, namespaceOption, OUTPUT_FORMATS } from '../options.ts';

export default defineCommand({
  path: ['registry', 'get'],
  summary: 'one MCPRegistry: source, conditions, counts, snapshot, last error, next sync',
  define: (cmd, ctx) =>
    cmd
      .description(
        `Shows one MCPRegistry: its source, filter and schedule, phase, server count, the snapshot
it serves and where the API serves it, the last sync, the next one, the last error and every
condition. -o table|wide prints its row of \`registry list\`; -o json|yaml the whole object.`,
      )
      .argument('<NAME>', 'the MCPRegistry')
      .addOption(namespaceOption())
      .addOption(new Option('-o, --output <FORMAT>', `output format: ${OUTPUT_FORMATS.join('|')} (default: the details)`).choices(OUTPUT_FORMATS))
      .addOption(kubeconfigOption())
      .addOption(contextOption())
      .action(async (name, options) => {
        const { connectKube } = await import('../kube.ts');
        const { registryApi, registryNotFound } = await import('../registries.ts');
        const { registryColumns, registryDetails, registryName } = await import('../registry-view.ts');
        const { renderObjects } = await import('../output.ts');
        const target = await connectKube(options, ctx.env);
        const object = await registryApi(target).get(target.namespace, name);
        if (!object) throw registryNotFound(target.namespace, name);
        const now = Date.now();
        ctx.io.stdout.write(options.output === undefined ? registryDetails(object, now) : renderObjects([object], options.output, { columns: registryColumns(false, now), name: registryName, single: true }));
      }),
});
