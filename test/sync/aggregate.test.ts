/**
 * Aggregate registries end to end: the embedded control plane with our CRDs, member registries
 * synced by the sync function from real URL sources, snapshots in S3 (s3rver), the sync
 * function's snapshot-published events routed back to it by a Broker stand-in that follows
 * knative/triggers.yaml, and the query function serving the aggregate's `/v0.1`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudEvent, HTTP } from 'cloudevents';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION } from '../../lib/kube/mcpregistry-spec.ts';
import type { MemberStatus } from '../../lib/kube/mcpregistry-status.ts';
import { MEMBER_META_KEY } from '../../lib/sources/aggregate-merge.ts';
import { readPointer } from '../../lib/snapshots/read.ts';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController, type HandleResult } from '../../lib/sync/controller.ts';
import { SYNC_TRIGGER_ANNOTATION } from '../../lib/sync/decide.ts';
import { startSyncServer, type SyncServer } from '../../functions/sync/server.ts';
import { startQuery, type Running } from '../api/harness.ts';
import { startKube } from '../harness/kube.ts';
import { startBroker, type TestBroker } from '../servers/broker.ts';
import { mutableDocument, startHttpServer, type MutableDocument, type TestHttpServer } from '../servers/http.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';

const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const OFFICIAL = 'io.modelcontextprotocol.registry/official';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface Registry {
  metadata: { name: string; namespace: string; generation: number; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
  status?: { phase?: string; serverCount?: number; snapshot?: { hash: string }; conditions?: Condition[]; members?: MemberStatus[] };
}
interface Row {
  server: { name: string; version: string; description: string };
  _meta: Record<string, any>;
}

/** a server.json row of a member's document (the member's own sync fills in the official block) */
function row(name: string, version: string, description = `${name} ${version}`) {
  return { server: { name: `io.example/${name}`, version, description } };
}
function doc(rows: object[]): string {
  return JSON.stringify({ servers: rows, metadata: { count: rows.length } });
}

