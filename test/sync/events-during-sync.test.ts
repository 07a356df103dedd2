/**
 * An event that arrives while its registry is being synced is not lost. The source's fetch is
 * the real ConfigMap source on the embedded control plane; a gate after it holds the sync in
 * flight, so that the ConfigMap can be edited after it was read and before the sync publishes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import type { DecodedEvent } from '../../lib/events/decode.ts';
import type { KubeObject } from '../../lib/kube/objects.ts';
import { RegistryError } from '../../lib/errors.ts';
import { silentLogger } from '../../lib/log.ts';
import { createSource } from '../../lib/sources/index.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import type { Source } from '../../lib/sources/types.ts';
import { createSyncController, type SyncController } from '../../lib/sync/controller.ts';
import { SYNC_TRIGGER_ANNOTATION } from '../../lib/sync/decide.ts';
import { startKube } from '../harness/kube.ts';
import { tempStore } from '../api/harness.ts';
import { registryJson } from '../harness/registry-data.ts';

const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'team-a';

/** A gate the source waits at after it fetched: closed, every fetch waits until it opens. */
function gate() {
  let open: (() => void) | null = null;
  let waiting: Promise<void> = Promise.resolve();
  let entered: (() => void) | null = null;
  let reached = Promise.resolve();
  return {
    close() {
      waiting = new Promise((r) => (open = r));
      reached = new Promise((r) => (entered = r));
    },
    open() {
      open?.();
    },
    async pass() {
      entered?.();
      await waiting;
    },
    reached: () => reached,
  };
}

describe('events that arrive while their registry syncs', { timeout: 60_000 }, () => {
  let cp: ControlPlane;
  let tmp: Awaited<ReturnType<typeof tempStore>>;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  const held = gate();

  function controller(identity: string): SyncController {
    return createSyncController({
      kubeConfig: cp.kubeConfig(),
      store: tmp.store,
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'] }),
      config: { deadlineMs: 30_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity, keepSnapshots: 3 },
      log: silentLogger,
      createSource: (spec) => {
        const real: Source = createSource(spec);
        return {
          ...real,
          async fetch(...args: Parameters<Source['fetch']>) {
            const result = await real.fetch(...args);
            await held.pass();
            return result;
          },
        };
      },
    });
  }

  const event = (kind: 'MCPRegistry' | 'ConfigMap', object: unknown): DecodedEvent => ({ type: 'resource', action: 'update', kind, object: object as KubeObject, id: crypto.randomUUID(), source: 'test' });
  const get = async (name: string) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name })) as KubeObject & { status?: { serverCount?: number } };
  const editConfigMap = async (name: string, names: string[]) => {
    const cm = await core.readNamespacedConfigMap({ namespace: NS, name });
    return core.replaceNamespacedConfigMap({ namespace: NS, name, body: { ...cm, data: { 'registry.json': registryJson(names) } } });
  };
  const trigger = async (name: string) => {
    const r = await get(name);
    return custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name, body: { ...r, metadata: { ...r.metadata, annotations: { [SYNC_TRIGGER_ANNOTATION]: crypto.randomUUID() } } } });
  };

  before(async () => {
    cp = await startKube({ namespaces: [NS, 'mcp-registry'] });
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    tmp = await tempStore();
  });
  after(async () => {
    held.open();
    await tmp?.cleanup();
    await cp?.stop();
  });

  async function createRegistry(name: string, names: string[]) {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name }, data: { 'registry.json': registryJson(names) } } });
    const created = await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'mcpregistries',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name }, spec: { source: { type: 'configmap', configMap: { name, key: 'registry.json' } } } },
    });
    return created;
  }

  test('a ConfigMap edit during the sync that read it before the edit is synced by that sync once more', async () => {
    const sync = controller('replica-a');
    const created = await createRegistry('cm-a', ['one', 'two', 'three']);
    assert.equal((await sync.handle(event('MCPRegistry', created))).registries[0]?.outcome, 'published');
    assert.equal((await get('cm-a')).status?.serverCount, 3);

    held.close();
    const running = sync.handle(event('MCPRegistry', await trigger('cm-a')));
    await held.reached();
    // the running sync has read three servers; the ConfigMap now says one
    const edited = await editConfigMap('cm-a', ['one']);
    const during = await sync.handle(event('ConfigMap', { ...edited, apiVersion: 'v1', kind: 'ConfigMap' }));
    assert.deepEqual(during.registries.map((s) => [s.registry, s.outcome]), [[`${NS}/cm-a`, 'queued']]);
    held.open();
    const first = await running;
    assert.deepEqual(
      first.registries.map((s) => [s.outcome, s.reason]),
      [
        ['unchanged', 'manual-trigger'],
        ['published', 'configmap-changed'],
      ],
    );
    assert.equal((await get('cm-a')).status?.serverCount, 1, 'the status shows the edited ConfigMap');
  });

  test('a ConfigMap event that finds the sync running in another replica is answered transient, for the Broker to deliver again', async () => {
    const a = controller('replica-a');
    const b = controller('replica-b');
    const created = await createRegistry('cm-b', ['one', 'two']);
    assert.equal((await a.handle(event('MCPRegistry', created))).registries[0]?.outcome, 'published');

    held.close();
    const running = a.handle(event('MCPRegistry', await trigger('cm-b')));
    await held.reached();
    const edited = await editConfigMap('cm-b', ['two']);
    const cmEvent = event('ConfigMap', { ...edited, apiVersion: 'v1', kind: 'ConfigMap' });
    await assert.rejects(b.handle(cmEvent), (e: unknown) => e instanceof RegistryError && e.transient && /cm-b is being synced elsewhere/.test(e.message));
    held.open();
    await running;
    // the Broker's redelivery, once replica a is done, syncs the edit
    const again = await b.handle(cmEvent);
    assert.deepEqual(again.registries.map((s) => [s.outcome, s.reason]), [['published', 'configmap-changed']]);
    assert.equal((await get('cm-b')).status?.serverCount, 1);
  });
  test('two webhooks at the same instant in one replica: the second queues behind the first and answers with its pass, neither finds its own replica busy', async () => {
    const sync = controller('replica-a');
    const created = await createRegistry('cm-c', ['one']);
    assert.equal((await sync.handle(event('MCPRegistry', created))).registries[0]?.outcome, 'published');
    await editConfigMap('cm-c', ['one', 'two']);
    // both start before either has its lease (the webhook racing the status update's event);
    // the second queues behind the first (before its read, so that one pass covers both) and
    // answers with the outcome of that pass, not 'queued'
    const [a, b] = await Promise.all([sync.syncNow(NS, 'cm-c'), sync.syncNow(NS, 'cm-c')]);
    assert.deepEqual([a, b], ['published', 'published']);
    assert.equal((await get('cm-c')).status?.serverCount, 2);
  });
});
