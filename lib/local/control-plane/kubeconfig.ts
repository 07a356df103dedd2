/** Kubeconfigs that point at the control plane: a file for kubectl and KubeConfig objects for client-node. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export const CLUSTER_NAME = 'mcpreg-local';

export function kubeconfigDocument(server: string, user: string, token: string | undefined, namespace = 'default'): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    // client-node 2 refuses a plain-http server unless TLS verification is declared skipped
    clusters: [{ name: CLUSTER_NAME, cluster: { server, ...(server.startsWith('http:') ? { 'insecure-skip-tls-verify': true } : {}) } }],
    users: [{ name: user, user: token ? { token } : {} }],
    contexts: [{ name: CLUSTER_NAME, context: { cluster: CLUSTER_NAME, user, namespace } }],
    'current-context': CLUSTER_NAME,
    preferences: {},
  };
}

export async function writeKubeconfig(path: string, server: string, user: string, token: string | undefined): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `# written by mcpreg control-plane: a local development server, not a cluster\n${stringify(kubeconfigDocument(server, user, token))}`, {
    mode: 0o600,
  });
}

export function kubeConfigObject(server: string, user: string, token: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: CLUSTER_NAME, server, skipTLSVerify: server.startsWith('http:') }],
    users: [{ name: user, ...(token ? { token } : {}) }],
    contexts: [{ name: CLUSTER_NAME, cluster: CLUSTER_NAME, user, namespace: 'default' }],
    currentContext: CLUSTER_NAME,
  });
  return kc;
}
