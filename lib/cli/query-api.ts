import { CliFailure, oneLine, UsageError } from './io.ts';
import { bearerHeader, connectKube, networkCode, type KubeFlags, type KubeTarget } from './kube.ts';

/**
 * The query API as the CLI reaches it. Its base URL: `--api URL`, else `$MCPREG_API`, else the
 * `status.apiEndpoint` of a registry (the one named, else the first in the namespace, else in
 * any namespace) found through the kubeconfig. Requests go out without credentials; when the
 * API answers 401 asking for a bearer token (MCPREG_AUTH=kubernetes), they are repeated with
 * the kubeconfig user's token — so a token is only ever sent to an API that asks for one.
 */
export interface QueryApiFlags extends KubeFlags {
  api?: string;
}

export interface QueryApi {
  readonly base: string;
  /** GET a JSON document; a problem answer becomes a CliFailure, unless its status is in `accept` */
  get<T>(path: string, accept?: readonly number[]): Promise<{ status: number; body: T }>;
  /** the Kubernetes connection, when one was needed (or can be made) */
  kube(): Promise<KubeTarget>;
}

const MAX_BYTES = 64 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

/** `http://h:8080/registries/default/toolhive` → `http://h:8080` */
export function apiBaseFromEndpoint(endpoint: string): string {
  return endpoint.replace(/\/registries\/[^/]+\/[^/]+(\/v0(\.1)?)?\/?$/, '').replace(/\/+$/, '');
}

function checkedBase(url: string, from: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${from}: ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`${from}: ${JSON.stringify(url)} is not an http(s) URL`);
  return url.replace(/\/+$/, '');
}

interface RegistryRefLike {
  namespace: string;
  name: string;
}

export async function connectQueryApi(flags: QueryApiFlags, env: NodeJS.ProcessEnv, registry?: RegistryRefLike): Promise<QueryApi> {
  let target: KubeTarget | undefined;
  const kube = async () => (target ??= await connectKube(flags, env));
  let base: string;
  if (flags.api !== undefined) base = checkedBase(flags.api, '--api');
  else if (env.MCPREG_API) base = checkedBase(env.MCPREG_API, 'MCPREG_API');
  else base = await baseFromRegistries(await kube(), registry);

  let authorization: string | undefined;
  async function send(path: string): Promise<Response> {
    const url = `${base}${path}`;
    try {
      return await fetch(url, { headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) }, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
    } catch (e) {
      const why = (e as Error).name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000}s` : (networkCode(e) ?? oneLine(((e as { cause?: Error }).cause ?? (e as Error)).message));
      throw new CliFailure(`cannot reach the query API at ${base} (${why})${flags.api === undefined && !env.MCPREG_API ? '; set MCPREG_API or pass --api URL' : ''}`);
    }
  }
  return {
    base,
    kube,
    async get<T>(path: string, accept: readonly number[] = []) {
      let res = await send(path);
      if (res.status === 401 && /bearer/i.test(res.headers.get('www-authenticate') ?? '') && authorization === undefined) {
        await res.body?.cancel();
        let t: KubeTarget;
        try {
          t = await kube();
        } catch (e) {
          throw new CliFailure(`the query API at ${base} requires a bearer token (MCPREG_AUTH=kubernetes), and no kubeconfig user can give one: ${(e as Error).message}`);
        }
        authorization = await bearerHeader(t);
        if (!authorization) throw new CliFailure(`the query API at ${base} requires a bearer token (MCPREG_AUTH=kubernetes); the kubeconfig user of context "${t.context}" has none`);
        res = await send(path);
      }
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > MAX_BYTES) throw new CliFailure(`the query API's answer to ${path} is over ${MAX_BYTES} bytes`);
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new CliFailure(`the query API at ${base} answered ${path} with HTTP ${res.status} and no JSON`);
      }
      if (res.status >= 400 && !accept.includes(res.status)) {
        const p = body as { title?: string; detail?: string };
        const why = p.detail && p.detail !== p.title ? `${p.title ?? ''}: ${p.detail}` : (p.title ?? '');
        if (res.status === 401) throw new CliFailure(`the query API at ${base} refused the kubeconfig user's token (HTTP 401)`);
        throw new CliFailure(`query API: HTTP ${res.status} ${oneLine(why)}`);
      }
      return { status: res.status, body: body as T };
    },
  };
}

async function baseFromRegistries(target: KubeTarget, registry: RegistryRefLike | undefined): Promise<string> {
  const { registryApi, registryNotFound } = await import('./registries.ts');
  const api = registryApi(target);
  const endpointOf = (o: { status?: unknown }) => (o.status as { apiEndpoint?: string } | undefined)?.apiEndpoint;
  if (registry) {
    const o = await api.get(registry.namespace, registry.name);
    if (!o) throw registryNotFound(registry.namespace, registry.name);
    const endpoint = endpointOf(o);
    if (!endpoint) throw new CliFailure(`mcpregistry ${registry.namespace}/${registry.name} has no status.apiEndpoint yet: pass --api URL or set MCPREG_API`);
    return apiBaseFromEndpoint(endpoint);
  }
  let found = (await api.list(target.namespace)).map(endpointOf).find(Boolean);
  if (!found) {
    try {
      found = (await api.list(undefined)).map(endpointOf).find(Boolean);
    } catch {
      // may not list across namespaces: the hint below says what to do
    }
  }
  if (!found) throw new CliFailure('no query API: pass --api URL or set MCPREG_API (no MCPRegistry in reach has a status.apiEndpoint)');
  return apiBaseFromEndpoint(found);
}
