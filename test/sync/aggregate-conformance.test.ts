/**
 * The upstream API's conformance suite (test/api/conformance-suite.ts) on an aggregate
 * registry: three member MCPRegistries on the embedded control plane whose published snapshots
 * together hold the query API fixture (with rows of a lower-priority member shadowed), the
 * aggregate synced by the sync controller from them at three instants (so that its own
 * `updatedAt`s differ), and the query function serving the aggregate as its default registry.
 */
import assert from 'node:assert/strict';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { ServerResponse } from '../../lib/formats/upstream-schema.ts';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { readPointer } from '../../lib/snapshots/read.ts';
import { MEMBER_META_KEY } from '../../lib/sources/aggregate-merge.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController } from '../../lib/sync/controller.ts';
import type { KubeObject } from '../../lib/kube/objects.ts';
import { conformanceSuite } from '../api/conformance-suite.ts';
import { fixtureEntries, publishEntries } from '../api/fixture.ts';
import { startQuery, tempStore } from '../api/harness.ts';
import { startKube } from '../harness/kube.ts';

const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'platform';
const AGG = { namespace: NS, name: 'everything' };
const GONE = 'io.github.test/gone';

conformanceSuite(async () => {
  const cp: ControlPlane = await startKube({ namespaces: [NS, 'mcp-registry'] });
  const t = await tempStore();
  const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
  let clock = new Date('2026-06-01T00:00:00Z');
  const controller = createSyncController({
    kubeConfig: cp.kubeConfig(),
    store: t.store,
    policy: resolvePolicy({ retries: 0, totalTimeoutMs: 10_000 }),
    config: { deadlineMs: 60_000, concurrency: 1, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'test-sync', keepSnapshots: 3, apiBaseUrl: undefined, sink: undefined },
    now: () => clock,
    random: () => 0.5,
    log: silentLogger,
  });
  const create = async (name: string, spec: object) =>
    (await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name }, spec } })) as KubeObject;

  // the fixture's names in three parts; every version of `gone` (wholly deleted) arrives last
  const fixture = fixtureEntries();
  const names = [...new Set(fixture.map((e) => e.server.name))];
  const part = (i: number) => new Set(names.filter((n, j) => n !== GONE && j % 3 === i));
  const rowsOf = (set: Set<string>) => structuredClone(fixture.filter((e) => set.has(e.server.name)));
  const [a, b, c] = [part(0), part(1), part(2)];
  // m2 also has other documents for m1's names: shadowed, never served
  const decoys = rowsOf(a).map((e) => ({ ...e, server: { ...e.server, description: `a copy from m2 of ${e.server.name}` } }));

  // members: MCPRegistries whose snapshots are published into the store directly (their own sync is another test's matter)
  for (const m of ['m1', 'm2', 'm3']) await create(m, { format: 'upstream', source: { type: 'url', url: { url: `https://registry.example.com/${m}.json` } } });
  await publishEntries(t.store, { namespace: NS, name: 'm1' }, rowsOf(a));
  await publishEntries(t.store, { namespace: NS, name: 'm2' }, [...rowsOf(b), ...decoys]);
  await publishEntries(t.store, { namespace: NS, name: 'm3' }, rowsOf(new Set()));
  const agg = await create(AGG.name, { source: { type: 'aggregate', aggregate: { registries: [{ name: 'm1' }, { name: 'm2' }, { name: 'm3' }] } } });
  const first = await controller.handle({ type: 'resource', action: 'add', kind: 'MCPRegistry', object: agg, id: '1', source: cp.url });
  assert.equal(first.registries[0]?.outcome, 'published', JSON.stringify(first));

  // m3 publishes twice; each publish event re-syncs the aggregate
  const publish = async (rows: ServerResponse[], at: string) => {
    clock = new Date(at);
    await publishEntries(t.store, { namespace: NS, name: 'm3' }, rows);
    const r = await controller.handle({ type: 'published', id: at, source: 'test', subject: `${NS}/m3`, data: {} });
    assert.deepEqual(
      r.registries.map((s) => [s.registry, s.outcome]),
      [[`${NS}/${AGG.name}`, 'published']],
    );
  };
  await publish(rowsOf(c), '2026-06-02T00:00:00Z');
  await publish(rowsOf(new Set([...c, GONE])), '2026-06-03T00:00:00Z');

  // what the aggregate published: the fixture's rows exactly, each from the member that has its name first
  const pointer = (await readPointer(t.store, AGG))!.pointer;
  const object = await t.store.get(pointer.objects.upstream);
  assert.ok(object && object !== 'not-modified');
  const entries = (JSON.parse(new TextDecoder().decode(object.body)) as { servers: ServerResponse[] }).servers;
  assert.deepEqual(
    entries.map((e) => [e.server.name, e.server.version, e.server]),
    fixture.map((e) => [e.server.name, e.server.version, e.server]),
  );
  const owner = (n: string) => (a.has(n) ? 'm1' : b.has(n) ? 'm2' : 'm3');
  for (const e of entries) assert.deepEqual(e._meta![MEMBER_META_KEY], { namespace: NS, name: owner(e.server.name) });
  const updated = (n: string) => [...new Set(entries.filter((e) => e.server.name === n).map((e) => e._meta!['io.modelcontextprotocol.registry/official']!.updatedAt))];
  assert.deepEqual(updated(GONE), ['2026-06-03T00:00:00.000Z']);
  assert.deepEqual(updated([...c][0]!), ['2026-06-02T00:00:00.000Z']);
  assert.deepEqual(updated([...a][0]!), ['2026-06-01T00:00:00.000Z']);

  const api = await startQuery({ store: t.store, env: { MCPREG_DEFAULT_REGISTRY: `${AGG.namespace}/${AGG.name}` } });
  return {
    api,
    ref: AGG,
    entries,
    async close() {
      await api.close();
      await t.cleanup();
      await cp.stop();
    },
  };
});
