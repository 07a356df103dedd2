import { isAbsolute, relative } from 'node:path';
import type { LogLevel } from '../../log.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { formatDuration, parseDuration } from '../../sync/duration.ts';
import { defineCommand } from '../command.ts';
import { parsePort, UsageError, type CliIo } from '../io.ts';

const DESCRIPTION = `Runs the registry on this machine with no cluster: an embedded Kubernetes API (kubectl works
against it), the sync and query functions, an event bridge that delivers the CloudEvents
Knative's ApiServerSource and PingSource would, a snapshot store, and example registries.
State lives in the data directory; stop with Ctrl-C and start again to resume.
With --kubeconfig an existing cluster (kind, one without Knative) takes the embedded API's
place: the functions and the event bridge still run here, against that cluster.`;

export default defineCommand({
  path: ['dev'],
  summary: 'run the whole registry locally (Kubernetes API, sync and query functions, examples): what `npm start` runs',
  define: (cmd, ctx) =>
    cmd
      .usage('[options]        (npm start -- [options])')
      .description(DESCRIPTION)
      .option('--port <PORT>', 'query API port (default 8080)', '8080')
      .option('--api-port <PORT>', 'Kubernetes API port (default 6443)', '6443')
      .option('--data <DIR>', 'data directory (default .mcpreg): control plane state, kubeconfig,\nsnapshots, example data', '.mcpreg')
      .option('--resync-interval <DUR>', 'period of the resync tick, e.g. 30s, 5m (default 60s; 0 = only at start)', '60s')
      .option('--kubeconfig <FILE>', 'use the cluster of this kubeconfig instead of the embedded Kubernetes API\n(its CRDs must be installed: kubectl apply -k crds/; nothing is installed)')
      .option('--context <NAME>', 'with --kubeconfig: the context to use (default: its current context)')
      .option('--examples', 'start the example servers and apply crds/examples/ on the first start\n(the default without --kubeconfig)')
      .option('--no-examples', 'do not start the example servers nor apply crds/examples/')
      .option('--log-format <FORMAT>', 'text or json: log lines on stderr (default text)', 'text')
      .option('--log-level <LEVEL>', 'debug, info, warn or error (default info)', 'info')
      .option('--metrics', 'serve Prometheus /metrics on the query API and the sync function')
      .addHelpText('after', `\nOn the first start of a data directory the CRDs and crds/examples/ are applied: a ConfigMap
with the real ToolHive registry and four MCPRegistries (configmap, url, git and registry-API
sources, each with a filter). The url, git and registry-API examples are served from
<data>/examples/ by loopback servers on free ports; at each start the example registries are
pointed at the servers' current ports.

Environment: the functions' variables apply (see README: Configuration), for example
MCPREG_STORE=s3 with MCPREG_S3_BUCKET (and the AWS variables) for S3 instead of files,
MCPREG_SYNC_DEADLINE, MCPREG_FETCH_*. Everything listens on 127.0.0.1.

With --kubeconfig FILE [--context NAME] the cluster is checked first (it answers, accepts the
credentials, serves the CRDs of crds/) and each failure is one line; the sync leases go to
namespace mcp-registry (created when missing; MCPREG_LEASE_NAMESPACE names another). The
examples are applied there only with --examples, once per cluster (ConfigMap
kube-system/mcpreg-local-mode records it). MCPServer and MCPRemoteProxy changes are watched
when the cluster has ToolHive's CRDs for them.`)
      .action(async (values, cmd) => {
        ctx.exitCode = await dev({ ...values, apiPortGiven: cmd.getOptionValueSource('apiPort') === 'cli' }, ctx.io);
      }),
});

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  const p = rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
  return /[\s'"$`\\]/.test(p) ? `'${p.replace(/'/g, `'\\''`)}'` : p;
}

interface DevFlags {
  port: string;
  apiPort: string;
  data: string;
  resyncInterval: string;
  /** undefined when neither --examples nor --no-examples was given */
  examples?: boolean;
  kubeconfig?: string;
  context?: string;
  apiPortGiven: boolean;
  logFormat: string;
  logLevel: string;
  metrics?: boolean;
}

async function dev(values: DevFlags, io: CliIo): Promise<number> {
  const queryPort = parsePort('dev', '--port', values.port);
  const apiPort = parsePort('dev', '--api-port', values.apiPort);
  if (queryPort !== 0 && queryPort === apiPort) throw new UsageError(`dev: --port and --api-port are both ${queryPort}`);
  if (values.logFormat !== 'text' && values.logFormat !== 'json') throw new UsageError(`dev: --log-format must be text or json, not ${JSON.stringify(values.logFormat)}`);
  if (!['debug', 'info', 'warn', 'error'].includes(values.logLevel)) throw new UsageError(`dev: --log-level must be debug, info, warn or error, not ${JSON.stringify(values.logLevel)}`);
  if (values.data.trim() === '') throw new UsageError('dev: --data must not be empty');
  let resyncIntervalMs: number;
  try {
    resyncIntervalMs = values.resyncInterval.trim() === '0' ? 0 : parseDuration(values.resyncInterval, '--resync-interval');
  } catch {
    throw new UsageError(`dev: --resync-interval must be a duration such as 30s or 5m (or 0), not ${JSON.stringify(values.resyncInterval)}`);
  }
  if (resyncIntervalMs > 0 && resyncIntervalMs < 1000) throw new UsageError('dev: --resync-interval must be at least 1s (or 0)');
  if (values.kubeconfig !== undefined && values.kubeconfig.trim() === '') throw new UsageError('dev: --kubeconfig must not be empty');
  if (values.context !== undefined && values.kubeconfig === undefined) throw new UsageError('dev: --context needs --kubeconfig');
  if (values.kubeconfig !== undefined && values.apiPortGiven) throw new UsageError('dev: --api-port is the embedded Kubernetes API\'s; with --kubeconfig there is none');
  const cluster = values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig, context: values.context } : undefined;
  const examples = values.examples ?? cluster === undefined;

  const { createLogger } = await import('../../log.ts');
  const log = createLogger({ format: values.logFormat, level: values.logLevel as LogLevel });
  const json = values.logFormat === 'json';
  // lifecycle messages: plain lines for a person, log records with --log-format json
  const say = (message: string, fields: Record<string, unknown> = {}) => {
    if (json) log.info(message, fields);
    else io.stderr.write(`mcpreg dev: ${message}\n`);
  };

  // Signals are handled from the start: one that arrives while starting stops right after it.
  let signals = 0;
  let requestStop: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
  let syncsInProgress = () => 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      say(`${signal} again: stopping at once; syncs in progress are retried at the next start`, { signal });
      process.exit(130);
    }
    const n = syncsInProgress();
    say(`${signal}: stopping${n > 0 ? ` (waiting for ${n} sync${n > 1 ? 's' : ''} in progress; Ctrl-C again to stop at once)` : ''}`, { signal, syncsInProgress: n });
    requestStop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // loaded here so that `mcpreg dev --help` and usage errors stay instant
    const { startDev } = await import('../../local/dev.ts');
    const started = performance.now();
    const dev = await startDev({ dataDir: values.data, port: queryPort, apiPort, resyncIntervalMs, examples, log, ...(cluster ? { cluster } : {}), metrics: values.metrics === true });
    const ms = Math.round(performance.now() - started);
    syncsInProgress = dev.activeSyncs;
    io.stdout.write(summaryText(dev, ms));
    if (json) log.info('running', { startupMs: ms, queryUrl: dev.queryUrl, apiServerUrl: dev.apiServerUrl, kubeconfig: dev.kubeconfigPath, syncUrl: dev.syncUrl, ...(dev.metricsUrls ? { metrics: dev.metricsUrls } : {}), store: dev.store.location, examples: dev.examples });

    await stopRequested;
    try {
      await dev.stop();
    } catch (e) {
      log.error('error while stopping', { error: e instanceof Error ? e.message : String(e) });
    }
    say(`stopped; state saved in ${shown(dev.dataDir)}`, { dataDir: dev.dataDir });
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A path for an export line, usable from any directory: `"$PWD/…"` below the working directory. */
function exported(path: string): string {
  const rel = relative(process.cwd(), path);
  if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return `"$PWD/${rel.replace(/["$`\\]/g, '\\$&')}"`;
  return /[\s'"$`\\]/.test(path) ? `'${path.replace(/'/g, `'\\''`)}'` : path;
}

/** What is running and where, and what to try first. */
function summaryText(dev: DevRuntime, ms: number): string {
  const local = `localhost:${new URL(dev.queryUrl).port}`;
  const kubeconfig = shown(dev.kubeconfigPath) + (dev.context !== undefined ? ` --context ${dev.context}` : '');
  const lines = [
    `mcpreg dev: the MCP registry is running locally (started in ${ms} ms; data in ${shown(dev.dataDir)})`,
    '',
    `  REST API          ${dev.queryUrl}   (/api/v1/servers, /registries/{ns}/{name}/v0.1/servers, /openapi.json, /readyz)`,
    `  Kubernetes API    ${dev.apiServerUrl}   kubeconfig: ${kubeconfig}${dev.context !== undefined ? '   (an existing cluster)' : ''}`,
    `  sync function     ${dev.syncUrl}   CloudEvents from the event bridge; resync ${dev.resyncIntervalMs > 0 ? `every ${formatDuration(dev.resyncIntervalMs)}` : 'at start only'}`,
    ...(dev.metricsUrls ? [`  metrics           ${dev.metricsUrls.query}   ${dev.metricsUrls.sync}   (Prometheus text)`] : []),
    `  snapshots         ${dev.store.kind === 'fs' ? shown(dev.store.location) : `S3 ${dev.store.location}`}`,
  ];
  if (dev.examples) {
    lines.push(`  example sources   url ${dev.examples.url}/registry.json`);
    lines.push(dev.examples.git ? `                    git ${dev.examples.git}/registry.git` : '                    git: not served (git is not available)');
    lines.push(`                    registry API ${dev.examples.registryApi}/v0.1/servers`);
    lines.push(`                    (data in ${shown(`${dev.dataDir}/examples`)})`);
  }
  if (dev.examplesOutcome?.applied) lines.push(`  examples          applied (first start): ${dev.examplesOutcome.created.join(', ')}`);
  lines.push(
    '',
    'Try:',
    `  npm run -s mcpreg -- registry list --kubeconfig ${kubeconfig}`,
    `  npm run -s mcpreg -- search postgres --kubeconfig ${kubeconfig}`,
    `  kubectl --kubeconfig ${kubeconfig} get mcpregistries`,
    // the example registry is there only with the examples
    dev.examples ? `  curl -s '${local}/registries/default/toolhive/v0.1/servers?limit=2'` : `  curl -s '${local}/api/v1/registries'`,
    'For mcpreg and kubectl without --kubeconfig (and mcpreg search without a cluster), export:',
    `  export KUBECONFIG=${exported(dev.kubeconfigPath)} MCPREG_API=${dev.queryUrl}`,
    '',
    `Ctrl-C stops everything; the next start resumes from ${shown(dev.dataDir)}.`,
    '',
  );
  return lines.join('\n');
}
