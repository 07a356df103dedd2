/**
 * The event bridge against the embedded control plane: the CloudEvents an ApiServerSource
 * (Resource mode) and a PingSource would send, delivered over real HTTP to a recording sink;
 * nothing for objects that existed before it started; label selectors; Knative's retry
 * policy (retryable statuses retried, a 500 final, an unreachable sink survived); watches that
 * resume after the server ends them; a clean stop.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { decodeEvent } from '../../lib/events/decode.ts';
import { publishedEvent } from '../../lib/events/publish.ts';
import type { SnapshotPointer } from '../../lib/snapshots/pointer.ts';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { startEventBridge, type EventBridge } from '../../lib/local/event-bridge.ts';
import { createLogger } from '../../lib/log.ts';
import { startKube } from '../harness/kube.ts';

const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'team-a';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
}

function registry(name: string) {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'MCPRegistry',
    metadata: { name, namespace: NS },
    spec: { source: { type: 'configmap', configMap: { name: 'reg', key: 'registry.json' } } },
  };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('event bridge', () => {
  let cp: ControlPlane;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let sink: http.Server;
  let sinkUrl: string;
  let bridge: EventBridge;
  const received: Received[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  /** statuses to answer, in order, before answering 204 */
  let answers: number[] = [];

  const eventsFor = (subjectEnd: string) => received.filter((r) => String(r.headers['ce-subject']).endsWith(subjectEnd) && r.status === 204);

  before(async () => {
    cp = await startKube({ namespaces: [NS] });
    custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    // exists before the bridge starts: an ApiServerSource sends nothing for it
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', body: registry('before') });

    sink = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = answers.shift() ?? 204;
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
        res.writeHead(status);
        res.end(status === 204 ? undefined : 'refused');
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`;
    bridge = await startEventBridge({
      kubeConfig: cp.kubeConfig(),
      sink: sinkUrl,
      ping: { intervalMs: 0 },
      delivery: { retries: 3, backoffMs: 10, timeoutMs: 5_000 },
      watchTimeoutSeconds: 1,
      log: createLogger({ format: 'json', level: 'debug', write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) }),
    });
  });

  after(async () => {
    await bridge?.stop();
    await new Promise<void>((r) => (sink ? sink.close(() => r()) : r()));
    await cp?.stop();
  });

  test('a new registry: an add event as ApiServerSource sends it, which the sync function decodes', async () => {
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', body: registry('alpha') });
    const [event] = await until('the add event', () => {
      const e = eventsFor('/mcpregistries/alpha');
      return e.length > 0 ? e : undefined;
    });
    const h = event!.headers;
    assert.equal(h['ce-specversion'], '1.0');
    assert.equal(h['ce-type'], 'dev.knative.apiserver.resource.add');
    assert.equal(h['ce-source'], cp.url);
    assert.equal(h['ce-subject'], `/apis/${GROUP}/${VERSION}/namespaces/${NS}/mcpregistries/alpha`);
    assert.equal(h['ce-kind'], 'MCPRegistry');
    assert.equal(h['ce-name'], 'alpha');
    assert.equal(h['ce-namespace'], NS);
    assert.equal(h['ce-apiversion'], `${GROUP}/${VERSION}`);
    assert.match(String(h['ce-id']), /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(String(h['ce-time']))));
    assert.match(String(h['content-type']), /^application\/json/);
    const object = JSON.parse(event!.body) as { kind: string; metadata: { name: string; resourceVersion: string; generation: number }; spec: { source: unknown } };
    assert.equal(object.kind, 'MCPRegistry');
    assert.equal(object.metadata.name, 'alpha');
    assert.ok(object.metadata.resourceVersion);
    assert.deepEqual(object.spec.source, registry('alpha').spec.source, 'the whole object, as stored (defaults applied)');

    const decoded = decodeEvent({ headers: event!.headers, body: event!.body });
    assert.equal(decoded.type, 'resource');
    assert.ok(decoded.type === 'resource' && decoded.action === 'add' && decoded.kind === 'MCPRegistry' && decoded.object.metadata.name === 'alpha');
  });

  test('nothing is sent for an object that existed before the bridge started', () => {
    assert.equal(received.filter((r) => String(r.headers['ce-subject']).endsWith('/mcpregistries/before')).length, 0);
  });

  test('update and delete events carry the object (the last state for a delete)', async () => {
    await custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name: 'alpha', body: { metadata: { annotations: { 'toolhive.stacklok.io/sync-trigger': 'now' } } } },
      mergePatch,
    );
    const update = await until('the update event', () => eventsFor('/mcpregistries/alpha').find((e) => e.headers['ce-type'] === 'dev.knative.apiserver.resource.update'));
    assert.equal((JSON.parse(update.body) as { metadata: { annotations: Record<string, string> } }).metadata.annotations['toolhive.stacklok.io/sync-trigger'], 'now');

    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name: 'alpha' });
    const del = await until('the delete event', () => eventsFor('/mcpregistries/alpha').find((e) => e.headers['ce-type'] === 'dev.knative.apiserver.resource.delete'));
    assert.equal((JSON.parse(del.body) as { metadata: { name: string } }).metadata.name, 'alpha');
    const types = eventsFor('/mcpregistries/alpha').map((e) => String(e.headers['ce-type']).split('.').pop());
    assert.deepEqual(types, ['add', 'update', 'delete'], 'in order, each once');
  });

  test('ConfigMaps only with the registry-source label; sync jobs too', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'plain', namespace: NS }, data: { a: '1' } } });
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'labelled', namespace: NS, labels: { 'toolhive.stacklok.io/registry-source': 'true' } }, data: { 'registry.json': '{}' } },
    });
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'mcpregistrysyncjobs',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistrySyncJob', metadata: { name: 'job-1', namespace: NS }, spec: { registryRef: { name: 'before' } } },
    });
    const cm = await until('the ConfigMap event', () => eventsFor('/configmaps/labelled')[0]);
    assert.equal(cm.headers['ce-subject'], `/apis/v1/namespaces/${NS}/configmaps/labelled`);
    assert.equal(cm.headers['ce-kind'], 'ConfigMap');
    assert.equal(cm.headers['ce-apiversion'], 'v1');
    const job = await until('the sync job event', () => eventsFor('/mcpregistrysyncjobs/job-1')[0]);
    assert.equal(job.headers['ce-kind'], 'MCPRegistrySyncJob');
    await bridge.idle();
    assert.equal(received.filter((r) => String(r.headers['ce-subject']).endsWith('/configmaps/plain')).length, 0);
  });

  test('a ping: the PingSource tick of knative/pingsource.yaml', async () => {
    bridge.ping();
    await bridge.idle();
    const tick = received.filter((r) => r.headers['ce-type'] === 'dev.knative.sources.ping').at(-1);
    assert.ok(tick);
    assert.equal(tick.headers['ce-source'], '/apis/v1/namespaces/mcp-registry/pingsources/mcp-registry-resync');
    assert.deepEqual(JSON.parse(tick.body), { reason: 'periodic-resync' });
    assert.equal(decodeEvent({ headers: tick.headers, body: tick.body }).type, 'ping');
  });

  test('a relayed snapshot-published event reaches the sink as the Broker\'s Trigger would deliver it', async () => {
    const pointer = { apiVersion: 'mcpreg/v1', namespace: NS, name: 'member', hash: 'a'.repeat(64) } as unknown as SnapshotPointer;
    bridge.relay(publishedEvent(pointer));
    await bridge.idle();
    const relayed = received.filter((r) => r.headers['ce-type'] === 'io.toolhive.registry.snapshot.published').at(-1);
    assert.ok(relayed, 'delivered');
    assert.equal(relayed.headers['ce-subject'], `${NS}/member`);
    assert.equal(relayed.status, 204);
    const decoded = decodeEvent({ headers: relayed.headers, body: relayed.body });
    assert.ok(decoded.type === 'published' && decoded.subject === `${NS}/member`);
  });

  test('retryable statuses are retried with backoff; a 500 is final and logged', async () => {
    answers = [503, 429, 502];
    const before = received.length;
    bridge.ping();
    await bridge.idle();
    assert.deepEqual(received.slice(before).map((r) => r.status), [503, 429, 502, 204], 'three retries, then delivered');
    const stats = bridge.stats();

    answers = [500];
    const mark = received.length;
    bridge.ping();
    await bridge.idle();
    assert.deepEqual(received.slice(mark).map((r) => r.status), [500], 'not retried');
    assert.equal(bridge.stats().failed, stats.failed + 1);
    const warning = logLines.findLast((l) => l.msg === 'event not delivered');
    assert.ok(warning);
    assert.equal(warning.status, 500);
    assert.equal(warning.event, 'resync tick');
    assert.equal(warning.error, 'refused');
  });

  test('watches resume after the server ends them: changes are still seen, exactly once', async () => {
    // watchTimeoutSeconds is 1: by now each watch was ended and resumed several times
    await new Promise((r) => setTimeout(r, 2_500));
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', body: registry('beta') });
    await until('the add event after resumed watches', () => eventsFor('/mcpregistries/beta')[0]);
    await new Promise((r) => setTimeout(r, 1_500));
    await bridge.idle();
    assert.equal(eventsFor('/mcpregistries/beta').length, 1);
    assert.equal(received.filter((r) => String(r.headers['ce-subject']).endsWith('/mcpregistries/before')).length, 0, 'resuming never replays existing objects');
  });
});

describe('event bridge with an unreachable sink', () => {
  test('delivery failures are logged after the retries; the bridge keeps running and stops cleanly', async () => {
    const cp = await startKube({ namespaces: [NS] });
    // a port nothing listens on
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const lines: Array<Record<string, unknown>> = [];
    const bridge = await startEventBridge({
      kubeConfig: cp.kubeConfig(),
      sink: `http://127.0.0.1:${port}/`,
      ping: { intervalMs: 0 },
      delivery: { retries: 2, backoffMs: 5 },
      log: createLogger({ format: 'json', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }),
    });
    try {
      const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
      await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', body: registry('lost') });
      await until('the failure log', () => lines.find((l) => l.msg === 'event not delivered'));
      const line = lines.find((l) => l.msg === 'event not delivered')!;
      assert.equal(line.event, `MCPRegistry ${NS}/lost add`);
      assert.equal(line.attempts, 3);
      assert.match(String(line.error), /ECONNREFUSED/);
      bridge.ping();
      await bridge.idle();
      assert.equal(bridge.stats().failed, 2);
    } finally {
      await bridge.stop();
      await cp.stop();
    }
  });
});
