/**
 * The sync function's telemetry with the real OpenTelemetry SDK exporting over OTLP/HTTP to a
 * receiver on loopback: a CloudEvent carrying a W3C `traceparent` syncs a registry whose
 * source needs a bearer token from a Secret, into an S3 store (s3rver); the trace links the
 * event to the sync span, its phase and store children, and the outgoing requests (the source's
 * HTTP GET, the S3 calls, the Kubernetes API calls), the metrics carry the sync attributes, and the audit log
 * records the event, the sync, the publish and the workloads it changed — and nowhere does the token appear.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CloudEvent, HTTP } from 'cloudevents';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController, type SyncController } from '../../lib/sync/controller.ts';
import { leaseName } from '../../lib/kube/lease.ts';
import { telemetryConfigFromEnv } from '../../lib/telemetry/config.ts';
import { instrumentStore } from '../../lib/telemetry/instrumented-store.ts';
import { startTelemetry, type Telemetry } from '../../lib/telemetry/telemetry.ts';
import { startSyncServer, type SyncServer } from '../../functions/sync/server.ts';
import { workloadCrds } from '../../lib/deploy/workload-crds.ts';
import { installCrds } from '../../lib/local/examples.ts';
import { startKube } from '../harness/kube.ts';
import { startHttpServer, type TestHttpServer } from '../servers/http.ts';
import { latest, startOtlpReceiver, type OtlpReceiver } from '../servers/otlp.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/real');
const document = await readFile(join(FIXTURES, 'toolhive-registry.2026-02-20.json'), 'utf8');
const TOKEN = 'source-bearer-token-5f0c2e9a7d1b';
const NS = 'team-t';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

/** The ApiServerSource event (from the control plane at `source`) for the MCPRegistry `traced` in NS. */
function tracedRegistryEvent(source: string, id: string, action: 'add' | 'delete', object: { apiVersion: string }) {
  return new CloudEvent({
    id,
    type: `dev.knative.apiserver.resource.${action}`,
    source,
    subject: `/apis/toolhive.stacklok.io/v1alpha1/namespaces/${NS}/mcpregistries/traced`,
    datacontenttype: 'application/json',
    data: object,
    kind: 'MCPRegistry',
    name: 'traced',
    namespace: NS,
    apiversion: object.apiVersion,
  });
}

