/**
 * The deploy tests' way to put a registry in place: its document in the ConfigMap `<name>-data`
 * (created, or patched if it exists), an MCPRegistry `name` reading it with the given
 * `syncPolicy.onUpdate` (left as it is if it exists), and one sync that must publish.
 */
import assert from 'node:assert/strict';
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type CustomObjectsApi } from '@kubernetes/client-node';
import type { SyncController } from '../../lib/sync/controller.ts';

const L = 'toolhive.stacklok.io';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export async function syncConfigMapRegistry(api: { core: CoreV1Api; custom: CustomObjectsApi }, controller: SyncController, ns: string, name: string, doc: string, onUpdate: string): Promise<void> {
  const { core, custom } = api;
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `${name}-data` }, data: { 'registry.json': doc } } }).catch(async () => {
    await core.patchNamespacedConfigMap({ namespace: ns, name: `${name}-data`, body: { data: { 'registry.json': doc } } }, merge);
  });
  await custom
    .createNamespacedCustomObject({
      group: L,
      version: 'v1alpha1',
      plural: 'mcpregistries',
      namespace: ns,
      body: { apiVersion: `${L}/v1alpha1`, kind: 'MCPRegistry', metadata: { name }, spec: { source: { type: 'configmap', configMap: { name: `${name}-data`, key: 'registry.json' } }, syncPolicy: { onUpdate } } },
    })
    .catch(() => undefined);
  const summaries = await controller.syncRegistry(ns, name, 'configmap');
  assert.ok(summaries.some((s) => s.outcome === 'published' || s.outcome === 'unchanged'), JSON.stringify(summaries.map((s) => [s.outcome, s.reason, s.result?.error?.message])));
}
