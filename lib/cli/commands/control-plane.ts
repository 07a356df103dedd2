import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineCommand } from '../command.ts';
import { parsePort, UsageError, type CliIo } from '../io.ts';

const DESCRIPTION = `Serves enough of the Kubernetes API for kubectl and @kubernetes/client-node on this machine:
namespaces, ConfigMaps, Secrets, RBAC, CRDs and their custom resources, watches. It is a
development and test harness; production runs against a real cluster.

Prints the server URL and the kubeconfig path, then serves until SIGINT or SIGTERM
(state is saved on the way out when --data is given).`;

export default defineCommand({
  path: ['control-plane'],
  summary: 'run the embedded Kubernetes-API control plane (a development and test server, not a cluster)',
  define: (cmd, ctx) =>
    cmd
      .description(DESCRIPTION)
      .option('--port <PORT>', 'port to listen on (default 6443; 0 picks a free one)', '6443')
      .option('--host <HOST>', 'address to bind (default 127.0.0.1)', '127.0.0.1')
      .option('--data <DIR>', 'keep state in DIR/state.json and write DIR/kubeconfig\n(without it: state is in memory only, the kubeconfig goes to a temporary\ndirectory removed on exit)')
      .option('--tokens <FILE>', 'bearer tokens, one per line: token,user,uid,"group1,group2"; turns on RBAC')
      .option('--anonymous', 'accept requests without a token (as system:anonymous; the default without --tokens)')
      .option('--no-anonymous', 'require a token on every request')
      .addHelpText('after', `\nkubectl sends kubeconfig tokens only over TLS, so against this plain-HTTP server it is always
anonymous; use --as/--as-group (impersonation) to act as another user under RBAC.`)
      .action(async (values) => {
        const both = ctx.argv.includes('--anonymous') && ctx.argv.includes('--no-anonymous');
        ctx.exitCode = await controlPlane({ ...values, anonymous: both ? 'both' : values.anonymous }, ctx.io);
      }),
});

async function controlPlane(values: { port: string; host: string; data?: string; tokens?: string; anonymous?: boolean | 'both' }, io: CliIo): Promise<number> {
  const port = parsePort('control-plane', '--port', values.port);
  if (values.anonymous === 'both') throw new UsageError('control-plane: --anonymous and --no-anonymous exclude each other');
  const anonymous = values.anonymous;
  const { startControlPlane } = await import('../../local/control-plane/index.ts');
  const { createLogger } = await import('../../log.ts');
  const scratch = values.data === undefined ? await mkdtemp(join(tmpdir(), 'mcpreg-control-plane-')) : undefined;
  try {
    const cp = await startControlPlane({
      port,
      host: values.host,
      ...(values.data !== undefined ? { dataDir: values.data } : { kubeconfigPath: join(scratch!, 'kubeconfig') }),
      ...(values.tokens !== undefined ? { tokensFile: values.tokens } : {}),
      ...(anonymous !== undefined ? { anonymous } : {}),
      log: createLogger(),
    });
    io.stdout.write(`control plane: ${cp.url} (${cp.authorization}${anonymous === false || (anonymous === undefined && values.tokens !== undefined) ? ', tokens required' : ', anonymous allowed'})\n`);
    io.stdout.write(`kubeconfig: ${cp.kubeconfigPath}\n`);
    io.stdout.write(`try: KUBECONFIG=${cp.kubeconfigPath} kubectl get namespaces\n`);
    await new Promise<void>((resolve) => {
      const done = () => {
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        resolve();
      };
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await cp.stop();
    io.stderr.write('control plane stopped\n');
    return 0;
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
