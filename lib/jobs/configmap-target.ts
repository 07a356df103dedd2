import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { RegistryError } from '../errors.ts';
import { apiError } from '../kube/registry-client.ts';

/**
 * Writes one key of a ConfigMap (created when missing), refusing a document that would take
 * the ConfigMap over the API server's 1 MiB limit before anything is sent: nothing is half-written.
 */

/** etcd's limit on one object; ConfigMap data must stay below it */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;

export interface ConfigMapWrite {
  namespace: string;
  name: string;
  key: string;
  text: string;
  /** labels put on a ConfigMap this creates */
  labels?: Record<string, string>;
  /** what to suggest when the document is too large */
  instead: string;
}

function dataBytes(data: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(data)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

export async function readConfigMapKey(kubeConfig: KubeConfig, namespace: string, name: string, key: string): Promise<string | null> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  try {
    const cm = await api.readNamespacedConfigMap({ namespace, name });
    return cm.data?.[key] ?? null;
  } catch (e) {
    const err = apiError(e, `get ConfigMap ${namespace}/${name}`);
    if (err.code === 'not_found') return null;
    throw err;
  }
}

/** Returns whether the ConfigMap changed (false when the key already held exactly `text`). */
export async function writeConfigMapKey(kubeConfig: KubeConfig, w: ConfigMapWrite): Promise<boolean> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const where = { key: `configmap ${w.namespace}/${w.name} key ${w.key}` };
  let current: V1ConfigMap | null = null;
  try {
    current = await api.readNamespacedConfigMap({ namespace: w.namespace, name: w.name });
  } catch (e) {
    const err = apiError(e, `get ConfigMap ${w.namespace}/${w.name}`);
    if (err.code !== 'not_found') throw err;
  }
  if (current?.data?.[w.key] === w.text) return false;
  const data = { ...(current?.data ?? {}), [w.key]: w.text };
  const size = dataBytes(data);
  if (size > CONFIGMAP_MAX_BYTES) {
    throw new RegistryError('too_large', `the document is ${Buffer.byteLength(w.text)} bytes; ConfigMap ${w.namespace}/${w.name} would hold ${size}, over the ConfigMap limit of ${CONFIGMAP_MAX_BYTES} bytes (1 MiB). Nothing was written; ${w.instead}`, { where });
  }
  try {
    if (current) await api.replaceNamespacedConfigMap({ namespace: w.namespace, name: w.name, body: { ...current, data } });
    else await api.createNamespacedConfigMap({ namespace: w.namespace, body: { metadata: { name: w.name, namespace: w.namespace, ...(w.labels ? { labels: w.labels } : {}) }, data } });
  } catch (e) {
    throw apiError(e, `write ConfigMap ${w.namespace}/${w.name}`);
  }
  return true;
}
