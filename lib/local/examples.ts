import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  ApiException,
  CoreV1Api,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { RegistryError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { ExampleAddresses } from './example-servers.ts';

/**
 * What local mode puts into its control plane: the CRDs of `crds/` (at every start, so an
 * upgrade takes effect), and once, on the first start of a data directory, the examples of
 * `crds/examples/` with their placeholder addresses rewritten to the example servers.
 *
 * The example servers listen on free ports. An example registry carries the annotation
 * `toolhive.stacklok.io/local-example` naming its server. At a restart each server first tries
 * the port its registries point at (`examplePorts`), so URLs normally stay the same and
 * nothing needs re-syncing; when that port is taken it takes another, and every annotated
 * registry whose URL is still that server's loopback address (same path, another port) is
 * pointed at the new port. A registry whose URL was changed to anything else, or whose
 * annotation was removed, is left alone.
 *
 * "Once" is recorded in the control plane itself (ConfigMap `kube-system/mcpreg-local-mode`),
 * so deleting an example is not undone by the next start, and a fresh state file starts over.
 */

export const EXAMPLE_ANNOTATION = 'toolhive.stacklok.io/local-example';
export const EXAMPLES_NAMESPACE = 'default';
export const MARKER = { namespace: 'kube-system', name: 'mcpreg-local-mode' } as const;

export type ExampleServer = 'url' | 'git' | 'registry-api';

/** The placeholder origins of crds/examples/ and the path each example server serves. */
export const PLACEHOLDERS: Record<ExampleServer, { origin: string; path: string; field: readonly [string, string] }> = {
  url: { origin: 'http://127.0.0.1:8081', path: '/registry.json', field: ['url', 'url'] },
  git: { origin: 'http://127.0.0.1:8082', path: '/registry.git', field: ['git', 'repository'] },
  'registry-api': { origin: 'http://127.0.0.1:8083', path: '/', field: ['registry', 'url'] },
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function addressOf(server: ExampleServer, addresses: ExampleAddresses): string | undefined {
  return server === 'url' ? addresses.url : server === 'git' ? addresses.git : addresses.registryApi;
}

type Registry = KubernetesObject & { spec?: { source?: Record<string, unknown> } };

function sourceUrl(o: Registry, server: ExampleServer): string | undefined {
  const [block, key] = PLACEHOLDERS[server].field;
  const value = (o.spec?.source?.[block] as Record<string, unknown> | undefined)?.[key];
  return typeof value === 'string' ? value : undefined;
}

function withSourceUrl<T extends Registry>(o: T, server: ExampleServer, url: string): T {
  const [block, key] = PLACEHOLDERS[server].field;
  const source = o.spec?.source ?? {};
  return { ...o, spec: { ...o.spec, source: { ...source, [block]: { ...(source[block] as Record<string, unknown>), [key]: url } } } };
}

function normalisedPath(u: URL): string {
  return u.pathname.replace(/\/+$/, '') || '/';
}

/**
 * An example registry with its placeholder origin replaced by the example server's address,
 * and annotated with the server it uses. Objects without a placeholder come back unchanged;
 * a placeholder whose server is not running stays as it is (the registry then reports
 * SourceAvailable=False, as on a cluster).
 */
export function rewritePlaceholders<T extends Registry>(o: T, addresses: ExampleAddresses): T {
  if (o.kind !== 'MCPRegistry') return o;
  for (const server of Object.keys(PLACEHOLDERS) as ExampleServer[]) {
    const url = sourceUrl(o, server);
    const target = addressOf(server, addresses);
    if (url === undefined || target === undefined) continue;
    const { origin } = PLACEHOLDERS[server];
    if (url !== origin && !url.startsWith(`${origin}/`)) continue;
    const rewritten = withSourceUrl(o, server, target + url.slice(origin.length));
    return { ...rewritten, metadata: { ...rewritten.metadata, annotations: { ...rewritten.metadata?.annotations, [EXAMPLE_ANNOTATION]: server } } };
  }
  return o;
}

/**
 * The URL an annotated example registry should have now, or undefined when it is right or
 * no longer an example's (another host or path, or an unknown annotation value).
 */
export function repointedUrl(o: Registry, addresses: ExampleAddresses): string | undefined {
  const server = o.metadata?.annotations?.[EXAMPLE_ANNOTATION] as ExampleServer | undefined;
  if (!server || !(server in PLACEHOLDERS)) return undefined;
  const target = addressOf(server, addresses);
  const current = sourceUrl(o, server);
  if (!target || !current) return undefined;
  let url: URL;
  try {
    url = new URL(current);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname) || normalisedPath(url) !== PLACEHOLDERS[server].path) return undefined;
  if (url.origin === new URL(target).origin) return undefined;
  return target + current.slice(url.origin.length);
}

/** The loopback port an annotated example registry points at, if it still points at its server. */
export function exampleServerPort(o: Registry): { server: ExampleServer; port: number } | undefined {
  const server = o.metadata?.annotations?.[EXAMPLE_ANNOTATION] as ExampleServer | undefined;
  if (!server || !(server in PLACEHOLDERS)) return undefined;
  const current = sourceUrl(o, server);
  if (!current) return undefined;
  try {
    const url = new URL(current);
    if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname) || normalisedPath(url) !== PLACEHOLDERS[server].path || !url.port) return undefined;
    return { server, port: Number(url.port) };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Files

export interface Manifests {
  crds: V1CustomResourceDefinition[];
  /** ConfigMaps first, then MCPRegistries (sync jobs are left for the user to create) */
  examples: KubernetesObject[];
}

async function yamlFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
}

