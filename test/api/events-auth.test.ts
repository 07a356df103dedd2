/**
 * POST /events on the query function: accepted only from the sync function when auth is on
 * (MCPREG_EVENTS_TOKEN, or the Broker's OIDC token for MCPREG_EVENTS_OIDC_AUDIENCE, reviewed
 * by the embedded control plane with real ServiceAccount tokens), and an event naming the
 * hash already loaded is a no-op (no store read at all).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { CloudEvent, HTTP } from 'cloudevents';
import { CoreV1Api } from '@kubernetes/client-node';
import { createEventsAuth } from '../../lib/api/events-auth.ts';
import { readPointer } from '../../lib/snapshots/read.ts';
import { credentialHash } from '../../lib/telemetry/audit.ts';
import { telemetryConfigFromEnv } from '../../lib/telemetry/config.ts';
import { startTelemetry } from '../../lib/telemetry/telemetry.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { startAuthFixture, TOKENS, type AuthFixture } from './auth-fixture.ts';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { request, startQuery, tempStore, type Running } from './harness.ts';

const AUDIENCE = 'mcp-registry-query';
const BROKER_SA = 'system:serviceaccount:mcp-system:oidc-trigger-mcp-registry-query-snapshots';
const SHARED = 'shared-events-token-0123456789abcdef';

function published(subject: string, hash: string) {
  return HTTP.binary(new CloudEvent({ type: 'io.toolhive.registry.snapshot.published', source: '/sync', subject, datacontenttype: 'application/json', data: { hash } }));
}

async function post(url: string, subject: string, hash: string, authorization?: string) {
  const m = published(subject, hash);
  return request(`${url}/events`, { method: 'POST', headers: { ...(m.headers as Record<string, string>), ...(authorization ? { authorization } : {}) }, body: String(m.body) });
}

describe('POST /events with MCPREG_AUTH=kubernetes', () => {
  let fixture: AuthFixture;
  let core: CoreV1Api;
  const audit: string[] = [];
  // every credential presented, to search the audit output for
  const presented: string[] = [SHARED, 'wrong-token', TOKENS.bob];
  before(async () => {
    const telemetry = await startTelemetry(telemetryConfigFromEnv({ MCPREG_AUDIT: 'stdout' }, { serviceName: 'mcp-registry-query' }), { auditWrite: (l) => audit.push(l) });
    fixture = await startAuthFixture({ telemetry, env: { MCPREG_EVENTS_TOKEN: SHARED, MCPREG_EVENTS_OIDC_AUDIENCE: AUDIENCE, MCPREG_EVENTS_OIDC_SUBJECTS: BROKER_SA } });
    core = fixture.cp.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'intruders' } } });
    for (const [namespace, name] of [['mcp-system', 'oidc-trigger-mcp-registry-query-snapshots'], ['intruders', 'someone']] as const) {
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
    }
  });
  after(async () => {
    await fixture?.stop();
  });
  const token = async (namespace: string, name: string) =>
    (await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [AUDIENCE], expirationSeconds: 3600 } } })).status!.token as string;
  const hash = 'a'.repeat(64);

  test('no token or a wrong token: 401', async () => {
    for (const auth of [undefined, 'Bearer wrong-token', `Basic ${Buffer.from('a:b').toString('base64')}`]) {
      const r = await post(fixture.api.url, 'team-a/public', hash, auth);
      assert.equal(r.status, 401, `${auth}: ${r.text}`);
      assert.equal(r.headers['www-authenticate'], 'Bearer');
    }
  });

  test('a valid token of another ServiceAccount, or a reader’s token: 403, not echoed', async () => {
    const other = await token('intruders', 'someone');
    presented.push(other);
    for (const t of [other, TOKENS.bob]) {
      const r = await post(fixture.api.url, 'team-a/public', hash, `Bearer ${t}`);
      assert.equal(r.status, 403, r.text);
      assert.ok(!r.text.includes(t), 'the token is not echoed');
    }
  });

  test('the shared token (direct delivery) and the Broker’s OIDC token are accepted', async () => {
    assert.equal((await post(fixture.api.url, 'team-a/public', hash, `Bearer ${SHARED}`)).status, 204);
    const broker = await token('mcp-system', 'oidc-trigger-mcp-registry-query-snapshots');
    presented.push(broker);
    assert.equal((await post(fixture.api.url, 'team-a/public', hash, `Bearer ${broker}`)).status, 204);
  });

  test('every delivery has an audit line: refused ones as unknown with a hash prefix of the token, accepted ones with the sender; no token in any', async () => {
    const events = audit.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.action === 'event.receive');
    assert.deepEqual(
      events.map((r) => [r.actor, r.outcome, String(r.reason).slice(0, 4)]),
      [
        ['unknown', 'refused', '401:'],
        ['unknown', 'refused', '401:'],
        ['unknown', 'refused', '401:'],
        ['unknown', 'refused', '403:'],
        ['unknown', 'refused', '403:'],
        ['MCPREG_EVENTS_TOKEN', 'accepted', 'team'],
        [BROKER_SA, 'accepted', 'team'],
      ],
    );
    assert.ok(events.every((r) => r.resource === 'events/io.toolhive.registry.snapshot.published' && r.service === 'mcp-registry-query' && typeof r.requestId === 'string'));
    assert.equal(events[1]!.credential, credentialHash('wrong-token'));
    assert.equal(events[2]!.credential, undefined, 'a Basic credential is not a bearer token');
    assert.equal(events[4]!.credential, credentialHash(TOKENS.bob));
    assert.equal(events[5]!.reason, `team-a/public ${hash.slice(0, 12)}`);
    const text = audit.join('\n');
    for (const t of [...presented, Buffer.from('a:b').toString('base64')]) {
      assert.ok(!text.includes(t), 'a credential in the audit log');
      assert.ok(!text.includes(createHash('sha256').update(t).digest('hex')), 'a full token hash in the audit log');
    }
  });

  test('neither configured: refused when auth is on, accepted when anonymous', async () => {
    assert.deepEqual((await createEventsAuth({ required: true })(undefined)).ok, false);
    assert.equal((await createEventsAuth({ required: true })(`Bearer ${SHARED}`)).ok, false);
    assert.deepEqual(await createEventsAuth({ required: false })(undefined), { ok: true, user: 'anonymous' });
    assert.equal((await createEventsAuth({ token: SHARED, required: false })(undefined)).ok, false, 'a configured token is required even when anonymous');
  });
});

describe('POST /events: the loaded hash is a no-op', () => {
  let api: Running;
  let cleanup: () => Promise<void>;
  const reads: string[] = [];
  let store: SnapshotStore;
  const REF = { namespace: 'mcp', name: 'reg' };
  before(async () => {
    const t = await tempStore();
    cleanup = t.cleanup;
    await publishEntries(t.store, REF, fixtureEntries());
    // the real fs store, with its reads counted
    store = { ...t.store, description: t.store.description, get: (key, options) => (reads.push(key), t.store.get(key, options)), exists: (k) => t.store.exists(k), list: (p) => (reads.push(`list:${p}`), t.store.list(p)), put: (k, b, o) => t.store.put(k, b, o), delete: (k) => t.store.delete(k) };
    api = await startQuery({ store, env: { MCPREG_POINTER_TTL: '1h', MCPREG_SNAPSHOT_PREFIX_KB: '1' } });
  });
  after(async () => {
    await api?.close();
    await cleanup?.();
  });

  test('an event with the hash being served reads nothing; another hash only revalidates the pointer', async () => {
    assert.equal((await api.get('/registries/mcp/reg/v0.1/servers?limit=100')).status, 200);
    const loaded = (await readPointer(store, REF))!.pointer.hash;
    reads.length = 0;
    for (let i = 0; i < 20; i++) assert.equal((await post(api.url, 'mcp/reg', loaded)).status, 204);
    assert.equal((await api.get('/registries/mcp/reg/v0.1/servers?limit=100&search=fetch')).status, 200);
    assert.equal(reads.length, 0, `no pointer, no snapshot, no listing read after events naming the loaded hash; read ${reads.join(', ')}`);
    // a random hash (a forged or stale event): one conditional pointer read, the snapshot stays loaded
    assert.equal((await post(api.url, 'mcp/reg', 'b'.repeat(64))).status, 204);
    assert.equal((await api.get('/registries/mcp/reg/v0.1/servers?limit=100&search=time')).status, 200);
    assert.deepEqual(reads.filter((k) => !k.startsWith('list:')), ['registries/mcp/reg/current.json'], 'only the pointer was read, not upstream.json again');
  });
});
