/**
 * The embedded control plane with this project's CRDs installed, for tests that need the
 * Kubernetes API: start it, install crds/*.yaml through client-node, create namespaces.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, loadAllYaml, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../lib/local/control-plane/index.ts';

export const CRDS_DIR = join(import.meta.dirname, '..', '..', 'crds');

export async function readCrds(): Promise<V1CustomResourceDefinition[]> {
  const out: V1CustomResourceDefinition[] = [];
  for (const file of (await readdir(CRDS_DIR)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
    // loadAllYaml builds client-node's typed models (x-kubernetes-* keys become their camelCase
    // fields); raw objects would lose those keys when client-node serialises the request
    for (const value of loadAllYaml(await readFile(join(CRDS_DIR, file), 'utf8')) as (V1CustomResourceDefinition | null)[]) {
      if (value?.kind === 'CustomResourceDefinition') out.push(value);
    }
  }
  return out;
}

export async function startKube(options: ControlPlaneOptions & { namespaces?: string[] } = {}): Promise<ControlPlane> {
  const cp = await startControlPlane({ port: 0, ...options });
  const kc = cp.kubeConfig();
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of await readCrds()) await ext.createCustomResourceDefinition({ body: crd });
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of options.namespaces ?? []) {
    await core.createNamespace({ body: { metadata: { name } } });
  }
  return cp;
}
