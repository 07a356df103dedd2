import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../command.ts';
import { parseDurationFlag } from '../io.ts';
import { contextOption, kubeconfigOption, namespaceOption, timeoutOption } from '../options.ts';

export default defineCommand({
  path: ['registry', 'remove'],
  summary: 'delete an MCPRegistry; --wait until its snapshots are gone',
  define: (cmd, ctx) =>
    cmd
      .description(
        `Deletes an MCPRegistry. The sync function then removes the registry's snapshots from object
storage and releases its finalizer, and the object goes; --wait waits for that.`,
      )
      .argument('<NAME>', 'the MCPRegistry')
      .addOption(namespaceOption())
      .addOption(new Option('--wait', 'wait until the finalizer ran and the object is gone'))
      .addOption(timeoutOption())
      .addOption(kubeconfigOption())
      .addOption(contextOption())
      .action(async (name, options) => {
        const timeoutMs = await parseDurationFlag('registry remove', '--timeout', options.timeout);
        const { connectKube } = await import('../kube.ts');
        const { registryApi, registryNotFound } = await import('../registries.ts');
        const { goneGoal, waitFor } = await import('../wait.ts');
        const target = await connectKube(options, ctx.env);
        const api = registryApi(target);
        if (!(await api.remove(target.namespace, name))) throw registryNotFound(target.namespace, name);
        if (!options.wait) {
          ctx.io.stdout.write(`mcpregistry ${target.namespace}/${name} deletion requested (the sync function removes its snapshots, then the object goes)\n`);
          return;
        }
        ctx.io.stdout.write(await waitFor(goneGoal(target.namespace, name), { read: () => api.get(target.namespace, name), timeoutMs, stderr: ctx.io.stderr }));
      }),
});
