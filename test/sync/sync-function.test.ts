/**
 * The sync function end to end: the embedded control plane with our CRDs, real CloudEvents over
 * HTTP (binary mode, as Knative's ApiServerSource and PingSource send them) to the function's
 * HTTP server, snapshots in S3 (s3rver), and real source servers (HTTP, git http-backend, an
 * upstream registry API, ConfigMaps). The clock and the jitter are injected so that retry
 * times can be checked exactly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudEvent, HTTP } from 'cloudevents';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { leaseName } from '../../lib/kube/lease.ts';
import { silentLogger } from '../../lib/log.ts';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import { readPointer } from '../../lib/snapshots/read.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController, type HandleResult, type SyncSummary } from '../../lib/sync/controller.ts';
import { FINALIZER, SYNC_TRIGGER_ANNOTATION } from '../../lib/sync/decide.ts';
import { startSyncServer, type SyncServer } from '../../functions/sync/server.ts';
import { startKube } from '../harness/kube.ts';
import { mutableDocument, startHttpServer, type TestHttpServer } from '../servers/http.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';
import { entriesFromFixtures, startUpstreamApi, type TestUpstreamApi } from '../servers/upstream-api.ts';
import { startGitServer, TestRepo, type TestGitServer } from '../servers/git.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/real');
const realToolhive = JSON.parse(await readFile(join(FIXTURES, 'toolhive-registry.2026-02-20.json'), 'utf8')) as {
  servers: Record<string, { description?: string }>;
  remote_servers: Record<string, unknown>;
};
const REAL_COUNT = Object.keys(realToolhive.servers).length + Object.keys(realToolhive.remote_servers).length;
const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'team-a';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Registry {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; generation: number; resourceVersion: string; finalizers?: string[]; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec: Record<string, unknown>;
  status?: {
    phase?: string;
    observedGeneration?: number;
    serverCount?: number;
    invalidCount?: number;
    syncAttempts?: number;
    lastAttemptTime?: string;
    nextSyncTime?: string;
    lastManualSyncTrigger?: string;
    snapshot?: { hash: string; revision?: string; key: string };
    apiEndpoint?: string;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
}

describe('sync function on CloudEvents', () => {
  let cp: ControlPlane;
  let s3: TestS3;
  let store: SnapshotStore;
  let http: TestHttpServer;
  let sinkServer: TestHttpServer;
  let upstream: TestUpstreamApi;
  let git: TestGitServer;
  let repo: TestRepo;
  let gitRoot: string;
  let sync: SyncServer;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let clock = new Date('2026-03-01T00:00:00Z');
  const handled: HandleResult[] = [];
  const received: Array<{ type: string; subject: string; authorization?: string }> = [];
  const url = mutableDocument(JSON.stringify(realToolhive), '"u1"');

  before(async () => {
    cp = await startKube({ namespaces: [NS, 'mcp-registry'] });
    custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    s3 = await startS3Server();
    store = await createS3Store(s3.storeOptions());
    http = await startHttpServer({
      '/registry.json': url.route,
    });
    sinkServer = await startHttpServer({
      '/': {
        handler: (req, res) => {
          received.push({ type: String(req.headers['ce-type']), subject: String(req.headers['ce-subject']), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
          req.resume();
          res.writeHead(202);
          res.end();
        },
      },
    });
    upstream = await startUpstreamApi({ entries: entriesFromFixtures() });
    gitRoot = await mkdtemp(join(tmpdir(), 'mcpreg-sync-git-'));
    repo = new TestRepo(gitRoot, 'registry');
    repo.commit({ files: { 'registry.json': JSON.stringify(realToolhive, null, 2) } });
    git = await startGitServer({ root: gitRoot });
    const controller = createSyncController({
      kubeConfig: cp.kubeConfig(),
      store,
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 1, retryBaseMs: 10, retryMaxWaitMs: 100, totalTimeoutMs: 10_000 }),
      config: {
        deadlineMs: 60_000,
        concurrency: 2,
        leaseNamespace: 'mcp-registry',
        leaseDurationSeconds: 120,
        identity: 'test-sync',
        keepSnapshots: 3,
        apiBaseUrl: 'http://query.example',
        sink: sinkServer.url + '/',
        eventsToken: 'query-events-token',
      },
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
  });

  after(async () => {
    await sync?.close();
    await git?.close();
    repo?.dispose();
    if (gitRoot) await rm(gitRoot, { recursive: true, force: true });
    await upstream?.close();
    await sinkServer?.close();
    await http?.close();
    await s3?.stop();
    await cp?.stop();
  });

  async function post(message: { headers: Record<string, unknown>; body: unknown }): Promise<number> {
    const res = await fetch(sync.url + '/', { method: 'POST', headers: message.headers as Record<string, string>, body: String(message.body) });
    await res.arrayBuffer();
    return res.status;
  }

  /** What Knative's ApiServerSource (Resource mode) would send for this object. */
  async function sendResource(action: 'add' | 'update' | 'delete', object: { kind: string; apiVersion: string; metadata: { name: string; namespace?: string } }): Promise<SyncSummary[]> {
    const plural = object.kind === 'ConfigMap' ? 'configmaps' : `${object.kind.toLowerCase()}s`;
    const event = new CloudEvent({
      type: `dev.knative.apiserver.resource.${action}`,
      source: cp.url,
      subject: `/apis/${object.apiVersion}/namespaces/${object.metadata.namespace}/${plural}/${object.metadata.name}`,
      datacontenttype: 'application/json',
      data: object,
      kind: object.kind,
      name: object.metadata.name,
      namespace: object.metadata.namespace ?? '',
      apiversion: object.apiVersion,
    });
    const before = handled.length;
    assert.equal(await post(HTTP.binary(event)), 204);
    assert.equal(handled.length, before + 1);
    return handled.at(-1)!.registries;
  }

  async function sendPing(): Promise<SyncSummary[]> {
    const event = new CloudEvent({ type: 'dev.knative.sources.ping', source: '/apis/v1/namespaces/mcp-registry/pingsources/mcp-registry-resync', datacontenttype: 'application/json', data: { reason: 'resync' } });
    assert.equal(await post(HTTP.binary(event)), 204);
    return handled.at(-1)!.registries;
  }

  const get = async (name: string) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name })) as Registry;
  const create = async (name: string, spec: object) =>
    (await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name }, spec } })) as Registry;
  const patch = async (name: string, body: object) =>
    (await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name, body }, mergePatch)) as Registry;
  const condition = (r: Registry, type: string) => r.status?.conditions?.find((c) => c.type === type);
  const retry = { maxRetries: 3, backoffInterval: '30s' };

  test('a registry of each source type syncs to Ready with the right counts and conditions', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'toolhive-registry' }, data: { 'registry.json': JSON.stringify(realToolhive) } } });
    const specs: Record<string, [object, number]> = {
      'cm-reg': [{ source: { type: 'configmap', configMap: { name: 'toolhive-registry' } }, syncPolicy: { interval: '1h', retry } }, REAL_COUNT],
      'url-reg': [{ source: { type: 'url', url: { url: `${http.url}/registry.json`, allowHttp: true } }, syncPolicy: { interval: '1h', retry } }, REAL_COUNT],
      'git-reg': [{ source: { type: 'git', git: { repository: `${git.url}/registry.git`, branch: 'main', allowHttp: true } }, syncPolicy: { interval: '10m', retry } }, REAL_COUNT],
      'api-reg': [{ source: { type: 'registry', registry: { url: upstream.url, allowHttp: true } }, syncPolicy: { interval: '1h', retry } }, upstream.entries.length],
    };
    for (const [name, [spec, count]] of Object.entries(specs)) {
      const created = await create(name, spec);
      const summaries = await sendResource('add', created);
      assert.equal(summaries[0]?.outcome, 'published', `${name}: ${JSON.stringify(summaries[0]?.result?.error)}`);
      const r = await get(name);
      assert.equal(r.status?.phase, 'Ready', name);
      assert.equal(r.status?.serverCount, count, name);
      assert.equal(r.status?.observedGeneration, r.metadata.generation);
      assert.equal(r.status?.syncAttempts, 0);
      for (const type of ['Ready', 'Synced', 'SourceAvailable', 'Valid']) assert.equal(condition(r, type)?.status, 'True', `${name} ${type}: ${condition(r, type)?.message}`);
      assert.ok(r.metadata.finalizers?.includes(FINALIZER), 'cleanup finalizer added');
      assert.equal(r.status?.apiEndpoint, `http://query.example/registries/${NS}/${name}`);
      const pointer = await readPointer(store, { namespace: NS, name });
      assert.equal(pointer?.pointer.hash, r.status?.snapshot?.hash, 'status names the published snapshot');
      assert.ok(received.some((e) => e.type === 'io.toolhive.registry.snapshot.published' && e.subject === `${NS}/${name}`), 'published event sent');
      assert.ok(received.filter((e) => e.type === 'io.toolhive.registry.snapshot.published').every((e) => e.authorization === 'Bearer query-events-token'), 'with the MCPREG_EVENTS_TOKEN');
      const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${name}` });
      assert.ok(events.items.some((e) => e.reason === 'Synced' && e.type === 'Normal' && e.involvedObject.kind === 'MCPRegistry'), `${name}: a Synced Event`);
    }
  });

  test('a ConfigMap edit re-syncs the registries that read it', async () => {
    const before = (await get('cm-reg')).status?.snapshot?.hash;
    const cm = await core.readNamespacedConfigMap({ namespace: NS, name: 'toolhive-registry' });
    const doc = JSON.parse(cm.data!['registry.json']!);
    const first = Object.keys(doc.servers).sort()[0]!;
    doc.servers[first].description = 'edited in the ConfigMap';
    const updated = await core.replaceNamespacedConfigMap({ namespace: NS, name: 'toolhive-registry', body: { ...cm, data: { 'registry.json': JSON.stringify(doc) } } });
    const summaries = await sendResource('update', { ...updated, apiVersion: 'v1', kind: 'ConfigMap' } as never);
    assert.deepEqual(summaries.map((s) => [s.registry, s.outcome]), [[`${NS}/cm-reg`, 'published']]);
    const after = (await get('cm-reg')).status?.snapshot?.hash;
    assert.notEqual(after, before);
  });

  test('a filter change alone re-publishes without fetching the source again', async () => {
    const hits = http.hits('/registry.json').length;
    const r = await patch('url-reg', { spec: { filter: { include: { names: ['*/a*'] } } } });
    const summaries = await sendResource('update', r);
    assert.equal(summaries[0]?.outcome, 'published');
    assert.equal(summaries[0]?.result?.fetch, 'refiltered');
    const requests = http.hits('/registry.json').slice(hits);
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.headers['if-none-match'], url.etag, 'a conditional request, answered 304');
    const after = await get('url-reg');
    assert.ok(after.status!.serverCount! < REAL_COUNT);
  });

  test('status-only updates, duplicates and stale events cause no sync', async () => {
    const puts = (await s3.counts()).put;
    const current = await get('url-reg');
    // our own status write comes back as an update event
    assert.equal((await sendResource('update', current))[0]?.outcome, 'skipped');
    // the same event delivered twice
    assert.equal((await sendResource('update', current))[0]?.outcome, 'skipped');
    // an old version of the object arriving late (generation 1 before the filter change)
    const stale = { ...current, metadata: { ...current.metadata, generation: 1, resourceVersion: '1' }, status: undefined };
    assert.equal((await sendResource('update', stale))[0]?.outcome, 'skipped');
    assert.equal((await s3.counts()).put, puts, 'nothing was written to object storage');
  });

  test('a manual trigger annotation syncs once, fetching in full', async () => {
    const r = await patch('url-reg', { metadata: { annotations: { [SYNC_TRIGGER_ANNOTATION]: 'now-1' } } });
    const hits = http.hits('/registry.json').length;
    const summaries = await sendResource('update', r);
    assert.equal(summaries[0]?.reason, 'manual-trigger');
    assert.ok(['published', 'unchanged'].includes(summaries[0]!.outcome));
    const request = http.hits('/registry.json').slice(hits)[0];
    assert.equal(request?.headers['if-none-match'], undefined, 'forced: no conditional request');
    const after = await get('url-reg');
    assert.equal(after.status?.lastManualSyncTrigger, 'now-1');
    assert.equal((await sendResource('update', after))[0]?.outcome, 'skipped', 'the same trigger does not sync twice');
  });

  test('a broken source fails truthfully, keeps serving the last snapshot, and retries at the backoff times', async () => {
    const before = await get('url-reg');
    const servedHash = before.status!.snapshot!.hash;
    url.status = 500;
    const t0 = new Date(clock.getTime() + 1_000);
    clock = t0;
    const r = await patch('url-reg', { metadata: { annotations: { [SYNC_TRIGGER_ANNOTATION]: 'now-2' } } });
    assert.equal((await sendResource('update', r))[0]?.outcome, 'failed');
    let s = await get('url-reg');
    assert.equal(s.status?.phase, 'Failed');
    assert.equal(condition(s, 'Synced')?.status, 'False');
    assert.equal(condition(s, 'Synced')?.reason, 'SourceUnavailable');
    assert.match(condition(s, 'Synced')!.message, /500/);
    assert.equal(condition(s, 'SourceAvailable')?.status, 'False');
    assert.equal(condition(s, 'Ready')?.status, 'True');
    assert.equal(condition(s, 'Ready')?.reason, 'StaleSnapshot');
    assert.equal(s.status?.syncAttempts, 1);
    assert.equal(s.status?.snapshot?.hash, servedHash);
    assert.equal((await readPointer(store, { namespace: NS, name: 'url-reg' }))?.pointer.hash, servedHash, 'the last good snapshot still serves');
    const warnings = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=url-reg' });
    assert.ok(warnings.items.some((e) => e.reason === 'SyncFailed' && e.type === 'Warning' && /500/.test(e.message ?? '')), 'a SyncFailed Event says why');

    // backoff 30s, 60s, 120s (jitter pinned to 0), then the 1h interval
    const expected = [30, 60, 120];
    let attemptAt = t0;
    for (let i = 0; i < expected.length; i++) {
      assert.equal(s.status?.nextSyncTime, new Date(attemptAt.getTime() + expected[i]! * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), `retry ${i + 1}`);
      clock = new Date(attemptAt.getTime() + expected[i]! * 1000 - 1000);
      assert.ok(!(await sendPing()).some((x) => x.registry === `${NS}/url-reg`), 'not retried before its time');
      clock = attemptAt = new Date(attemptAt.getTime() + expected[i]! * 1000);
      const retried = (await sendPing()).find((x) => x.registry === `${NS}/url-reg`);
      assert.equal(retried?.outcome, 'failed');
      s = await get('url-reg');
      assert.equal(s.status?.syncAttempts, i + 2);
    }
    assert.equal(s.status?.nextSyncTime, new Date(attemptAt.getTime() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'), 'retries exhausted: next at the interval');
    assert.match(condition(s, 'Synced')!.message, /gave up after 3 retries/);

    // the source recovers: the next attempt succeeds and resets the count
    url.status = 200;
    clock = new Date(attemptAt.getTime() + 3_600_000);
    const recovered = (await sendPing()).find((x) => x.registry === `${NS}/url-reg`);
    assert.ok(recovered && ['published', 'unchanged'].includes(recovered.outcome));
    s = await get('url-reg');
    assert.equal(s.status?.syncAttempts, 0);
    assert.equal(condition(s, 'Synced')?.status, 'True');
  });

  test('the ping syncs only the registries that are due', async () => {
    // everything was synced within the last few minutes of the fake clock except the git
    // registry (10m interval, last synced at the start): move past its due time only
    const git = await get('git-reg');
    clock = new Date(Math.max(clock.getTime(), Date.parse(git.status!.nextSyncTime!)) + 1000);
    const due = (await sendPing()).map((x) => x.registry).sort();
    const others = await Promise.all(['cm-reg', 'url-reg', 'api-reg'].map(get));
    const expected = [`${NS}/git-reg`, ...others.filter((o) => Date.parse(o.status!.nextSyncTime!) <= clock.getTime()).map((o) => `${NS}/${o.metadata.name}`)].sort();
    assert.deepEqual(due, expected);
    assert.ok(!due.includes(`${NS}/cm-reg`) || expected.includes(`${NS}/cm-reg`));
  });

  test('a sync job syncs its registry once and records the result', async () => {
    const job = (await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'mcpregistrysyncjobs',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistrySyncJob', metadata: { name: 'sync-now' }, spec: { registryRef: { name: 'cm-reg' } } },
    })) as Registry;
    const summaries = await sendResource('add', job);
    assert.equal(summaries[0]?.registry, `${NS}/cm-reg`);
    assert.equal(summaries[0]?.reason, 'sync-job');
    const done = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistrysyncjobs', name: 'sync-now' })) as { status?: { phase?: string; result?: { serverCount?: number } } };
    assert.equal(done.status?.phase, 'Succeeded');
    assert.equal(done.status?.result?.serverCount, REAL_COUNT);
    assert.deepEqual(await sendResource('update', job), [], 'a finished job is not run again');
  });

  test('a forged delete event for a live registry deletes nothing', async () => {
    const live = await get('url-reg');
    const served = (await readPointer(store, { namespace: NS, name: 'url-reg' }))?.pointer.hash;
    assert.ok(served, 'url-reg serves a snapshot');
    const objects = (await store.list(`registries/${NS}/url-reg/`)).length;
    const summaries = await sendResource('delete', live);
    assert.equal(summaries[0]?.outcome, 'skipped');
    assert.equal((await store.list(`registries/${NS}/url-reg/`)).length, objects, 'no snapshot object removed');
    assert.equal((await readPointer(store, { namespace: NS, name: 'url-reg' }))?.pointer.hash, served, 'the snapshot still serves');
    assert.ok((await get('url-reg')).metadata.finalizers?.includes(FINALIZER), 'the finalizer stays');
  });

  test('deleting a registry removes its snapshots before the resource goes', async () => {
    assert.ok((await store.list(`registries/${NS}/api-reg/`)).length > 0);
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name: 'api-reg' });
    const deleting = await get('api-reg');
    assert.ok(deleting.metadata.deletionTimestamp, 'the finalizer holds the resource');
    const summaries = await sendResource('update', deleting);
    assert.equal(summaries[0]?.outcome, 'cleaned-up');
    assert.deepEqual(await store.list(`registries/${NS}/api-reg/`), []);
    await assert.rejects(get('api-reg'), (e: { code?: number }) => e.code === 404);
    // its Lease went with it (they used to accumulate)
    const leases = cp.kubeConfig().makeApiClient(CoordinationV1Api);
    await assert.rejects(leases.readNamespacedLease({ namespace: 'mcp-registry', name: leaseName(NS, 'api-reg') }), (e: { code?: number }) => e.code === 404);
    assert.ok(await leases.readNamespacedLease({ namespace: 'mcp-registry', name: leaseName(NS, 'url-reg') }), 'a live registry keeps its Lease');
    // the delete event that follows is harmless
    assert.equal((await sendResource('delete', deleting))[0]?.outcome, 'cleaned-up');
    await assert.rejects(leases.readNamespacedLease({ namespace: 'mcp-registry', name: leaseName(NS, 'api-reg') }), (e: { code?: number }) => e.code === 404);
  });

  test('poison events get a 4xx and change nothing', async () => {
    assert.equal(await post({ headers: { 'content-type': 'application/json' }, body: '{"hello":"world"}' }), 400);
    const pod = new CloudEvent({ type: 'dev.knative.apiserver.resource.add', source: cp.url, datacontenttype: 'application/json', data: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: NS } } });
    assert.equal(await post(HTTP.binary(pod)), 422);
    const unknown = new CloudEvent({ type: 'com.example.unknown', source: '/x', data: {} });
    assert.equal(await post(HTTP.binary(unknown)), 400);
  });

  test('events naming an invalid registry get a 422 that does not echo the name unbounded', async () => {
    const before = handled.length;
    for (const [name, namespace] of [['../../etc', NS], ['', NS], ['x'.repeat(5000), NS], ['ok', '../kube-system'], ['UPPER', NS]] as const) {
      const event = new CloudEvent({
        type: 'dev.knative.apiserver.resource.add',
        source: cp.url,
        datacontenttype: 'application/json',
        data: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name, namespace } },
      });
      const message = HTTP.binary(event);
      const res = await fetch(sync.url + '/', { method: 'POST', headers: message.headers as Record<string, string>, body: String(message.body) });
      const text = await res.text();
      assert.equal(res.status, 422, `${name.slice(0, 20)} in ${namespace}: ${text}`);
      assert.ok(text.length < 400, `the answer is bounded (${text.length} characters)`);
      assert.match(text, /not a valid Kubernetes (name|namespace)/);
    }
    assert.equal(handled.length, before, 'none reached the controller');
  });
});
