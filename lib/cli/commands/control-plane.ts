import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '../../local/control-plane/index.ts';
import { createLogger } from '../../log.ts';
import { parseCommandArgs, parsePort, UsageError, type CliIo } from '../io.ts';

const HELP = `usage: mcpreg control-plane [options]

Serves enough of the Kubernetes API for kubectl and @kubernetes/client-node on this machine:
namespaces, ConfigMaps, Secrets, RBAC, CRDs and their custom resources, watches. It is a
development and test harness; production runs against a real cluster.

Prints the server URL and the kubeconfig path, then serves until SIGINT or SIGTERM
(state is saved on the way out when --data is given).

options:
  --port PORT      port to listen on (default 6443; 0 picks a free one)
  --host HOST      address to bind (default 127.0.0.1)
  --data DIR       keep state in DIR/state.json and write DIR/kubeconfig
                   (without it: state is in memory only, the kubeconfig goes to a temporary
                   directory removed on exit)
  --tokens FILE    bearer tokens, one per line: token,user,uid,"group1,group2"; turns on RBAC
  --anonymous      accept requests without a token (as system:anonymous; the default without --tokens)
  --no-anonymous   require a token on every request
  -h, --help       this help

kubectl sends kubeconfig tokens only over TLS, so against this plain-HTTP server it is always
anonymous; use --as/--as-group (impersonation) to act as another user under RBAC.
`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('control-plane', args, {
        port: { type: 'string', default: '6443' },
        host: { type: 'string', default: '127.0.0.1' },
        data: { type: 'string' },
        tokens: { type: 'string' },
        anonymous: { type: 'boolean' },
        'no-anonymous': { type: 'boolean' },
        help: { type: 'boolean', short: 'h', default: false },
      }, false);
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const port = parsePort('control-plane', '--port', values.port);
  if (values.anonymous && values['no-anonymous']) throw new UsageError('control-plane: --anonymous and --no-anonymous exclude each other');
  const anonymous = values.anonymous ? true : values['no-anonymous'] ? false : undefined;

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
    io.stdout.write(`control plane: ${cp.url} (${cp.authorization}${anonymous === false || (anonymous === undefined && values.tokens) ? ', tokens required' : ', anonymous allowed'})\n`);
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
