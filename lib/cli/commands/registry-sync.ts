import { defineCommand } from '../command.ts';
import { parseDurationFlag } from '../io.ts';
import { contextOption, kubeconfigOption, namespaceOption, timeoutOption, waitOption } from '../options.ts';

export default defineCommand({
  path: ['registry', 'sync'],
  summary: 'sync an MCPRegistry now (the sync-trigger annotation); --wait for the outcome',
  define: (cmd, ctx) =>
    cmd
      .description(
        `Asks for a sync now by setting the toolhive.stacklok.io/sync-trigger annotation to a new value
(it works also when syncPolicy.enabled is false). With --wait, waits until the status records
that value (status.lastManualSyncTrigger) and reports the outcome: exit 0 when the sync
succeeded, 1 with the status message when it failed.`,
      )
      .argument('<NAME>', 'the MCPRegistry')
      .addOption(namespaceOption())
      .addOption(waitOption())
      .addOption(timeoutOption())
      .addOption(kubeconfigOption())
      .addOption(contextOption())
      .action(async (name, options) => {
        const timeoutMs = await parseDurationFlag('registry sync', '--timeout', options.timeout);
        const { SYNC_TRIGGER_ANNOTATION } = await import('../../sync/decide.ts');
        const { connectKube } = await import('../kube.ts');
        const { registryApi } = await import('../registries.ts');
        const { triggerGoal, waitFor } = await import('../wait.ts');
        const target = await connectKube(options, ctx.env);
        const api = registryApi(target);
        const trigger = `mcpreg-${new Date().toISOString()}`;
        await api.annotate(target.namespace, name, { [SYNC_TRIGGER_ANNOTATION]: trigger });
        if (!options.wait) {
          ctx.io.stdout.write(`mcpregistry ${target.namespace}/${name}: sync requested (${SYNC_TRIGGER_ANNOTATION}=${trigger})\n`);
          return;
        }
        ctx.io.stdout.write(await waitFor(triggerGoal(target.namespace, name, trigger), { read: () => api.get(target.namespace, name), timeoutMs, stderr: ctx.io.stderr }));
      }),
});
