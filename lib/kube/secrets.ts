/**
 * SecretReaders: keys of Secrets in one namespace. The Kubernetes one reads through
 * `@kubernetes/client-node` (CoreV1Api.readNamespacedSecret); each Secret is read at most once
 * per reader (one reader per sync). Values never appear in errors, logs or status — only the
 * namespace, Secret name and key names do.
 */
import type { CoreV1Api, KubeConfig, V1Secret } from '@kubernetes/client-node';
import { RegistryError } from '../errors.ts';
import type { SecretReader } from '../sources/types.ts';
import { kubeApiError } from '../sources/kube-api-errors.ts';
import { tracedApi } from './traced-api.ts';

function decode(secret: V1Secret, key: string): string | undefined {
  const b64 = secret.data?.[key];
  if (b64 !== undefined) return Buffer.from(b64, 'base64').toString('utf8');
  // stringData is write-only on a real API server, but a Secret object built by hand may carry it
  return secret.stringData?.[key];
}

function keysOf(secret: V1Secret): string[] {
  return [...new Set([...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})])].sort();
}

export function createKubeSecretReader(kubeConfig: KubeConfig, namespace: string): SecretReader {
  // the API classes are loaded on first read: most syncs read no Secret
  let api: Promise<CoreV1Api> | undefined;
  const cache = new Map<string, Promise<V1Secret>>();
  const load = (name: string) => {
    let p = cache.get(name);
    if (!p) {
      api ??= import('@kubernetes/client-node').then((m) => tracedApi(kubeConfig.makeApiClient(m.CoreV1Api), 'secrets'));
      p = api.then((client) => client.readNamespacedSecret({ name, namespace })).catch((e: unknown) => {
        cache.delete(name);
        throw kubeApiError(e, { kind: 'Secret', namespace, name, notFound: 'secret_not_found' });
      });
      cache.set(name, p);
    }
    return p;
  };
  return {
    async read(name: string, key: string): Promise<string> {
      const secret = await load(name);
      const value = decode(secret, key);
      if (value === undefined) {
        const keys = keysOf(secret);
        throw new RegistryError(
          'secret_not_found',
          `Secret ${namespace}/${name} has no key ${JSON.stringify(key)} (keys: ${keys.length ? keys.join(', ') : 'none'})`,
          { where: { source: `secret ${namespace}/${name}` } },
        );
      }
      return value;
    },
  };
}

/**
 * A SecretReader over values held in memory (`{secretName: {key: value}}`): local mode, the
 * CLI, and tests of sources that do not exercise the Kubernetes API.
 */
export function createMemorySecretReader(secrets: Record<string, Record<string, string>>, namespace = 'default'): SecretReader {
  return {
    async read(name: string, key: string): Promise<string> {
      const s = secrets[name];
      if (!s) throw new RegistryError('secret_not_found', `Secret ${namespace}/${name} not found`, { where: { source: `secret ${namespace}/${name}` } });
      const v = s[key];
      if (v === undefined) {
        throw new RegistryError('secret_not_found', `Secret ${namespace}/${name} has no key ${JSON.stringify(key)} (keys: ${Object.keys(s).sort().join(', ') || 'none'})`, {
          where: { source: `secret ${namespace}/${name}` },
        });
      }
      return v;
    },
  };
}
