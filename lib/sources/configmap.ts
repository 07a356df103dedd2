/**
 * The configmap source: one key of a ConfigMap in the registry's own namespace, read through
 * the Kubernetes API (`@kubernetes/client-node`, CoreV1Api.readNamespacedConfigMap).
 *
 * Revision: `<resourceVersion>/<key>`; equal to the previous revision → "unchanged" (the
 * object was read, but its content is not handed on). Both `data` (text) and `binaryData`
 * (base64) keys are supported.
 */
import { RegistryError } from '../errors.ts';
import type { ConfigMapSource as ConfigMapSpec } from '../kube/mcpregistry-spec.ts';
import { kubeApiError } from './kube-api-errors.ts';
import { resolvePolicy } from './policy.ts';
import type { FetchResult, Source, SourceContext } from './types.ts';
import { tracedApi } from '../kube/traced-api.ts';

export class ConfigMapSource implements Source {
  readonly type = 'configmap' as const;
  readonly spec: ConfigMapSpec;

  constructor(spec: ConfigMapSpec) {
    this.spec = spec;
  }

  async fetch(context: SourceContext): Promise<FetchResult> {
    const { namespace } = context;
    const { name } = this.spec;
    const key = this.spec.key ?? 'registry.json';
    const where = { source: `configmap ${namespace}/${name}`, file: key };
    if (!context.kubeConfig) {
      throw new RegistryError('internal', 'the configmap source needs a Kubernetes client configuration', { where });
    }
    if (context.signal.aborted) throw new RegistryError('aborted', `reading ConfigMap ${namespace}/${name} was cancelled`, { where });
    // loaded on first use: other source types never need the Kubernetes client's API classes
    const { CoreV1Api } = await import('@kubernetes/client-node');
    const api = tracedApi(context.kubeConfig.makeApiClient(CoreV1Api), 'configmaps');
    const read = api.readNamespacedConfigMap({ name, namespace });
    // the generated client takes no AbortSignal: race it so that a cancelled sync returns at once
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new RegistryError('aborted', `reading ConfigMap ${namespace}/${name} was cancelled`, { where }));
      context.signal.addEventListener('abort', onAbort, { once: true });
    });
    let cm;
    try {
      cm = await Promise.race([read, aborted]);
    } catch (e) {
      read.catch(() => {});
      throw kubeApiError(e, { kind: 'ConfigMap', namespace, name, notFound: 'source_not_found' });
    } finally {
      context.signal.removeEventListener('abort', onAbort!);
    }
    const resourceVersion = cm.metadata?.resourceVersion ?? '';
    const revision = `${resourceVersion}/${key}`;
    const text = cm.data?.[key];
    const binary = cm.binaryData?.[key];
    if (text === undefined && binary === undefined) {
      const keys = [...Object.keys(cm.data ?? {}), ...Object.keys(cm.binaryData ?? {})].sort();
      throw new RegistryError('source_not_found', `ConfigMap ${namespace}/${name} has no key ${JSON.stringify(key)} (keys: ${keys.length ? keys.join(', ') : 'none'})`, {
        where,
      });
    }
    if (!context.force && resourceVersion !== '' && context.previous?.revision === revision) return { kind: 'unchanged', revision };
    const bytes = text !== undefined ? Buffer.from(text, 'utf8') : Buffer.from(binary!, 'base64');
    const { maxBytes } = resolvePolicy(context.policy);
    if (bytes.byteLength > maxBytes) {
      throw new RegistryError('too_large', `key ${key} holds ${bytes.byteLength} bytes, over the limit of ${maxBytes} (MCPREG_FETCH_MAX_BYTES)`, { where });
    }
    return { kind: 'document', revision, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file: key };
  }
}

export function createConfigMapSource(spec: ConfigMapSpec): ConfigMapSource {
  return new ConfigMapSource(spec);
}
