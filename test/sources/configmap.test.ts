/**
 * The configmap source and the Kubernetes SecretReader against the embedded control plane,
 * driven by @kubernetes/client-node.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startControlPlane } from '../../lib/local/control-plane/index.ts';
import { createKubeSecretReader } from '../../lib/kube/secrets.ts';
import { createConfigMapSource } from '../../lib/sources/configmap.ts';
import { createUrlSource } from '../../lib/sources/url.ts';
import { startHttpServer } from '../servers/http.ts';
import { rejectsWith, testContext } from './helpers.ts';

// the real ToolHive registry (1.6 MB) is over a ConfigMap's 1 MiB; this real document fits
const TOOLHIVE = readFileSync(new URL('../../../shared/fixtures/real/thv-registry-server-upstream-registry.json', import.meta.url), 'utf8');
const UPSTREAM = readFileSync(new URL('../../../shared/fixtures/real/toolhive-example-upstream-with-remotes.json', import.meta.url));
const NS = 'team-a';

/** a client-node config for `server` (plain http on loopback needs skipTLSVerify with client-node 2) */
function kubeConfigFor(server: string, token?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: server.startsWith('http:') }],
    users: [token ? { name: 'u', token } : { name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('configmap source and Kubernetes secrets (embedded control plane)', () => {
  let cp: Awaited<ReturnType<typeof startControlPlane>>;
  let kc: KubeConfig;
  let core: CoreV1Api;

  before(async () => {
    cp = await startControlPlane({ port: 0, authorization: 'RBAC' });
    kc = kubeConfigFor(cp.url, cp.tokenFor());
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'registry' },
        data: { 'registry.json': TOOLHIVE, 'notes.txt': 'hello' },
        binaryData: { 'upstream.json': UPSTREAM.toString('base64') },
      },
    });
    await core.createNamespacedSecret({
      namespace: NS,
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { token: Buffer.from('kube-held-token\n').toString('base64'), user: Buffer.from('dora').toString('base64') } },
    });
  });
  after(async () => {
    await cp?.stop();
  });

  const ctx = (o: Parameters<typeof testContext>[0] = {}) => testContext({ namespace: NS, kubeConfig: kc, ...o });

  it('reads a data key; revision is resourceVersion/key; unchanged while the object is', async () => {
    const src = createConfigMapSource({ name: 'registry', key: 'registry.json' });
    const first = await src.fetch(ctx());
    assert.equal(first.kind, 'document');
    if (first.kind !== 'document') return;
    assert.equal(Buffer.from(first.bytes).toString('utf8'), TOOLHIVE);
    assert.equal(first.file, 'registry.json');
    const cm = await core.readNamespacedConfigMap({ name: 'registry', namespace: NS });
    assert.equal(first.revision, `${cm.metadata!.resourceVersion}/registry.json`);
    const again = await src.fetch(ctx({ previous: { revision: first.revision } }));
    assert.deepEqual(again, { kind: 'unchanged', revision: first.revision });
    const forced = await src.fetch(ctx({ previous: { revision: first.revision }, force: true }));
    assert.equal(forced.kind, 'document');

    // an edit changes the resourceVersion: a new document
    const cur = await core.readNamespacedConfigMap({ name: 'registry', namespace: NS });
    cur.data!['registry.json'] = '{"version":"1.0.0","servers":{}}';
    await core.replaceNamespacedConfigMap({ name: 'registry', namespace: NS, body: cur });
    const changed = await src.fetch(ctx({ previous: { revision: first.revision } }));
    assert.equal(changed.kind, 'document');
    assert.notEqual(changed.revision, first.revision);
    if (changed.kind === 'document') assert.equal(Buffer.from(changed.bytes).toString(), '{"version":"1.0.0","servers":{}}');
  });

  it('reads a binaryData key', async () => {
    const r = await createConfigMapSource({ name: 'registry', key: 'upstream.json' }).fetch(ctx());
    assert.equal(r.kind, 'document');
    if (r.kind === 'document') assert.deepEqual(Buffer.from(r.bytes), UPSTREAM);
    assert.match(r.revision, /\/upstream\.json$/);
  });

  it('missing ConfigMap → source_not_found naming namespace/name', async () => {
    const e = await rejectsWith(createConfigMapSource({ name: 'absent', key: 'registry.json' }).fetch(ctx()), 'source_not_found');
    assert.match(e.message, /team-a\/absent/);
    assert.equal(e.where.source, 'configmap team-a/absent');
  });

  it('missing key → source_not_found listing the keys that exist', async () => {
    const e = await rejectsWith(createConfigMapSource({ name: 'registry', key: 'nope.json' }).fetch(ctx()), 'source_not_found');
    assert.match(e.message, /"nope\.json"/);
    assert.match(e.message, /keys: notes\.txt, registry\.json, upstream\.json/);
  });

  it('a value over the size limit → too_large', async () => {
    await rejectsWith(createConfigMapSource({ name: 'registry', key: 'upstream.json' }).fetch(ctx({ policy: { maxBytes: 100 } })), 'too_large');
  });

  it('API server unreachable → source_unavailable, transient', async () => {
    const dead = kubeConfigFor('http://127.0.0.1:1');
    const e = await rejectsWith(createConfigMapSource({ name: 'registry', key: 'registry.json' }).fetch(ctx({ kubeConfig: dead })), 'source_unavailable');
    assert.equal(e.transient, true);
    const e2 = await rejectsWith(createKubeSecretReader(dead, NS).read('creds', 'token'), 'source_unavailable');
    assert.equal(e2.transient, true);
  });

  it('RBAC refusal → auth_failed naming the object, for ConfigMaps and Secrets', async () => {
    const nobody = kubeConfigFor(cp.url, cp.tokenFor('nobody'));
    const e = await rejectsWith(createConfigMapSource({ name: 'registry', key: 'registry.json' }).fetch(ctx({ kubeConfig: nobody })), 'auth_failed');
    assert.match(e.message, /ConfigMap team-a\/registry/);
    assert.match(e.message, /RBAC/);
    await rejectsWith(createKubeSecretReader(nobody, NS).read('creds', 'token'), 'auth_failed');
  });

  it('SecretReader: reads keys, names missing Secrets and keys without values', async () => {
    const secrets = createKubeSecretReader(kc, NS);
    assert.equal(await secrets.read('creds', 'token'), 'kube-held-token\n');
    assert.equal(await secrets.read('creds', 'user'), 'dora');
    const e1 = await rejectsWith(secrets.read('creds', 'password'), 'secret_not_found');
    assert.match(e1.message, /team-a\/creds/);
    assert.match(e1.message, /keys: token, user/);
    assert.doesNotMatch(e1.message, /kube-held-token|dora/);
    const e2 = await rejectsWith(secrets.read('nothing', 'token'), 'secret_not_found');
    assert.match(e2.message, /team-a\/nothing/);
  });

  it('a url source authenticates with a token read from a Kubernetes Secret', async () => {
    const srv = await startHttpServer({ '/r.json': { body: TOOLHIVE, auth: { bearer: 'kube-held-token' } } });
    try {
      const r = await createUrlSource({ url: `${srv.url}/r.json`, allowHttp: true, authSecret: { name: 'creds', tokenKey: 'token' } }).fetch(
        ctx({ secrets: createKubeSecretReader(kc, NS) }),
      );
      assert.equal(r.kind, 'document');
    } finally {
      await srv.close();
    }
  });
});
