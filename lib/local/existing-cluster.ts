import { CoreV1Api, CustomObjectsApi, KubeConfig, VersionApi, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { RegistryError } from '../errors.ts';

/**
 * `mcpreg dev --kubeconfig FILE [--context C]`: local mode against a cluster that exists (kind,
 * a cluster without Knative, a test API server) instead of the embedded control plane. This
 * module loads the kubeconfig and checks, before anything else starts, that the cluster answers
 * and has this project's CRDs; each failure is one line saying what to do. It installs nothing:
 * the CRDs are the cluster owner's (`kubectl apply -k crds/`).
 */

export interface ExistingClusterOptions {
  /** kubeconfig file */
  kubeconfig: string;
  /** context of that file (default: its current context) */
  context?: string | undefined;
  /** how long the API server may take to answer the first request (default 15 s) */
  timeoutMs?: number;
}

export interface ExistingCluster<T> {
  kubeConfig: KubeConfig;
  kubeconfigPath: string;
  context: string;
  server: string;
  /** those of the optional kinds (ToolHive's workloads) that the cluster serves */
  served: T[];
}

export const INSTALL_HINT = 'install them: kubectl apply -k crds/';

function fail(message: string, cause?: unknown): RegistryError {
  return new RegistryError('invalid_argument', message, { cause });
}

/** Loads FILE and picks the context, or says in one line why not. */
export function loadKubeconfig(file: string, context: string | undefined): { kubeConfig: KubeConfig; context: string; server: string } {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory, not a file' : oneLine((e as Error).message);
    throw fail(`kubeconfig ${file}: ${why}`, e);
  }
  if (context !== undefined) {
    if (!kc.getContextObject(context)) throw fail(`kubeconfig ${file} has no context "${context}" (it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    kc.setCurrentContext(context);
  }
  const current = kc.getCurrentContext();
  if (!current) throw fail(`kubeconfig ${file} has no current context: pass --context (it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw fail(`kubeconfig ${file}: context "${current}" names no cluster`);
  return { kubeConfig: kc, context: current, server: cluster.server };
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function httpStatus(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** ECONNREFUSED, ENOTFOUND, CERT_…: the code of a network or TLS failure, from its chain of causes */
function networkReason(e: unknown): string {
  for (let c: unknown = e, depth = 0; c && depth < 6; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (c as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && typeof (errors[0] as { code?: unknown })?.code === 'string') return (errors[0] as { code: string }).code;
  }
  return oneLine((e as Error)?.message ?? String(e));
}

async function within<T>(ms: number, what: () => Promise<T>, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([what(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

interface Kind {
  apiVersion: string;
  kind: string;
}

/** the storage version's apiVersion and kind of each CRD, with its name for the message */
function required(crds: readonly V1CustomResourceDefinition[]): Array<Kind & { name: string }> {
  return crds.map((crd) => ({
    apiVersion: `${crd.spec.group}/${crd.spec.versions.find((v) => v.storage)?.name ?? crd.spec.versions[0]!.name}`,
    kind: crd.spec.names.kind,
    name: crd.metadata!.name!,
  }));
}

/**
 * Loads the kubeconfig, asks the API server for its version (reachable, credentials accepted)
 * and reads the discovery documents of the CRDs' groups: every CRD of `crds` must be served;
 * of `optional` (ToolHive's workload kinds, whose CRDs its operator installs) it returns those served.
 * Discovery is open to every authenticated user, so a user without rights on CRDs can start.
 */
export async function connectExistingCluster<T extends Kind>(options: ExistingClusterOptions, crds: readonly V1CustomResourceDefinition[], optional: readonly T[] = []): Promise<ExistingCluster<T>> {
  const { kubeConfig, context, server } = loadKubeconfig(options.kubeconfig, options.context);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const where = `the Kubernetes API at ${server} (context ${context})`;
  try {
    await within(timeoutMs, () => kubeConfig.makeApiClient(VersionApi).getCode(), () => fail(`cannot reach ${where}: no answer within ${Math.round(timeoutMs / 1000)} s`));
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    const status = httpStatus(e);
    if (status === 401) throw fail(`${where} refused the kubeconfig's credentials (HTTP 401)`, e);
    // a 403 on /version: reachable and authenticated, only that path is closed; discovery decides
    if (status === undefined) throw fail(`cannot reach ${where}: ${networkReason(e)}`, e);
    if (status !== 403) throw fail(`${where} answered HTTP ${status} to GET /version`, e);
  }
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const need = required(crds);
  const served = new Map<string, Set<string>>();
  for (const apiVersion of new Set([...need, ...optional].map((k) => k.apiVersion))) {
    const [group, version] = apiVersion.split('/') as [string, string];
    let kinds = new Set<string>();
    try {
      const resources = await within(timeoutMs, () => api.getAPIResources({ group, version }), () => fail(`cannot reach ${where}: no answer within ${Math.round(timeoutMs / 1000)} s`));
      kinds = new Set(resources.resources.filter((r) => !r.name.includes('/')).map((r) => r.kind));
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      const status = httpStatus(e);
      if (status === undefined) throw fail(`cannot reach ${where}: ${networkReason(e)}`, e);
      if (status === 401) throw fail(`${where} refused the kubeconfig's credentials (HTTP 401)`, e);
      // 404: the group/version is not served at all
      if (status !== 404) throw fail(`${where} answered HTTP ${status} to the discovery of ${apiVersion}`, e);
    }
    served.set(apiVersion, kinds);
  }
  const has = (k: Kind) => served.get(k.apiVersion)?.has(k.kind) === true;
  const missing = need.filter((k) => !has(k)).map((k) => k.name);
  if (missing.length > 0) {
    throw fail(`${where} lacks the CustomResourceDefinition${missing.length > 1 ? 's' : ''} ${missing.sort().join(', ')} (${INSTALL_HINT})`);
  }
  return { kubeConfig, kubeconfigPath: options.kubeconfig, context, server, served: optional.filter(has) };
}

/**
 * The namespace of the sync function's Leases: used when it exists, created when it does not
 * (and the user may); anything else is one line naming the namespace and the way out.
 */
export async function ensureLeaseNamespace(kc: KubeConfig, name: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const hint = `create it (kubectl create namespace ${name}) or name another with MCPREG_LEASE_NAMESPACE`;
  try {
    await core.readNamespace({ name });
    return;
  } catch (e) {
    const status = httpStatus(e);
    // a user who may not read namespaces may still hold leases in one that exists: the sync says so if not
    if (status === 403) return;
    if (status !== 404) throw fail(`namespace ${name} (for the sync leases): ${status === undefined ? networkReason(e) : `HTTP ${status}`}`, e);
  }
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (e) {
    const status = httpStatus(e);
    if (status === 409) return;
    throw fail(`namespace ${name} (for the sync leases) does not exist and cannot be created (${status === undefined ? networkReason(e) : `HTTP ${status}`}): ${hint}`, e);
  }
}