describe('sync telemetry over OTLP', () => {
  let cp: ControlPlane;
  let receiver: OtlpReceiver;
  let source: TestHttpServer;
  let telemetry: Telemetry;
  let sync: SyncServer;
  let s3: TestS3;
  let controller: SyncController;
  const audit: string[] = [];

  before(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    cp = await startKube({ namespaces: [NS, 'mcp-registry'] });
    source = await startHttpServer({ '/registry.json': { body: document, auth: { bearer: TOKEN } } });
    s3 = await startS3Server();
    const config = telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, MCPREG_AUDIT: 'stdout' }, { serviceName: 'mcp-registry-sync' });
    telemetry = await startTelemetry(config, { exportIntervalMs: 60_000, auditWrite: (line) => audit.push(line) });
    controller = createSyncController({
      kubeConfig: cp.kubeConfig(),
      store: instrumentStore(await createS3Store(s3.storeOptions()), telemetry),
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 0, totalTimeoutMs: 10_000 }),
      config: { deadlineMs: 60_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'sync-test-identity', keepSnapshots: 3 },
      log: silentLogger,
      telemetry,
    });
    sync = await startSyncServer({ log: silentLogger, handle: controller.handle, telemetry });
    const core = cp.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'source-creds' }, stringData: { token: TOKEN } } });
    // two workloads the sync changes: one discovered by its image, one whose entry is not in the registry
    await installCrds(cp.kubeConfig(), workloadCrds());
    const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    const mcpServer = (name: string, image: string, labels?: Record<string, string>) =>
      custom.createNamespacedCustomObject({ group: 'toolhive.stacklok.dev', version: 'v1beta1', plural: 'mcpservers', namespace: NS, body: { apiVersion: 'toolhive.stacklok.dev/v1beta1', kind: 'MCPServer', metadata: { name, ...(labels ? { labels } : {}) }, spec: { image, transport: 'stdio' } } });
    await mcpServer('papers', 'ghcr.io/stacklok/dockyard/uvx/arxiv-mcp-server:0.1.0');
    await mcpServer('orphan', 'ghcr.io/example/orphan:1', { 'toolhive.stacklok.io/registry-name': 'traced', 'toolhive.stacklok.io/registry-namespace': NS, 'toolhive.stacklok.io/server-name': 'not-in-the-registry' });
  });

  after(async () => {
    await sync?.close();
    await telemetry?.shutdown();
    await source?.close();
    await receiver?.close();
    await cp?.stop();
    await s3?.stop();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  });

  async function post(message: { headers: Record<string, unknown>; body: unknown }, extra: Record<string, string> = {}): Promise<number> {
    const res = await fetch(sync.url + '/', { method: 'POST', headers: { ...(message.headers as Record<string, string>), ...extra }, body: String(message.body) });
    await res.arrayBuffer();
    return res.status;
  }

  test('a CloudEvent with traceparent: spans, metrics and audit lines of the sync it caused, no token anywhere', async () => {
    const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    const spec = { source: { type: 'url', url: { url: `${source.url}/registry.json`, allowHttp: true, authSecret: { name: 'source-creds', tokenKey: 'token' } } }, syncPolicy: { interval: '1h' } };
    const created = (await custom.createNamespacedCustomObject({
      group: 'toolhive.stacklok.io',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'mcpregistries',
      body: { apiVersion: 'toolhive.stacklok.io/v1alpha1', kind: 'MCPRegistry', metadata: { name: 'traced' }, spec },
    })) as { apiVersion: string; kind: string; metadata: { name: string; namespace: string } };
    const event = tracedRegistryEvent(cp.url, 'event-0001', 'add', created);
    // Knative's broker forwards the trace context as an HTTP header
    assert.equal(await post(HTTP.binary(event), { traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01` }), 204);
    // a refused (poison) delivery
    const pod = new CloudEvent({ id: 'event-0002', type: 'dev.knative.apiserver.resource.add', source: cp.url, datacontenttype: 'application/json', data: { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p', namespace: NS } }, kind: 'Pod', name: 'p', namespace: NS, apiversion: 'v1' });
    assert.equal(await post(HTTP.binary(pod)), 422);
    await telemetry.flush();

    // traces: event (child of the broker's span) → sync → phases and store requests
    const spans = receiver.spans().filter((s) => s.traceId === TRACE_ID);
    const eventSpan = spans.find((s) => s.name === 'event');
    assert.ok(eventSpan, `spans: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(eventSpan.parentSpanId, PARENT_SPAN);
    assert.equal(eventSpan.attributes['cloudevents.event_id'], 'event-0001');
    assert.equal(eventSpan.service, 'mcp-registry-sync');
    const syncSpan = spans.find((s) => s.name === 'sync');
    assert.ok(syncSpan);
    assert.equal(syncSpan.parentSpanId, eventSpan.spanId);
    assert.equal(syncSpan.attributes['mcpreg.registry'], `${NS}/traced`);
    assert.equal(syncSpan.attributes['mcpreg.sync.outcome'], 'published');
    const children = spans.filter((s) => s.parentSpanId === syncSpan.spanId).map((s) => s.name);
    for (const phase of ['sync.fetch', 'sync.parse', 'sync.convert', 'sync.publish', 'store.get', 'store.put']) assert.ok(children.includes(phase), `${phase} under sync: ${children.join(', ')}`);
    // outgoing requests, in the same trace: the source's GET, S3 calls under the store spans, Kubernetes API calls
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const under = (ancestor: string) => (s: { parentSpanId: string }): boolean => {
      for (let p = byId.get(s.parentSpanId); p; p = byId.get(p.parentSpanId)) if (p.spanId === ancestor) return true;
      return false;
    };
    const underSync = under(syncSpan.spanId);
    const get = spans.find((s) => s.name === 'GET' && s.attributes['url.path'] === '/registry.json');
    assert.ok(get, `an HTTP GET span: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(get.attributes['http.response.status_code'], 200);
    assert.equal(get.attributes['server.address'], '127.0.0.1');
    assert.ok(underSync(get), 'the fetch is under the sync');
    const s3Calls = spans.filter((s) => s.name.startsWith('S3.'));
    assert.ok(s3Calls.some((s) => s.name === 'S3.PutObject' && byId.get(s.parentSpanId)?.name === 'store.put'), `S3 spans: ${s3Calls.map((s) => `${s.name}<${byId.get(s.parentSpanId)?.name}`).join(', ')}`);
    assert.ok(s3Calls.every(underSync));
    assert.equal(s3Calls[0]!.attributes['rpc.service'], 'S3');
    const kube = spans.filter((s) => s.name.startsWith('k8s '));
    assert.ok(kube.some((s) => s.name === 'k8s replaceNamespacedCustomObjectStatus' && s.attributes['mcpreg.kube.resource'] === 'mcpregistries'), `Kubernetes spans: ${kube.map((s) => s.name).join(', ')}`);
    // the source's Secret read, the registry's status writes and the workloads' writes are the sync's
    assert.ok(kube.some((s) => s.name === 'k8s readNamespacedSecret' && s.attributes['mcpreg.kube.resource'] === 'secrets' && underSync(s)), 'the Secret read under the sync');
    const statusWrites = kube.filter((s) => s.name === 'k8s replaceNamespacedCustomObjectStatus' && s.attributes['mcpreg.kube.resource'] === 'mcpregistries');
    assert.ok(statusWrites.length >= 2, 'Syncing, then the result');
    assert.ok(statusWrites.every(underSync), 'the status writes under the sync');
    const reconcileSpan = spans.find((s) => s.name === 'workloads.reconcile');
    assert.ok(reconcileSpan && underSync(reconcileSpan), 'the workloads reconciliation under the sync');
    const workloadWrites = kube.filter((s) => s.name === 'k8s patchNamespacedCustomObject' && s.attributes['mcpreg.kube.resource'] === 'workloads');
    assert.equal(workloadWrites.length, 2, 'an apply of papers, an annotation of orphan');
    assert.ok(workloadWrites.every(under(reconcileSpan.spanId)));
    assert.ok(kube.every(under(eventSpan.spanId)), 'the Kubernetes calls are under the event');
    const fetchSpan = spans.find((s) => s.name === 'sync.fetch')!;
    assert.equal(fetchSpan.attributes['mcpreg.fetched.size'], Buffer.byteLength(document));

    // metrics
    const points = receiver.points();
    const runs = latest(points, 'mcpreg.sync.runs', { 'mcpreg.registry': `${NS}/traced`, 'mcpreg.source.type': 'url', 'mcpreg.sync.outcome': 'published' });
    assert.equal(runs?.value, 1);
    const duration = latest(points, 'mcpreg.sync.duration', { 'mcpreg.registry': `${NS}/traced` });
    assert.equal(duration?.unit, 's');
    assert.equal(duration?.value, 1);
    for (const phase of ['fetch', 'parse', 'convert', 'publish']) assert.equal(latest(points, 'mcpreg.sync.phase.duration', { 'mcpreg.sync.phase': phase, 'mcpreg.source.type': 'url' })?.value, 1, phase);
    assert.equal(latest(points, 'mcpreg.sync.fetched.size', { 'mcpreg.source.type': 'url' })?.value, Buffer.byteLength(document));
    const parsed = JSON.parse(document) as { servers: object; remote_servers: object };
    const total = Object.keys(parsed.servers).length + Object.keys(parsed.remote_servers).length;
    assert.equal(latest(points, 'mcpreg.sync.entries', { 'mcpreg.registry': `${NS}/traced`, 'mcpreg.entry.state': 'published' })?.value, total);
    assert.equal(latest(points, 'mcpreg.sync.entries', { 'mcpreg.registry': `${NS}/traced`, 'mcpreg.entry.state': 'filtered' })?.value, 0);
    const since = latest(points, 'mcpreg.sync.time_since_success', { 'mcpreg.registry': `${NS}/traced` });
    assert.ok(since && since.value >= 0 && since.value < 60, JSON.stringify(since));
    assert.equal(latest(points, 'mcpreg.sync.consecutive_failures', { 'mcpreg.registry': `${NS}/traced` })?.value, 0);

    // audit
    const records = audit.map((l) => JSON.parse(l) as Record<string, unknown>);
    const byAction = (a: string) => records.filter((r) => r.action === a);
    assert.deepEqual(
      byAction('event.receive').map((r) => [r.outcome, r.requestId]),
      [
        ['accepted', 'event-0001'],
        ['refused', 'event-0002'],
      ],
    );
    assert.match(String(byAction('event.receive')[1]!.reason), /^422: /);
    const synced = byAction('registry.sync')[0]!;
    assert.equal(synced.resource, `mcpregistries/${NS}/traced`);
    assert.equal(synced.outcome, 'success');
    assert.equal(synced.actor, 'sync-test-identity');
    assert.equal(synced.traceId, TRACE_ID);
    assert.match(String(byAction('snapshot.publish')[0]!.resource), new RegExp(`^snapshots/${NS}/traced/[0-9a-f]{64}$`));
    // every workload label or update
    const updated = byAction('workload.update');
    assert.deepEqual(updated.map((r) => [r.resource, r.outcome, r.actor, r.traceId]), [[`mcpservers/${NS}/papers`, 'success', 'sync-test-identity', TRACE_ID]]);
    assert.match(String(updated[0]!.reason), new RegExp(`^registry ${NS}/traced, server arxiv-mcp-server: labelled \\(discovered\\) and registry-managed fields applied from snapshot [0-9a-f]{12}$`));
    const annotated = byAction('workload.annotate');
    assert.deepEqual(annotated.map((r) => [r.resource, r.outcome]), [[`mcpservers/${NS}/orphan`, 'success']]);
    assert.match(String(annotated[0]!.reason), /server not-in-the-registry: annotated toolhive\.stacklok\.io\/registry-entry-removed/);
    for (const r of records) assert.deepEqual(Object.keys(r).slice(0, 3), ['kind', 'schema', 'time']);

    // the source's bearer token: sent to the source, never in telemetry
    assert.ok(source.requests.some((r) => r.headers.authorization === `Bearer ${TOKEN}`));
    for (const text of [...receiver.raw, ...audit]) {
      assert.ok(!text.includes(TOKEN), 'token in telemetry output');
      assert.ok(!text.includes(s3.credentials.secretAccessKey), 'the S3 secret key in telemetry output');
      assert.ok(!text.includes(Buffer.from(TOKEN).toString('base64')), 'base64 token in telemetry output');
    }
  });

  test('a failed sync, its retry and a Lease held elsewhere: retries, consecutive failures and lease contention', async () => {
    source.route('/flaky.json', { body: document, failFirst: { count: 1, status: 500 } });
    const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'toolhive.stacklok.io',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'mcpregistries',
      body: { apiVersion: 'toolhive.stacklok.io/v1alpha1', kind: 'MCPRegistry', metadata: { name: 'flaky' }, spec: { source: { type: 'url', url: { url: `${source.url}/flaky.json`, allowHttp: true } }, syncPolicy: { interval: '1h' } } },
    });
    const outcomes = async () => (await controller.syncRegistry(NS, 'flaky', 'webhook')).map((x) => x.outcome);
    assert.deepEqual(await outcomes(), ['failed']);
    await telemetry.flush();
    assert.equal(latest(receiver.points(), 'mcpreg.sync.consecutive_failures', { 'mcpreg.registry': `${NS}/flaky` })?.value, 1);
    assert.equal(latest(receiver.points(), 'mcpreg.sync.retries', { 'mcpreg.source.type': 'url' }), undefined, 'a first failure is no retry');
    assert.deepEqual(await outcomes(), ['published']);
    // another replica holds the registry's Lease
    const leases = cp.kubeConfig().makeApiClient(CoordinationV1Api);
    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    await leases.createNamespacedLease({ namespace: 'mcp-registry', body: { metadata: { name: leaseName(NS, 'flaky') }, spec: { holderIdentity: 'another-replica', leaseDurationSeconds: 120, acquireTime: now as never, renewTime: now as never } } }).catch(async () => {
      const current = await leases.readNamespacedLease({ namespace: 'mcp-registry', name: leaseName(NS, 'flaky') });
      await leases.replaceNamespacedLease({ namespace: 'mcp-registry', name: leaseName(NS, 'flaky'), body: { ...current, spec: { ...current.spec, holderIdentity: 'another-replica', leaseDurationSeconds: 120, renewTime: now as never } } });
    });
    assert.deepEqual(await outcomes(), ['busy']);
    await telemetry.flush();
    const points = receiver.points();
    assert.equal(latest(points, 'mcpreg.sync.retries', { 'mcpreg.source.type': 'url' })?.value, 1, 'the sync after the failed one');
    assert.equal(latest(points, 'mcpreg.sync.consecutive_failures', { 'mcpreg.registry': `${NS}/flaky` })?.value, 0);
    assert.equal(latest(points, 'mcpreg.sync.runs', { 'mcpreg.registry': `${NS}/flaky`, 'mcpreg.source.type': 'url', 'mcpreg.sync.outcome': 'failed' })?.value, 1);
    assert.equal(latest(points, 'mcpreg.sync.runs', { 'mcpreg.registry': `${NS}/flaky`, 'mcpreg.source.type': 'url', 'mcpreg.sync.outcome': 'published' })?.value, 1);
    assert.equal(latest(points, 'mcpreg.sync.lease.contention', { 'mcpreg.registry': `${NS}/flaky` })?.value, 1);
    const failed = audit.map((l) => JSON.parse(l) as Record<string, string>).filter((r) => r.action === 'registry.sync' && r.resource === `mcpregistries/${NS}/flaky`);
    assert.deepEqual(failed.map((r) => r.outcome), ['failure', 'success']);
  });

  test('deleting the registry removes its snapshots, with a snapshot.delete audit line', async () => {
    const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    const target = { group: 'toolhive.stacklok.io', version: 'v1alpha1', namespace: NS, plural: 'mcpregistries', name: 'traced' };
    await custom.deleteNamespacedCustomObject(target);
    // held by our finalizer until the sync function has removed the snapshots
    const object = (await custom.getNamespacedCustomObject(target)) as { apiVersion: string; metadata: { deletionTimestamp?: string } };
    assert.ok(object.metadata.deletionTimestamp);
    const event = tracedRegistryEvent(cp.url, 'event-0003', 'delete', object);
    assert.equal(await post(HTTP.binary(event)), 204);
    await assert.rejects(custom.getNamespacedCustomObject(target), (e: { code?: number }) => e.code === 404, 'the finalizer is lifted');
    const deleted = audit.map((l) => JSON.parse(l) as Record<string, string>).filter((r) => r.action === 'snapshot.delete');
    assert.deepEqual(deleted.map((r) => [r.resource, r.outcome, r.actor]), [[`snapshots/${NS}/traced`, 'success', 'sync-test-identity']]);
    assert.match(deleted[0]!.reason!, /^registry deleted; [1-9]\d* objects removed$/);
    for (const text of audit) assert.ok(!text.includes(TOKEN));
  });
});
