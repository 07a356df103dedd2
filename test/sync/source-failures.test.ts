/**
 * Every source type's failure modes, through the whole pipeline: a registry with a published
 * snapshot is re-pointed at a failing source of each type, and each sync must fail with a
 * typed error naming the cause while `current.json` and the snapshot it names stay exactly as
 * they were. Real servers: HTTP, git http-backend (token auth), the upstream-API test server,
 * the embedded control plane for ConfigMaps and Secrets, and S3.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import type { ErrorCode } from '../../lib/errors.ts';
import { createKubeSecretReader } from '../../lib/kube/secrets.ts';
import { MCPRegistrySpec } from '../../lib/kube/mcpregistry-spec.ts';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import { readPointer, readSnapshotFile } from '../../lib/snapshots/read.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { createSource } from '../../lib/sources/index.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { runSync } from '../../lib/sync/pipeline.ts';
import { startKube } from '../harness/kube.ts';
import { startGitServer, TestRepo, type TestGitServer } from '../servers/git.ts';
import { startHttpServer, type TestHttpServer } from '../servers/http.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';
import { entriesFromFixtures, startUpstreamApi, type TestUpstreamApi } from '../servers/upstream-api.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/real');
const NS = 'team-f';
const ref = { namespace: NS, name: 'reg' };

describe('every source failure leaves the published snapshot untouched', () => {
  let cp: ControlPlane;
  let s3: TestS3;
  let store: SnapshotStore;
  let http: TestHttpServer;
  let git: TestGitServer;
  let repo: TestRepo;
  let gitRoot: string;
  let api: TestUpstreamApi;
  let flaky: TestUpstreamApi;

  before(async () => {
    cp = await startKube({ namespaces: [NS] });
    const core = cp.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'other' }, data: { 'other.json': '{}' } } });
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'git-token' }, stringData: { token: 'wrong-token' } } });
    s3 = await startS3Server();
    store = await createS3Store(s3.storeOptions());
    const real = await readFile(join(FIXTURES, 'toolhive-registry.2026-02-20.json'));
    http = await startHttpServer({
      '/good.json': { body: real },
      '/error.json': { status: 500, body: 'boom' },
      '/forbidden.json': { status: 403, body: 'no' },
      '/huge.json': { size: 4096 },
      '/not-a-registry.json': { body: '{"hello":"world"}' },
      '/truncated.json': { body: real, truncate: { sendBytes: 1000 } },
      '/to-metadata': { redirect: { to: 'http://169.254.169.254/latest/meta-data/' } },
    });
    gitRoot = await mkdtemp(join(tmpdir(), 'mcpreg-failures-git-'));
    repo = new TestRepo(gitRoot, 'registry');
    repo.commit({ files: { 'registry.json': real } });
    git = await startGitServer({ root: gitRoot, token: 'right-token' });
    api = await startUpstreamApi({ entries: entriesFromFixtures() });
    flaky = await startUpstreamApi({ entries: entriesFromFixtures() });

    // the snapshot that must survive everything below
    const first = await sync({ type: 'url', url: { url: `${http.url}/good.json`, allowHttp: true } });
    assert.equal(first.outcome, 'published', first.error?.describe());
  });

  after(async () => {
    await flaky?.close();
    await api?.close();
    await git?.close();
    repo?.dispose();
    if (gitRoot) await rm(gitRoot, { recursive: true, force: true });
    await http?.close();
    await s3?.stop();
    await cp?.stop();
  });

  function sync(source: object, policy: Parameters<typeof resolvePolicy>[0] = {}) {
    const spec = MCPRegistrySpec.parse({ source });
    return runSync({
      ref,
      spec,
      store,
      source: createSource(spec.source),
      context: {
        secrets: createKubeSecretReader(cp.kubeConfig(), NS),
        kubeConfig: cp.kubeConfig(),
        policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 1, retryBaseMs: 10, retryMaxWaitMs: 50, totalTimeoutMs: 5_000, ...policy }),
      },
      force: true,
    });
  }

  const cases: Array<[string, () => object, ErrorCode, Parameters<typeof resolvePolicy>[0]?]> = [
    ['url: 5xx after retries', () => ({ type: 'url', url: { url: `${http.url}/error.json`, allowHttp: true } }), 'source_unavailable'],
    ['url: 404', () => ({ type: 'url', url: { url: `${http.url}/missing.json`, allowHttp: true } }), 'source_not_found'],
    ['url: 403', () => ({ type: 'url', url: { url: `${http.url}/forbidden.json`, allowHttp: true } }), 'auth_failed'],
    ['url: over the size limit', () => ({ type: 'url', url: { url: `${http.url}/huge.json`, allowHttp: true } }), 'too_large', { maxBytes: 1024 }],
    ['url: not a registry', () => ({ type: 'url', url: { url: `${http.url}/not-a-registry.json`, allowHttp: true } }), 'unknown_format'],
    ['url: truncated body', () => ({ type: 'url', url: { url: `${http.url}/truncated.json`, allowHttp: true } }), 'source_unavailable'],
    ['url: redirect to the cloud metadata address', () => ({ type: 'url', url: { url: `${http.url}/to-metadata`, allowHttp: true } }), 'url_forbidden'],
    ['url: loopback without the allow-list', () => ({ type: 'url', url: { url: `${http.url}/good.json`, allowHttp: true } }), 'url_forbidden', { allowPrivate: [] }],
    ['url: https required', () => ({ type: 'url', url: { url: `${http.url}/good.json` } }), 'url_forbidden'],
    ['git: wrong token from the Secret', () => ({ type: 'git', git: { repository: `${git.url}/registry.git`, allowHttp: true, authSecret: { name: 'git-token', tokenKey: 'token' } } }), 'auth_failed'],
    ['git: Secret key missing', () => ({ type: 'git', git: { repository: `${git.url}/registry.git`, allowHttp: true, authSecret: { name: 'git-token', tokenKey: 'nope' } } }), 'secret_not_found'],
    ['git: ssh deploy key Secret missing', () => ({ type: 'git', git: { repository: 'ssh://git@example.com/org/repo.git', authSecret: { name: 'absent-deploy-key', sshPrivateKeyKey: 'ssh-privatekey' }, sshHostKeyFingerprint: `SHA256:${'A'.repeat(43)}` } }), 'secret_not_found'],
    ['registry API: unreachable', () => ({ type: 'registry', registry: { url: 'http://127.0.0.1:9/', allowHttp: true } }), 'source_unavailable'],
    ['registry API: 5xx on every page', () => {
      flaky.inject({ status: 503, count: 100 });
      return { type: 'registry', registry: { url: flaky.url, allowHttp: true } };
    }, 'source_unavailable'],
    ['configmap: missing ConfigMap', () => ({ type: 'configmap', configMap: { name: 'absent' } }), 'source_not_found'],
    ['configmap: missing key', () => ({ type: 'configmap', configMap: { name: 'other', key: 'registry.json' } }), 'source_not_found'],
  ];

  for (const [name, source, code, policy] of cases) {
    test(name, async () => {
      const before = await readPointer(store, ref);
      assert.ok(before);
      const result = await sync(source(), policy);
      assert.equal(result.outcome, 'failed');
      assert.equal(result.error?.code, code, result.error?.describe());
      assert.ok(result.error!.describe().length > 10, 'the error says what and where');
      const after = await readPointer(store, ref);
      assert.equal(after?.etag, before.etag, 'current.json untouched');
      assert.deepEqual(after?.pointer, before.pointer);
      const snapshot = await readSnapshotFile(store, after!.pointer, 'upstream');
      assert.ok(snapshot.body.byteLength > 0, 'the snapshot it names is still there');
    });
  }

  test('and the registry still syncs from a good source afterwards', async () => {
    const result = await sync({ type: 'registry', registry: { url: api.url, allowHttp: true } });
    assert.equal(result.outcome, 'published', result.error?.describe());
  });
});
