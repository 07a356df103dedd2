/**
 * The sync function's ingress authentication against the embedded control plane: tokens are
 * real ServiceAccount tokens it issues (TokenRequest, as Knative Eventing requests them for
 * OIDC delivery), reviewed by its TokenReview API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudEvent, HTTP } from 'cloudevents';
import { CoreV1Api } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { createIngressAuth } from '../../lib/sync/ingress-auth.ts';
import { credentialHash } from '../../lib/telemetry/audit.ts';
import { telemetryConfigFromEnv } from '../../lib/telemetry/config.ts';
import { startTelemetry } from '../../lib/telemetry/telemetry.ts';
import type { DecodedEvent } from '../../lib/events/decode.ts';
import { startSyncServer, type SyncServer } from '../../functions/sync/server.ts';
import { startKube } from '../harness/kube.ts';

const AUDIENCE = 'mcp-registry-sync';
const BROKER_SA = 'system:serviceaccount:mcp-registry:oidc-trigger-mcp-registry-sync';

describe('sync function ingress authentication (MCPREG_SYNC_OIDC_AUDIENCE)', () => {
  let cp: ControlPlane;
  let sync: SyncServer;
  let core: CoreV1Api;
  const handled: DecodedEvent[] = [];
  const audit: string[] = [];
  const presented: string[] = ['not-a-real-token', 'dXNlcjpwYXNz'];

  before(async () => {
    cp = await startKube({ namespaces: ['mcp-registry', 'intruders'] });
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    for (const [namespace, name] of [['mcp-registry', 'oidc-trigger-mcp-registry-sync'], ['intruders', 'someone']] as const) {
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
    }
    const telemetry = await startTelemetry(telemetryConfigFromEnv({ MCPREG_AUDIT: 'stdout' }, { serviceName: 'mcp-registry-sync' }), { auditWrite: (l) => audit.push(l) });
    sync = await startSyncServer({
      log: silentLogger,
      telemetry,
      authorize: createIngressAuth({ kubeConfig: cp.kubeConfig(), audience: AUDIENCE, subjects: [BROKER_SA] }),
      handle: async (event) => {
        handled.push(event);
        return { event: event.type, registries: [] };
      },
    });
  });

  after(async () => {
    await sync?.close();
    await cp?.stop();
  });

  const token = async (namespace: string, name: string) =>
    (await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [AUDIENCE], expirationSeconds: 3600 } } })).status!.token as string;

  async function deliver(authorization?: string): Promise<{ status: number; text: string }> {
    const event = new CloudEvent({ type: 'dev.knative.sources.ping', source: '/apis/v1/namespaces/mcp-registry/pingsources/mcp-registry-resync', datacontenttype: 'application/json', data: { reason: 'resync' } });
    const message = HTTP.binary(event);
    const headers = { ...(message.headers as Record<string, string>), ...(authorization ? { authorization } : {}) };
    const res = await fetch(sync.url + '/', { method: 'POST', headers, body: String(message.body) });
    return { status: res.status, text: await res.text() };
  }

  test('an event without a token, or with a token the API server does not know, is refused and not handled', async () => {
    assert.deepEqual(await deliver(), { status: 401, text: 'a bearer token is required\n' });
    assert.equal((await deliver('Bearer not-a-real-token')).status, 401);
    assert.equal((await deliver('Basic dXNlcjpwYXNz')).status, 401);
    assert.equal(handled.length, 0);
  });

  test("a valid token of another ServiceAccount is refused with 403", async () => {
    const other = await token('intruders', 'someone');
    presented.push(other);
    const r = await deliver(`Bearer ${other}`);
    assert.equal(r.status, 403);
    assert.ok(!r.text.includes(other), 'the token is not echoed');
    assert.equal(handled.length, 0);
  });

  test("the Broker's token for our audience is accepted and the event handled", async () => {
    const broker = await token('mcp-registry', 'oidc-trigger-mcp-registry-sync');
    presented.push(broker);
    assert.equal((await deliver(`Bearer ${broker}`)).status, 204);
    assert.equal(handled.length, 1);
    assert.equal(handled[0]?.type, 'ping');
  });

  test('each refusal and the acceptance have an audit line, with the sender as actor only once it is authenticated; no token in any', async () => {
    const lines = audit.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.action === 'event.receive');
    assert.deepEqual(
      lines.map((r) => [r.actor, r.outcome, String(r.reason ?? '').slice(0, 4)]),
      [
        ['unknown', 'refused', '401:'],
        ['unknown', 'refused', '401:'],
        ['unknown', 'refused', '401:'],
        ['unknown', 'refused', '403:'],
        [BROKER_SA, 'accepted', ''],
      ],
    );
    assert.ok(lines.every((r) => r.resource === 'events/dev.knative.sources.ping' && typeof r.requestId === 'string'), JSON.stringify(lines));
    assert.equal(lines[1]!.credential, credentialHash('not-a-real-token'));
    assert.equal(lines[3]!.credential, credentialHash(presented[2]!));
    const text = audit.join('\n');
    for (const t of presented) assert.ok(!text.includes(t), 'a credential in the audit log');
  });

  test('health probes need no token', async () => {
    assert.equal((await fetch(sync.url + '/healthz')).status, 200);
  });

  test('the API server unreachable → 503 (the Broker retries), not remembered', async () => {
    const broker = await token('mcp-registry', 'oidc-trigger-mcp-registry-sync');
    const auth = createIngressAuth({ kubeConfig: cp.kubeConfig(), audience: AUDIENCE, subjects: [BROKER_SA], timeoutMs: 2_000 });
    assert.deepEqual(await auth(`Bearer ${broker}`), { ok: true, user: BROKER_SA });
    const down = await startKube();
    const deadConfig = down.kubeConfig();
    await down.stop();
    const unreachable = createIngressAuth({ kubeConfig: deadConfig, audience: AUDIENCE, timeoutMs: 2_000 });
    const r = await unreachable(`Bearer ${broker}`);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.status, 503);
  });
});