export async function readManifests(crdsDir: string): Promise<Manifests> {
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of await yamlFiles(crdsDir)) {
    // loadAllYaml builds client-node's typed models: x-kubernetes-* keys survive serialisation
    for (const value of loadAllYaml(await readFile(join(crdsDir, file), 'utf8')) as Array<V1CustomResourceDefinition | null>) {
      if (value?.kind === 'CustomResourceDefinition') crds.push(value);
    }
  }
  const examplesDir = join(crdsDir, 'examples');
  const examples: KubernetesObject[] = [];
  for (const file of await yamlFiles(examplesDir)) {
    for (const value of loadAllYaml(await readFile(join(examplesDir, file), 'utf8')) as Array<KubernetesObject | null>) {
      if (value?.kind === 'ConfigMap' || value?.kind === 'MCPRegistry') examples.push(value);
    }
  }
  // ConfigMaps, then registries, then aggregates (whose members then exist when they first sync)
  const rank = (o: KubernetesObject) => (o.kind !== 'MCPRegistry' ? 0 : (o as Registry).spec?.source?.type === 'aggregate' ? 2 : 1);
  examples.sort((a, b) => rank(a) - rank(b));
  if (crds.length === 0) throw new RegistryError('not_found', 'no CustomResourceDefinitions found', { where: { file: crdsDir } });
  return { crds, examples };
}

// ---------------------------------------------------------------------------------------------
// The control plane

function status(e: unknown): number | undefined {
  return e instanceof ApiException ? e.code : undefined;
}

/** Creates each CRD, or replaces it when it exists (an upgrade of this project). */
export async function installCrds(kc: KubeConfig, crds: V1CustomResourceDefinition[]): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) {
    const name = crd.metadata!.name!;
    let existing: V1CustomResourceDefinition | undefined;
    try {
      existing = await api.readCustomResourceDefinition({ name });
    } catch (e) {
      if (status(e) !== 404) throw e;
    }
    if (!existing) await api.createCustomResourceDefinition({ body: crd });
    else await api.replaceCustomResourceDefinition({ name, body: { ...crd, metadata: { ...crd.metadata, resourceVersion: existing.metadata?.resourceVersion } } });
  }
}

export async function ensureNamespace(kc: KubeConfig, name: string): Promise<void> {
  try {
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  } catch (e) {
    if (status(e) !== 409) throw e;
  }
}

async function listRegistries(kc: KubeConfig): Promise<Registry[]> {
  return (await kc.makeApiClient(KubernetesObjectApi).list<Registry>('toolhive.stacklok.io/v1alpha1', 'MCPRegistry')).items;
}

/** The ports the example registries point at now, to start their servers on the same ones. */
export async function examplePorts(kc: KubeConfig): Promise<Partial<Record<ExampleServer, number>>> {
  const out: Partial<Record<ExampleServer, number>> = {};
  for (const r of await listRegistries(kc)) {
    const found = exampleServerPort(r);
    if (found) out[found.server] ??= found.port;
  }
  return out;
}

export interface ExamplesOutcome {
  /** true on the first start of this data directory */
  applied: boolean;
  created: string[];
  /** registries pointed at the example servers' new ports */
  repointed: string[];
}

/** First start: create the examples. Every start: re-point example registries at the servers. */
export async function setUpExamples(kc: KubeConfig, manifests: Manifests, addresses: ExampleAddresses, log: Logger = silentLogger): Promise<ExamplesOutcome> {
  const core = kc.makeApiClient(CoreV1Api);
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const outcome: ExamplesOutcome = { applied: false, created: [], repointed: [] };

  let marked = true;
  try {
    await core.readNamespacedConfigMap({ namespace: MARKER.namespace, name: MARKER.name });
  } catch (e) {
    if (status(e) !== 404) throw e;
    marked = false;
  }
  if (!marked) {
    outcome.applied = true;
    for (const example of manifests.examples) {
      const object = rewritePlaceholders({ ...example, metadata: { ...example.metadata, namespace: EXAMPLES_NAMESPACE } }, addresses);
      const ref = `${object.kind} ${EXAMPLES_NAMESPACE}/${object.metadata?.name}`;
      try {
        await objects.create(object);
        outcome.created.push(ref);
      } catch (e) {
        if (status(e) !== 409) throw e;
        log.info('example already there; left as it is', { object: ref });
      }
    }
    await core.createNamespacedConfigMap({
      namespace: MARKER.namespace,
      body: {
        metadata: { name: MARKER.name, namespace: MARKER.namespace },
        data: { examplesAppliedAt: new Date().toISOString(), note: 'mcpreg dev applied crds/examples/ once; delete this ConfigMap to have them applied again at the next start' },
      },
    });
    return outcome;
  }

  for (const r of await listRegistries(kc)) {
    const url = repointedUrl(r, addresses);
    if (!url) continue;
    const server = r.metadata!.annotations![EXAMPLE_ANNOTATION] as ExampleServer;
    const [block, key] = PLACEHOLDERS[server].field;
    await objects.patch(
      { apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.metadata!.name, namespace: r.metadata!.namespace }, spec: { source: { [block]: { [key]: url } } } } as KubernetesObject,
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.MergePatch,
    );
    outcome.repointed.push(`${r.metadata!.namespace}/${r.metadata!.name}`);
  }
  return outcome;
}
