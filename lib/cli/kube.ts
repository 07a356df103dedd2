import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { CliFailure, oneLine } from './io.ts';

/**
 * Kubernetes access for the cluster-facing commands, by kubectl's rules: `--kubeconfig FILE`,
 * else `$KUBECONFIG` (several files, merged; the first current-context wins), else
 * `~/.kube/config`, else the pod's service account. `--context` picks a context; the
 * namespace is `-n`, else the context's, else `default`.
 */
export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface KubeTarget {
  kubeConfig: KubeConfig;
  /** -n, else the context's namespace, else default */
  namespace: string;
  context: string;
  server: string;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export async function connectKube(flags: KubeFlags, env: NodeJS.ProcessEnv): Promise<KubeTarget> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  const files = flags.kubeconfig !== undefined ? [flags.kubeconfig] : (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const home = env.HOME || homedir();
  if (files.length === 0 && home && existsSync(join(home, '.kube', 'config'))) files.push(join(home, '.kube', 'config'));
  if (files.length > 0) {
    files.forEach((file, i) => {
      const into = i === 0 ? kc : new KubeConfig();
      try {
        into.loadFromFile(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CliFailure(`kubeconfig ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : oneLine((e as Error).message)}`);
      }
      if (i > 0) kc.mergeConfig(into, true);
    });
  } else if (existsSync(SERVICE_ACCOUNT_TOKEN)) {
    kc.loadFromCluster();
  } else {
    throw new CliFailure('no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG (local mode writes .mcpreg/kubeconfig)');
  }
  if (flags.context !== undefined) {
    if (!kc.getContextObject(flags.context)) throw new CliFailure(`kubeconfig has no context "${flags.context}" (it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    kc.setCurrentContext(flags.context);
  }
  const context = kc.getCurrentContext();
  const contextObject = kc.getContextObject(context);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new CliFailure(`kubeconfig context "${context || '(none)'}" names no cluster`);
  return { kubeConfig: kc, namespace: flags.namespace || contextObject?.namespace || 'default', context, server: cluster.server };
}

/** The Authorization header the kubeconfig's user sends (token, exec plugin, …), if any. */
export async function bearerHeader(target: KubeTarget): Promise<string | undefined> {
  const options: { headers?: Record<string, string> } = { headers: {} };
  await target.kubeConfig.applyToHTTPSOptions(options as never);
  return options.headers?.Authorization ?? options.headers?.authorization;
}

/** The message of a Kubernetes Status body, if the error carries one. */
function statusMessage(e: unknown): string | undefined {
  const body = (e as { body?: unknown }).body;
  try {
    const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown } | undefined;
    return typeof parsed?.message === 'string' ? parsed.message : undefined;
  } catch {
    return typeof body === 'string' && body.trim() ? body.slice(0, 300) : undefined;
  }
}

/** ECONNREFUSED, ENOTFOUND, …: the code of a network failure, found in its chain of causes */
export function networkCode(e: unknown): string | undefined {
  for (let c: unknown = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (c as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && typeof (errors[0] as { code?: unknown })?.code === 'string') return (errors[0] as { code: string }).code;
  }
  return undefined;
}

/** The HTTP status of a client-node error, if the API server answered. */
export function kubeStatus(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * A client-node failure as one line: what was being done, and what the API server said (its
 * Status message, which names the user and the verb on a 403) or why it could not be reached.
 */
export function kubeFailure(e: unknown, what: string, target: Pick<KubeTarget, 'server'>): CliFailure {
  if (e instanceof CliFailure) return e;
  const status = kubeStatus(e);
  if (status === undefined) {
    const code = networkCode(e);
    const cause = (e as { cause?: Error } | undefined)?.cause ?? (e as Error | undefined);
    return new CliFailure(`${what}: cannot reach the Kubernetes API at ${target.server} (${code ?? oneLine(cause?.message ?? String(e))})`);
  }
  const message = statusMessage(e);
  if (status === 401) return new CliFailure(`${what}: the Kubernetes API at ${target.server} refused the kubeconfig's credentials (HTTP 401)`);
  return new CliFailure(`${what}: ${message ? oneLine(message) : `the Kubernetes API answered HTTP ${status}`}`);
}