describe('aggregate registries', () => {
  let cp: ControlPlane;
  let custom: CustomObjectsApi;
  let s3: TestS3;
  let store: SnapshotStore;
  let http: TestHttpServer;
  let broker: TestBroker;
  let sync: SyncServer;
  let api: Running;
  let clock = new Date('2026-03-01T00:00:00Z');
  const handled: HandleResult[] = [];
  const docs = new Map<string, MutableDocument>();

  before(async () => {
    cp = await startKube({ namespaces: ['team-a', 'team-b', 'team-c', 'mcp-registry'] });
    custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    s3 = await startS3Server();
    store = await createS3Store(s3.storeOptions());
    http = await startHttpServer();
    // the Broker delivers to the sync and query functions (registered once they listen)
    const subscribers: Record<string, string> = {};
    broker = await startBroker(subscribers);
    const controller = createSyncController({
      kubeConfig: cp.kubeConfig(),
      store,
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 0, totalTimeoutMs: 10_000 }),
      config: { deadlineMs: 60_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'test-sync', keepSnapshots: 3, apiBaseUrl: undefined, sink: broker.url },
      now: () => clock,
      random: () => 0.5,
      log: silentLogger,
    });
    sync = await startSyncServer({
      log: silentLogger,
      handle: async (event) => {
        const result = await controller.handle(event);
        handled.push(result);
        return result;
      },
    });
    subscribers['mcp-registry-sync'] = sync.url;
    api = await startQuery({ store });
    subscribers['mcp-registry-query'] = api.url;
  });

  after(async () => {
    await api?.close();
    await sync?.close();
    await broker?.close();
    await http?.close();
    store?.close?.();
    await s3?.stop();
    await cp?.stop();
  });

  const get = async (ns: string, name: string) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'mcpregistries', name })) as Registry;
  const create = async (ns: string, name: string, spec: object, annotations?: Record<string, string>) =>
    (await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'mcpregistries',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name, ...(annotations ? { annotations } : {}) }, spec },
    })) as Registry;
  const patch = async (ns: string, name: string, body: object) =>
    (await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'mcpregistries', name, body }, mergePatch)) as Registry;
  const condition = (r: Registry, type: string) => r.status?.conditions?.find((c) => c.type === type);

  /** What Knative's ApiServerSource sends for a change of the object; returns once the sync function has handled it. */
  async function send(action: 'add' | 'update' | 'delete', object: Registry): Promise<HandleResult> {
    const { namespace, name } = object.metadata;
    const event = new CloudEvent({
      type: `dev.knative.apiserver.resource.${action}`,
      source: cp.url,
      subject: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/mcpregistries/${name}`,
      datacontenttype: 'application/json',
      data: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', ...object },
      kind: 'MCPRegistry',
      name,
      namespace,
      apiversion: `${GROUP}/${VERSION}`,
    });
    const message = HTTP.binary(event);
    const before = handled.length;
    const res = await fetch(sync.url + '/', { method: 'POST', headers: message.headers as Record<string, string>, body: String(message.body) });
    await res.arrayBuffer();
    assert.equal(res.status, 204);
    return handled[before]!;
  }

  /** a url-source member registry serving `rows`; created and synced (its publish goes through the Broker) */
  async function member(ns: string, name: string, rows: object[], annotations?: Record<string, string>): Promise<Registry> {
    const d = mutableDocument(doc(rows), `"${ns}-${name}-1"`);
    docs.set(`${ns}/${name}`, d);
    http.route(`/${ns}/${name}.json`, d.route);
    const created = await create(ns, name, { format: 'upstream', source: { type: 'url', url: { url: `${http.url}/${ns}/${name}.json`, allowHttp: true } } }, annotations);
    await send('add', created);
    await broker.idle();
    return get(ns, name);
  }

  /** a new document for a member, then the sync a manual trigger asks for (as `kubectl annotate` would) */
  async function republish(ns: string, name: string, rows: object[]): Promise<void> {
    const d = docs.get(`${ns}/${name}`)!;
    d.body = doc(rows);
    d.etag = `"${ns}-${name}-${Date.now()}-${Math.random()}"`;
    await send('update', await patch(ns, name, { metadata: { annotations: { [SYNC_TRIGGER_ANNOTATION]: d.etag } } }));
    await broker.idle();
  }

  async function aggregate(ns: string, name: string, registries: object[], extra: object = {}): Promise<Registry> {
    const created = await create(ns, name, { source: { type: 'aggregate', aggregate: { registries } }, ...extra });
    await send('add', created);
    await broker.idle();
    return get(ns, name);
  }

  async function served(ns: string, name: string, query = ''): Promise<Row[]> {
    const rows: Row[] = [];
    let cursor: string | undefined;
    for (;;) {
      const r = await api.get(`/registries/${ns}/${name}/v0.1/servers?limit=100${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(r.status, 200, r.text);
      const body = r.json() as { servers: Row[]; metadata: { nextCursor?: string } };
      rows.push(...body.servers);
      cursor = body.metadata.nextCursor;
      if (!cursor) return rows;
    }
  }
  const by = (rows: Row[]) => rows.map((r) => `${r.server.name.slice('io.example/'.length)}@${r.server.version}<${r._meta[MEMBER_META_KEY]?.name}`);

  test('priority de-dup across three members with overlapping names: every version of a name from one member only', async () => {
    const m1 = await member('team-a', 'm1', [row('alpha', '1.0.0'), row('alpha', '2.0.0'), row('shared', '1.0.0', 'from m1')]);
    const m2 = await member('team-a', 'm2', [row('shared', '1.0.0', 'from m2'), row('shared', '3.0.0', 'from m2'), row('beta', '1.0.0'), row('both', '1.0.0', 'from m2'), row('both', '2.0.0', 'from m2')]);
    const m3 = await member('team-a', 'm3', [row('shared', '5.0.0', 'from m3'), row('both', '1.0.0', 'from m3'), row('both', '9.0.0', 'from m3'), row('gamma', '1.0.0')]);
    const agg = await aggregate('team-a', 'agg', [{ name: 'm1' }, { name: 'm2' }, { name: 'm3', namespace: 'team-a' }]);
    assert.equal(condition(agg, 'Ready')?.status, 'True', JSON.stringify(agg.status?.conditions));
    assert.equal(agg.status?.serverCount, 5);

    const rows = await served('team-a', 'agg');
    assert.deepEqual(by(rows), ['alpha@1.0.0<m1', 'alpha@2.0.0<m1', 'beta@1.0.0<m2', 'both@1.0.0<m2', 'both@2.0.0<m2', 'gamma@1.0.0<m3', 'shared@1.0.0<m1']);
    assert.ok(rows.filter((r) => r.server.name.endsWith('/shared') || r.server.name.endsWith('/both')).every((r) => r.server.description === `from ${r._meta[MEMBER_META_KEY].name}`), "each row is its member's document");
    for (const name of ['io.example/shared', 'io.example/both']) {
      assert.equal(rows.filter((r) => r.server.name === name && r._meta[OFFICIAL].isLatest).length, 1, `${name}: one latest`);
      const versions = await api.get(`/registries/team-a/agg/v0.1/servers/${encodeURIComponent(name)}/versions`);
      assert.equal(new Set((versions.json() as { servers: Row[] }).servers.map((r) => r._meta[MEMBER_META_KEY].name)).size, 1, `${name}: one member`);
    }

    assert.deepEqual(agg.status?.members, [
      { namespace: 'team-a', name: 'm1', snapshotHash: m1.status!.snapshot!.hash, servers: 2, shadowed: 0 },
      { namespace: 'team-a', name: 'm2', snapshotHash: m2.status!.snapshot!.hash, servers: 2, shadowed: 1 },
      { namespace: 'team-a', name: 'm3', snapshotHash: m3.status!.snapshot!.hash, servers: 1, shadowed: 2 },
    ]);
    const members = condition(agg, 'MembersAvailable')!;
    assert.equal(members.status, 'True');
    assert.match(members.message, /team-a\/m2 \(2 servers, 1 shadowed\)/);
    // re-syncing an aggregate whose members did not change reads no member snapshot
    const again = await send('update', await patch('team-a', 'agg', { metadata: { annotations: { [SYNC_TRIGGER_ANNOTATION]: 'again' } } }));
    assert.equal(again.registries[0]?.outcome, 'unchanged');
  });

  test("a member's publish re-syncs its aggregates, through the Trigger of knative/triggers.yaml", async () => {
    const before = (await get('team-a', 'agg')).status!.snapshot!.hash;
    const mark = broker.deliveries.length;
    await republish('team-a', 'm2', [row('shared', '1.0.0', 'from m2'), row('beta', '1.1.0', 'beta, released again'), row('both', '1.0.0', 'from m2'), row('both', '2.0.0', 'from m2')]);
    const routed = broker.deliveries.slice(mark).filter((d) => d.type === 'io.toolhive.registry.snapshot.published' && d.subject === 'team-a/m2');
    assert.deepEqual(routed.map((d) => `${d.trigger}:${d.status}`).sort(), ['mcp-registry-query-snapshots:204', 'mcp-registry-sync-snapshots:204']);
    const woken = handled.find((h) => h.event === 'published' && h.registries.some((r) => r.registry === 'team-a/agg' && r.reason === 'member-published'));
    assert.ok(woken, 'the published event synced the aggregate');
    const agg = await get('team-a', 'agg');
    assert.notEqual(agg.status!.snapshot!.hash, before);
    assert.equal(agg.status?.members?.[1]?.snapshotHash, (await get('team-a', 'm2')).status!.snapshot!.hash);
    const beta = (await served('team-a', 'agg')).filter((r) => r.server.name === 'io.example/beta' && r._meta[OFFICIAL].status !== 'deleted');
    assert.deepEqual(beta.map((r) => `${r.server.version} ${r.server.description}`), ['1.1.0 beta, released again']);
  });

  test('updated_since on the aggregate returns exactly the names whose served content changed after a member update', async () => {
    const since = clock.toISOString();
    clock = new Date('2026-03-02T00:00:00Z');
    // m1: alpha loses 1.0.0, and m1 now has beta too (beta moves from m2 to m1, same document)
    await republish('team-a', 'm1', [row('alpha', '2.0.0'), row('beta', '1.1.0', 'beta, released again'), row('shared', '1.0.0', 'from m1')]);
    // m2 drops both: it moves to m3, whose rows of it are old and unchanged (m3's own timestamps say nothing changed)
    await republish('team-a', 'm2', [row('shared', '1.0.0', 'from m2'), row('beta', '1.1.0', 'beta, released again')]);
    // m3: gamma edited (served), shared edited (shadowed by m1: nothing served changes)
    await republish('team-a', 'm3', [row('shared', '6.0.0', 'from m3'), row('both', '1.0.0', 'from m3'), row('both', '9.0.0', 'from m3'), row('gamma', '1.0.0', 'gamma, edited')]);
    const changed = await served('team-a', 'agg', `&updated_since=${encodeURIComponent(since)}`);
    assert.deepEqual(by(changed), ['alpha@1.0.0<m1', 'beta@1.1.0<m1', 'both@1.0.0<m3', 'both@2.0.0<m2', 'both@9.0.0<m3', 'gamma@1.0.0<m3']);
    const status = (name: string, version: string) => changed.find((r) => r.server.name === `io.example/${name}` && r.server.version === version)!._meta[OFFICIAL].status;
    assert.equal(status('alpha', '1.0.0'), 'deleted', 'a version no longer served is a tombstone');
    assert.equal(status('both', '2.0.0'), 'deleted', "m2's version that m3 does not have");
    assert.ok(changed.every((r) => r._meta[OFFICIAL].updatedAt === clock.toISOString()), 'stamped by the aggregate, whatever the member says');
    // m3 itself says its rows of both did not change: only the aggregate's serving of them did
    const m3both = (await served('team-a', 'm3')).filter((r) => r.server.name === 'io.example/both');
    assert.deepEqual(m3both.map((r) => r._meta[OFFICIAL].updatedAt <= since), [true, true]);
    // the rest keeps its timestamps (alpha 2.0.0 did not change either; beta 1.0.0 is the tombstone of the previous test)
    const all = await served('team-a', 'agg', '&include_deleted=true');
    assert.deepEqual(by(all.filter((r) => r._meta[OFFICIAL].updatedAt <= since)), ['alpha@2.0.0<m1', 'beta@1.0.0<m2', 'shared@1.0.0<m1']);
    const agg = await get('team-a', 'agg');
    assert.deepEqual(agg.status?.members?.map((m) => [m.name, m.servers, m.shadowed]), [
      ['m1', 3, 0],
      ['m2', 0, 2],
      ['m3', 2, 1],
    ]);
  });

  test("the aggregate's own filter applies on top: a name it drops is not taken from a later member instead", async () => {
    await send('update', await patch('team-a', 'agg', { spec: { filter: { exclude: { names: ['io.example/shared'] } } } }));
    await broker.idle();
    const live = await served('team-a', 'agg');
    assert.deepEqual(by(live), ['alpha@2.0.0<m1', 'beta@1.1.0<m1', 'both@1.0.0<m3', 'both@9.0.0<m3', 'gamma@1.0.0<m3']);
    const agg = await get('team-a', 'agg');
    assert.equal(agg.status?.serverCount, 4);
    // m1's shared is filtered out; m2's and m3's shared stay shadowed by it
    assert.deepEqual(agg.status?.members?.map((m) => [m.name, m.servers, m.shadowed]), [
      ['m1', 2, 0],
      ['m2', 0, 2],
      ['m3', 2, 1],
    ]);
    const shared = (await served('team-a', 'agg', '&include_deleted=true')).filter((r) => r.server.name === 'io.example/shared');
    assert.deepEqual(shared.map((r) => `${r.server.version} ${r._meta[OFFICIAL].status}`), ['1.0.0 deleted'], 'filtered out: a tombstone, for mirrors');
    await send('update', await patch('team-a', 'agg', { spec: { filter: null } }));
    assert.deepEqual(by(await served('team-a', 'agg')), ['alpha@2.0.0<m1', 'beta@1.1.0<m1', 'both@1.0.0<m3', 'both@9.0.0<m3', 'gamma@1.0.0<m3', 'shared@1.0.0<m1']);
  });

  test('a missing member, and members of another namespace without the annotation or not listed in it, fail the sync by name', async () => {
    await member('team-b', 'local', [row('local', '1.0.0')]);
    const agg = await aggregate('team-b', 'cross', [{ name: 'm1', namespace: 'team-a' }, { name: 'nope' }, { name: 'local' }]);
    assert.equal(agg.status?.phase, 'Failed');
    assert.equal(condition(agg, 'Ready')?.status, 'False');
    assert.equal(condition(agg, 'Synced')?.reason, 'MemberForbidden');
    assert.equal(condition(agg, 'SourceAvailable')?.status, 'False');
    const members = condition(agg, 'MembersAvailable')!;
    assert.equal(members.status, 'False');
    assert.match(members.message, /team-a\/m1: not allowed: it is in another namespace and has no toolhive\.stacklok\.io\/aggregation-allowed-namespaces annotation allowing team-b/);
    assert.match(members.message, /team-b\/nope: MCPRegistry team-b\/nope not found/);
    assert.deepEqual(
      agg.status?.members?.map((m) => [m.name, m.problem ?? 'ok']),
      [
        ['m1', 'Forbidden'],
        ['nope', 'NotFound'],
        ['local', 'ok'],
      ],
    );
    assert.equal(await readPointer(store, { namespace: 'team-b', name: 'cross' }), null, 'nothing published');
    assert.ok(!JSON.stringify(agg.status).includes('alpha'), "nothing of the forbidden member's content in the status");

    // an annotation that lists other namespaces does not allow team-b
    await patch('team-a', 'm1', { metadata: { annotations: { [AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION]: 'team-c' } } });
    await send('update', await patch('team-b', 'cross', { metadata: { annotations: { [SYNC_TRIGGER_ANNOTATION]: '1' } } }));
    assert.match(condition(await get('team-b', 'cross'), 'MembersAvailable')!.message, /annotation does not list team-b \(it lists team-c\)/);

    // listed: allowed; the missing member still fails the sync
    await patch('team-a', 'm1', { metadata: { annotations: { [AGGREGATION_ALLOWED_NAMESPACES_ANNOTATION]: 'team-c, team-b' } } });
    await send('update', await patch('team-b', 'cross', { metadata: { annotations: { [SYNC_TRIGGER_ANNOTATION]: '2' } } }));
    const listed = await get('team-b', 'cross');
    assert.equal(condition(listed, 'Synced')?.reason, 'MemberNotFound');
    assert.deepEqual(listed.status?.members?.map((m) => m.problem ?? 'ok'), ['ok', 'NotFound', 'ok']);
  });

  test('allowPartial publishes without the members that cannot be used, names them, and takes them in once they publish', async () => {
    await send('update', await patch('team-b', 'cross', { spec: { allowPartial: true } }));
    await broker.idle();
    let agg = await get('team-b', 'cross');
    assert.equal(condition(agg, 'Ready')?.status, 'True');
    assert.equal(condition(agg, 'Synced')?.status, 'True');
    assert.equal(condition(agg, 'MembersAvailable')?.reason, 'MemberNotFound');
    assert.match(condition(agg, 'MembersAvailable')!.message, /^published without team-b\/nope: MCPRegistry team-b\/nope not found/);
    assert.deepEqual(by(await served('team-b', 'cross')), ['alpha@2.0.0<m1', 'beta@1.1.0<m1', 'local@1.0.0<local', 'shared@1.0.0<m1']);

    // created but not synced yet: NotSynced
    const nope = await create('team-b', 'nope', { format: 'upstream', source: { type: 'url', url: { url: `${http.url}/team-b/nope.json`, allowHttp: true } } });
    await send('update', await patch('team-b', 'cross', { metadata: { annotations: { [SYNC_TRIGGER_ANNOTATION]: '3' } } }));
    agg = await get('team-b', 'cross');
    assert.equal(agg.status?.members?.[1]?.problem, 'NotSynced');
    assert.match(condition(agg, 'MembersAvailable')!.message, /team-b\/nope: it has not published a snapshot yet/);

    // its first publish wakes the aggregate
    const d = mutableDocument(doc([row('nope', '1.0.0'), row('local', '9.0.0')]), '"nope-1"');
    docs.set('team-b/nope', d);
    http.route('/team-b/nope.json', d.route);
    await send('add', nope);
    await broker.idle();
    agg = await get('team-b', 'cross');
    assert.equal(condition(agg, 'MembersAvailable')?.status, 'True');
    assert.deepEqual(by(await served('team-b', 'cross')), ['alpha@2.0.0<m1', 'beta@1.1.0<m1', 'local@9.0.0<nope', 'nope@1.0.0<nope', 'shared@1.0.0<m1']);
    assert.deepEqual(agg.status?.members?.map((m) => [m.name, m.servers, m.shadowed]), [
      ['m1', 3, 0],
      ['nope', 2, 0],
      ['local', 0, 1],
    ]);
  });

  test('cycles are refused with a condition that shows the cycle, allowPartial or not, and nothing loops', async () => {
    await create('team-c', 'cyc-b', { source: { type: 'aggregate', aggregate: { registries: [{ name: 'cyc-a' }] } } });
    const a = await aggregate('team-c', 'cyc-a', [{ name: 'cyc-b' }, { name: 'm1', namespace: 'team-a' }], { allowPartial: true });
    assert.equal(condition(a, 'Synced')?.reason, 'AggregateCycle');
    assert.equal(condition(a, 'MembersAvailable')?.reason, 'AggregateCycle');
    assert.match(condition(a, 'MembersAvailable')!.message, /team-c\/cyc-b: aggregating it would be a cycle: team-c\/cyc-a → team-c\/cyc-b → team-c\/cyc-a/);
    const mark = handled.length;
    const b = await send('add', await get('team-c', 'cyc-b'));
    await broker.idle();
    assert.equal(b.registries[0]?.outcome, 'failed');
    assert.equal(condition(await get('team-c', 'cyc-b'), 'Synced')?.reason, 'AggregateCycle');
    assert.equal(handled.length, mark + 1, 'a refused cycle publishes nothing, so no event follows');
    assert.equal(await readPointer(store, { namespace: 'team-c', name: 'cyc-a' }), null);
    // an aggregate that lists itself
    const self = await aggregate('team-c', 'selfish', [{ name: 'selfish' }]);
    assert.match(condition(self, 'MembersAvailable')!.message, /team-c\/selfish → team-c\/selfish/);
  });

  test('a member that is deleted fails its aggregates at once; they keep serving their last snapshot', async () => {
    const before = (await get('team-a', 'agg')).status!.snapshot!.hash;
    const m3 = await get('team-a', 'm3');
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'team-a', plural: 'mcpregistries', name: 'm3' });
    // the finalizer holds it until the sync function has removed its snapshots
    await send('update', await get('team-a', 'm3'));
    const result = await send('delete', m3);
    assert.ok(result.registries.some((r) => r.registry === 'team-a/agg' && r.outcome === 'failed'));
    const agg = await get('team-a', 'agg');
    assert.equal(condition(agg, 'Synced')?.reason, 'MemberNotFound');
    assert.equal(condition(agg, 'Ready')?.reason, 'StaleSnapshot');
    assert.equal(agg.status!.snapshot!.hash, before);
    assert.ok((await served('team-a', 'agg')).some((r) => r.server.name === 'io.example/gamma'));
  });
});
