/**
 * MCPRegistryExportJob end to end: the embedded control plane with our CRDs, the sync
 * controller, snapshots in S3 (s3rver), a ConfigMap-sourced registry synced first, and the
 * query API over the same store to compare the exports with what it serves.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { DecodedEvent } from '../../lib/events/decode.ts';
import type { KubeObject } from '../../lib/kube/objects.ts';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController, type SyncController } from '../../lib/sync/controller.ts';
import { startQuery, type Running } from '../api/harness.ts';
import { officialServerValidator, REAL_TOOLHIVE, schemaErrors, toolhiveLegacyValidator, upstreamFileValidator } from '../formats/support.ts';
import { startKube } from '../harness/kube.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';
import { startGitServer, TestRepo, type TestGitServer } from '../servers/git.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'team-x';
const PLURAL = 'mcpregistryexportjobs';

interface Job extends KubeObject {
  status?: {
    phase?: string;
    startTime?: string;
    completionTime?: string;
    failedAttempts?: number;
    nextAttemptTime?: string;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
    result?: { serverCount?: number; bytes?: number; snapshotHash?: string; location?: string; message?: string };
  };
}

describe('MCPRegistryExportJob', () => {
  let cp: ControlPlane;
  let s3: TestS3;
  let store: SnapshotStore;
  let controller: SyncController;
  let query: Running;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let clock = new Date('2026-03-01T00:00:00Z');
  let hash = '';
  let gitRoot: string;
  let git: TestGitServer;
  let repo: TestRepo;
  const GIT_PASS = 'export-push-password';

  before(async () => {
    cp = await startKube({ namespaces: [NS, 'mcp-registry'] });
    custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    s3 = await startS3Server();
    store = await createS3Store(s3.storeOptions());
    controller = createSyncController({
      kubeConfig: cp.kubeConfig(),
      store,
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 0 }),
      config: { deadlineMs: 60_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'test-jobs', keepSnapshots: 3 },
      now: () => clock,
      random: () => 0.5,
      log: silentLogger,
    });
    query = await startQuery({ store });
    gitRoot = await mkdtemp(join(tmpdir(), 'mcpreg-export-git-'));
    repo = new TestRepo(gitRoot, 'backup');
    repo.commit({ files: { 'README.md': 'backups\n' } });
    repo.allowPush();
    git = await startGitServer({ root: gitRoot, basic: { user: 'exporter', pass: GIT_PASS } });
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'git-push' }, stringData: { username: 'exporter', password: GIT_PASS } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'source' }, data: { 'registry.json': JSON.stringify(JSON.parse(await readFile(REAL_TOOLHIVE, 'utf8'))) } } });
    const registry = (await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'mcpregistries',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name: 'reg' }, spec: { source: { type: 'configmap', configMap: { name: 'source' } }, filter: { include: { tags: ['database'] } } } },
    })) as KubeObject;
    const synced = await controller.handle(event('add', registry));
    assert.equal(synced.registries[0]?.outcome, 'published');
    hash = synced.registries[0]!.result!.hash!;
  });

  after(async () => {
    await git?.close();
    repo?.dispose();
    if (gitRoot) await rm(gitRoot, { recursive: true, force: true });
    await query?.close();
    await s3?.stop();
    await cp?.stop();
  });

  function event(action: 'add' | 'update', object: KubeObject): DecodedEvent {
    return { type: 'resource', action, kind: object.kind as never, object, id: `${object.metadata.name}-${action}-${Math.random()}`, source: 'test' };
  }
  const create = async (name: string, spec: object) =>
    (await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistryExportJob', metadata: { name }, spec } })) as Job;
  const get = async (name: string) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name })) as Job;
  const ping = () => controller.handle({ type: 'ping', id: `ping-${Math.random()}`, source: 'test', data: {} });
  const condition = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type);

  /** every page of the registry's /v0.1/servers, as the query API serves them */
  async function servedList(): Promise<unknown[]> {
    const out: unknown[] = [];
    let cursor: string | undefined;
    do {
      const res = await query.get(`/registries/${NS}/reg/v0.1/servers?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.status, 200);
      const body = res.json() as { servers: unknown[]; metadata: { nextCursor?: string } };
      out.push(...body.servers);
      cursor = body.metadata.nextCursor;
    } while (cursor);
    return out;
  }

  interface Served {
    list: unknown[];
    toolhive: { servers: Array<{ name: string }>; total: number };
  }
  let servedCache: Served | undefined;
  /** what the query API serves for the registry: every page of /v0.1/servers, and /api/v1/servers */
  async function served(): Promise<Served> {
    return (servedCache ??= { list: await servedList(), toolhive: (await query.get(`/api/v1/servers?registry=${NS}/reg`)).json() as Served['toolhive'] });
  }

  /** an exported document: valid against the schemas of its format and equal to what the query API serves */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- three shapes, checked here
  function assertServed(format: 'toolhive' | 'upstream' | 'upstream-list', doc: any, { list, toolhive }: Served): void {
    if (format === 'toolhive') {
      const validate = toolhiveLegacyValidator();
      assert.equal(validate(doc), true, schemaErrors(validate));
      assert.deepEqual(Object.keys({ ...doc.servers, ...doc.remote_servers }).sort(), toolhive.servers.map((s) => s.name).sort());
    } else if (format === 'upstream') {
      const validate = upstreamFileValidator();
      assert.equal(validate(doc), true, schemaErrors(validate));
      assert.deepEqual(doc.data.servers, list.map((s) => (s as { server: unknown }).server));
    } else {
      const official = officialServerValidator();
      for (const s of doc.servers) assert.ok(official(s.server), schemaErrors(official));
      assert.deepEqual(doc.servers, list);
      assert.equal(doc.metadata.count, list.length);
    }
  }

  test('exports to a ConfigMap in each format: schema-valid and equal to what the query API serves', async () => {
    for (const format of ['toolhive', 'upstream', 'upstream-list'] as const) {
      const name = `to-cm-${format}`;
      const job = await create(name, { registryRef: { name: 'reg' }, format, target: { configMap: { name: `export-${format}`, key: 'registry.json' } } });
      const handled = await controller.handle(event('add', job));
      assert.equal(handled.registries.length, 0);
      const done = await get(name);
      assert.equal(done.status?.phase, 'Succeeded', done.status?.result?.message);
      assert.equal(condition(done, 'Complete')?.status, 'True');
      assert.ok(done.status?.startTime && done.status.completionTime);
      assert.equal(done.status?.result?.snapshotHash, hash);
      assert.equal(done.status?.result?.location, `configmap/${NS}/export-${format}#registry.json`);
      const cm = await core.readNamespacedConfigMap({ namespace: NS, name: `export-${format}` });
      const text = cm.data!['registry.json']!;
      assert.equal(done.status?.result?.bytes, Buffer.byteLength(text));
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- three shapes, checked below
      const doc: any = JSON.parse(text);
      assertServed(format, doc, await served());
      assert.equal(done.status?.result?.serverCount, (await served()).toolhive.total);
      const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${name}` });
      assert.ok(events.items.some((e) => e.reason === 'Exported' && e.type === 'Normal'), 'an Exported Event');
    }
  });

  test('exports to a git file in each format with credentials from a Secret: schema-valid, equal to the query API; an unchanged snapshot makes no commit', async () => {
    for (const format of ['toolhive', 'upstream', 'upstream-list'] as const) {
      const target = { git: { repository: `${git.url}/backup.git`, allowHttp: true, branch: 'exports', path: `reg/${format}.json`, authSecret: { name: 'git-push', usernameKey: 'username', passwordKey: 'password' } } };
      const before = repo.log('exports').length;
      const job = await create(`to-git-${format}`, { registryRef: { name: 'reg' }, format, target });
      await controller.handle(event('add', job));
      const done = await get(`to-git-${format}`);
      assert.equal(done.status?.phase, 'Succeeded', done.status?.result?.message);
      assert.equal(done.status?.result?.location, `git:${git.url}/backup.git#exports:reg/${format}.json`);
      assert.equal(done.status?.result?.snapshotHash, hash);
      const log = repo.log('exports');
      assert.equal(log.length, before + 1, 'one commit');
      assert.match(done.status?.result?.message ?? '', new RegExp(`in commit ${log[0]!.sha}`));
      assert.match(log[0]!.subject, new RegExp(`^Export snapshot ${hash.slice(0, 12)} of MCPRegistry ${NS}/reg \\(${format}, `));
      const text = repo.show('exports', `reg/${format}.json`)!;
      assert.equal(done.status?.result?.bytes, Buffer.byteLength(`${text}\n`));
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- three shapes, checked below
      const doc: any = JSON.parse(text);
      assertServed(format, doc, await served());
      // the same snapshot again: the file already holds it, no commit
      const again = await create(`to-git-${format}-again`, { registryRef: { name: 'reg' }, format, target });
      await controller.handle(event('add', again));
      const same = await get(`to-git-${format}-again`);
      assert.equal(same.status?.phase, 'Succeeded', same.status?.result?.message);
      assert.match(same.status?.result?.message ?? '', /already held it: unchanged/);
      assert.equal(repo.log('exports').length, before + 1, 'no second commit');
      const all = JSON.stringify(done) + JSON.stringify(same);
      assert.ok(!all.includes(GIT_PASS) && !all.includes(Buffer.from(`exporter:${GIT_PASS}`).toString('base64')), 'the Secret is not in status');
    }
    assert.equal(repo.show('main', 'README.md'), 'backups', 'other branches untouched');
  });

  test('a git target with wrong credentials fails at once, without the Secret in status or Events', async () => {
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'git-wrong' }, stringData: { username: 'exporter', password: 'not-the-password' } } });
    const job = await create('to-git-denied', { registryRef: { name: 'reg' }, target: { git: { repository: `${git.url}/backup.git`, allowHttp: true, authSecret: { name: 'git-wrong', usernameKey: 'username', passwordKey: 'password' } } } });
    await controller.handle(event('add', job));
    const failed = await get('to-git-denied');
    assert.equal(failed.status?.phase, 'Failed');
    assert.equal(failed.status?.failedAttempts, 1, 'permanent: not retried');
    assert.match(failed.status?.result?.message ?? '', /credentials missing or refused; check authSecret/);
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=to-git-denied' });
    const all = JSON.stringify(failed) + JSON.stringify(events.items);
    assert.ok(!all.includes('not-the-password') && !all.includes(Buffer.from('exporter:not-the-password').toString('base64')));
  });

  test('exports to an object key of the snapshot bucket, with a filter; keys under registries/ are refused', async () => {
    const job = await create('to-s3', { registryRef: { name: 'reg' }, format: 'upstream-list', filter: { include: { names: ['*postgres*'] } }, target: { objectKey: 'exports/reg.json' } });
    await controller.handle(event('add', job));
    const done = await get('to-s3');
    assert.equal(done.status?.phase, 'Succeeded', done.status?.result?.message);
    const object = await store.get('exports/reg.json');
    assert.ok(object && object !== 'not-modified');
    const doc = JSON.parse(Buffer.from(object.body).toString('utf8')) as { servers: Array<{ server: { name: string } }> };
    assert.ok(doc.servers.length > 0);
    assert.ok(doc.servers.every((s) => s.server.name.includes('postgres')));
    assert.equal(done.status?.result?.serverCount, new Set(doc.servers.map((s) => s.server.name)).size);

    const bad = await create('to-snapshots', { registryRef: { name: 'reg' }, target: { objectKey: 'registries/team-x/reg/current.json' } });
    await controller.handle(event('add', bad));
    const failed = await get('to-snapshots');
    assert.equal(failed.status?.phase, 'Failed');
    assert.equal(condition(failed, 'Failed')?.status, 'True');
    assert.match(failed.status?.result?.message ?? '', /must not start with registries\//);
    assert.equal(failed.status?.failedAttempts, 1, 'a permanent failure is not retried');
  });

  test('exports to an object key of the snapshot bucket in each format: schema-valid, equal to what the query API serves', async () => {
    for (const format of ['toolhive', 'upstream', 'upstream-list'] as const) {
      const key = `exports/full/${format}.json`;
      const job = await create(`to-key-${format}`, { registryRef: { name: 'reg' }, format, target: { objectKey: key } });
      await controller.handle(event('add', job));
      const done = await get(`to-key-${format}`);
      assert.equal(done.status?.phase, 'Succeeded', done.status?.result?.message);
      assert.equal(condition(done, 'Complete')?.status, 'True');
      assert.equal(done.status?.result?.location, key);
      assert.equal(done.status?.result?.snapshotHash, hash);
      // read back from the bucket itself, not through our store
      const res = await fetch(`${s3.rawEndpoint}/${s3.bucket}/${key}`);
      assert.equal(res.status, 200, `${key} in the snapshot bucket`);
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(done.status?.result?.bytes, body.byteLength);
      assertServed(format, JSON.parse(body.toString('utf8')), await served());
      assert.equal(done.status?.result?.serverCount, (await served()).toolhive.total);
    }
  });

  test('exports to another S3-compatible bucket with its own endpoint and credentials in each format: schema-valid, equal to the query API', async () => {
    const other = await startS3Server({ bucket: 'promotion-target' });
    try {
      await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 's3-other' }, stringData: { id: other.credentials.accessKeyId, secret: other.credentials.secretAccessKey } } });
      const reader = await createS3Store(other.storeOptions());
      const ours = (await s3.counts()).put;
      for (const format of ['toolhive', 'upstream', 'upstream-list'] as const) {
        const s3Target = { bucket: 'promotion-target', key: `reg/${format}.json`, endpoint: other.endpoint, forcePathStyle: true, allowHttp: true, credentialsSecret: { name: 's3-other', accessKeyIdKey: 'id', secretAccessKeyKey: 'secret' } };
        const job = await create(`to-other-s3-${format}`, { registryRef: { name: 'reg' }, format, target: { s3: s3Target } });
        await controller.handle(event('add', job));
        const done = await get(`to-other-s3-${format}`);
        assert.equal(done.status?.phase, 'Succeeded', done.status?.result?.message);
        assert.equal(done.status?.result?.location, `s3://promotion-target/reg/${format}.json at ${new URL(other.endpoint).host}`);
        assert.equal(done.status?.result?.snapshotHash, hash);
        const object = await reader.get(`reg/${format}.json`);
        assert.ok(object && object !== 'not-modified');
        assert.equal(object.contentType, 'application/json');
        assert.equal(done.status?.result?.bytes, object.body.byteLength);
        assertServed(format, JSON.parse(Buffer.from(object.body).toString('utf8')), await served());
        const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=to-other-s3-${format}` });
        assert.ok(!(JSON.stringify(done) + JSON.stringify(events.items)).includes(other.credentials.secretAccessKey), 'the secret key is not in status or Events');
      }
      assert.equal((await s3.counts()).put, ours, 'nothing written to the snapshot bucket');
      reader.close();

      // the snapshot bucket's key pair is not the other bucket's: refused, at once
      await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 's3-wrong' }, stringData: { accessKeyId: 'S3RVER', secretAccessKey: 'not-the-secret-key' } } });
      const denied = await create('to-other-s3-denied', { registryRef: { name: 'reg' }, target: { s3: { bucket: 'promotion-target', key: 'x.json', endpoint: other.endpoint, forcePathStyle: true, allowHttp: true, credentialsSecret: { name: 's3-wrong' } } } });
      await controller.handle(event('add', denied));
      const failed = await get('to-other-s3-denied');
      assert.equal(failed.status?.phase, 'Failed');
      assert.equal(failed.status?.failedAttempts, 1, 'permanent: not retried');
      assert.match(failed.status?.result?.message ?? '', /S3 refused the credentials/);
      const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=to-other-s3-denied' });
      assert.ok(!(JSON.stringify(failed) + JSON.stringify(events.items)).includes('not-the-secret-key'));
    } finally {
      await other.stop();
    }
  });

  test('an S3 target is held to the SSRF policy: a private endpoint outside the allowed networks and plain http without allowHttp fail at once', async () => {
    const credentialsSecret = { name: 's3-wrong' };
    const cases = [
      { name: 'to-s3-private', endpoint: 'http://10.1.2.3:9000', allowHttp: true, message: /refusing to connect to 10\.1\.2\.3: .*MCPREG_ALLOW_PRIVATE_NETWORKS/ },
      { name: 'to-s3-http', endpoint: 'http://127.0.0.1:1', allowHttp: false, message: /plain http is not allowed for 127\.0\.0\.1:1/ },
    ];
    for (const c of cases) {
      const job = await create(c.name, { registryRef: { name: 'reg' }, target: { s3: { bucket: 'promotion-target', key: 'x.json', endpoint: c.endpoint, allowHttp: c.allowHttp, forcePathStyle: true, credentialsSecret } } });
      await controller.handle(event('add', job));
      const failed = await get(c.name);
      assert.equal(failed.status?.phase, 'Failed', c.name);
      assert.equal(failed.status?.failedAttempts, 1, `${c.name}: not retried`);
      assert.match(failed.status?.result?.message ?? '', c.message);
    }
  });

  test('an export over the ConfigMap limit fails at once, says so and writes nothing', async () => {
    // the unfiltered real registry: its list envelope is well over 1 MiB
    const big = (await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'mcpregistries',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name: 'all' }, spec: { source: { type: 'configmap', configMap: { name: 'source' } } } },
    })) as KubeObject;
    assert.equal((await controller.handle(event('add', big))).registries[0]?.outcome, 'published');
    const job = await create('too-big', { registryRef: { name: 'all' }, format: 'upstream-list', target: { configMap: { name: 'too-big-target' } } });
    await controller.handle(event('add', job));
    const failed = await get('too-big');
    assert.equal(failed.status?.phase, 'Failed');
    assert.equal(failed.status?.failedAttempts, 1);
    assert.match(failed.status?.result?.message ?? '', /over the ConfigMap limit of 1048576 bytes \(1 MiB\)\. Nothing was written; export to spec\.target\.git, spec\.target\.s3 or spec\.target\.objectKey instead/);
    await assert.rejects(core.readNamespacedConfigMap({ namespace: NS, name: 'too-big-target' }), (e: { code?: number }) => e.code === 404);
  });

  test('duplicate deliveries of the job event run it once', async () => {
    const job = await create('dup', { registryRef: { name: 'reg' }, target: { configMap: { name: 'dup-target' } } });
    const puts = (await s3.counts()).put;
    await Promise.all([controller.handle(event('add', job)), controller.handle(event('add', job)), controller.handle(event('update', job))]);
    await controller.handle(event('update', job));
    const done = await get('dup');
    assert.equal(done.status?.phase, 'Succeeded');
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=dup` });
    assert.equal(events.items.filter((e) => e.reason === 'Exported').length, 1, 'one Exported Event: the job ran once');
    assert.equal(events.items.filter((e) => e.reason === 'Started').length, 1);
    assert.equal((await s3.counts()).put, puts, 'nothing written to the store');
  });

  test('two sync replicas handling the same job event run it once (the Lease)', async () => {
    const replica = createSyncController({
      kubeConfig: cp.kubeConfig(),
      store,
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 0 }),
      config: { deadlineMs: 60_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'test-jobs-replica', keepSnapshots: 3 },
      now: () => clock,
      random: () => 0.5,
      log: silentLogger,
    });
    const job = await create('two-replicas', { registryRef: { name: 'reg' }, target: { configMap: { name: 'two-replicas-target' } } });
    await Promise.all([controller.handle(event('add', job)), replica.handle(event('add', job)), controller.handle(event('update', job)), replica.handle(event('update', job))]);
    await replica.handle(event('update', await get('two-replicas')));
    const done = await get('two-replicas');
    assert.equal(done.status?.phase, 'Succeeded', done.status?.result?.message);
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=two-replicas' });
    assert.equal(events.items.filter((e) => e.reason === 'Started').length, 1, 'started once');
    assert.equal(events.items.filter((e) => e.reason === 'Exported').length, 1, 'exported once');
  });

  test('a transient failure (no snapshot yet) retries with backoff up to backoffLimit, then fails', async () => {
    const job = await create('retry', { registryRef: { name: 'not-synced-yet' }, backoffLimit: 2, target: { configMap: { name: 'retry-target' } } });
    await controller.handle(event('add', job));
    let j = await get('retry');
    assert.equal(j.status?.phase, 'Pending');
    assert.equal(j.status?.failedAttempts, 1);
    assert.equal(j.status?.nextAttemptTime, new Date(clock.getTime() + 10_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    await controller.handle(event('update', j));
    assert.equal((await get('retry')).status?.failedAttempts, 1, 'not retried before its time');
    clock = new Date(clock.getTime() + 10_000);
    await ping();
    j = await get('retry');
    assert.equal(j.status?.failedAttempts, 2);
    assert.equal(j.status?.nextAttemptTime, new Date(clock.getTime() + 20_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    clock = new Date(clock.getTime() + 20_000);
    await ping();
    j = await get('retry');
    assert.equal(j.status?.phase, 'Failed');
    assert.equal(j.status?.failedAttempts, 3);
    assert.equal(condition(j, 'Failed')?.reason, 'BackoffLimitExceeded');
    assert.match(j.status?.result?.message ?? '', /gave up after 3 attempts.*no published snapshot/);
  });

  test('ttlSecondsAfterFinished deletes a finished job once it has passed', async () => {
    const job = await create('ttl', { registryRef: { name: 'reg' }, ttlSecondsAfterFinished: 60, target: { configMap: { name: 'ttl-target' } } });
    await controller.handle(event('add', job));
    assert.equal((await get('ttl')).status?.phase, 'Succeeded');
    clock = new Date(clock.getTime() + 59_000);
    await ping();
    assert.equal((await get('ttl')).status?.phase, 'Succeeded', 'kept before its TTL');
    clock = new Date(clock.getTime() + 2_000);
    await ping();
    await assert.rejects(get('ttl'), (e: { code?: number }) => e.code === 404);
    assert.ok(await get('dup'), 'a job without a TTL is kept');
  });

  test('the spec is immutable', async () => {
    await assert.rejects(
      custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name: 'dup', body: [{ op: 'replace', path: '/spec/format', value: 'upstream' }] }),
      (e: { code?: number; body?: string }) => e.code === 422 && /immutable/.test(String(e.body)),
    );
  });
});
