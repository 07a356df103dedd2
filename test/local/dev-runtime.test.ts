/**
 * Local mode's runtime in this process (startDev): the flows behind the tour that a terminal
 * session does not show. An edited registry ConfigMap re-syncs through the event bridge, and so
 * does a git push to the example repository (the git server's GitHub push event); a
 * restart whose example port is taken re-points the example registry and syncs it again from
 * the new port; with MCPREG_STORE=s3 the snapshots go to an S3-protocol server (s3rver).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startDev, type DevRuntime } from '../../lib/local/dev.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import { pointerKey } from '../../lib/snapshots/layout.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';
import { until as poll } from '../harness/until.ts';

const run = promisify(execFile);
const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Registry {
  metadata: { name: string; generation: number };
  spec: { source: { url?: { url: string } } };
  status?: { observedGeneration?: number; serverCount?: number; snapshot?: { hash: string }; conditions?: Array<{ type: string; status: string }> };
}

function kube(dev: DevRuntime) {
  const kc = new KubeConfig();
  kc.loadFromFile(dev.kubeconfigPath);
  return { custom: kc.makeApiClient(CustomObjectsApi), core: kc.makeApiClient(CoreV1Api) };
}

async function registry(dev: DevRuntime, name: string): Promise<Registry> {
  return (await kube(dev).custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'default', plural: 'mcpregistries', name })) as Registry;
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000) => poll(what, probe, { timeoutMs, tolerateErrors: true });

const synced = (r: Registry) => r.status?.observedGeneration === r.metadata.generation && r.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

async function allSynced(dev: DevRuntime): Promise<void> {
  await until('every example registry synced', async () => {
    const all = await Promise.all(['toolhive', 'remote-servers', 'database-servers', 'upstream-mirror', 'platform'].map((n) => registry(dev, n)));
    return all.every(synced) ? true : undefined;
  });
}

function capture(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: createLogger({ format: 'json', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }) };
}

describe('local mode runtime', () => {
  let dir: string;
  let dev: DevRuntime | undefined;
  let s3: TestS3 | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-dev-runtime-'));
  });
  after(async () => {
    await dev?.stop();
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('an edited registry ConfigMap is synced through the event bridge', async () => {
    const { log } = capture();
    dev = await startDev({ dataDir: join(dir, 'fs'), port: 0, apiPort: 0, resyncIntervalMs: 0, examples: true, log });
    await allSynced(dev);
    const before = await registry(dev, 'toolhive');
    assert.equal(before.status?.serverCount, 76);

    const { core } = kube(dev);
    const cm = await core.readNamespacedConfigMap({ namespace: 'default', name: 'toolhive-registry' });
    const doc = JSON.parse(cm.data!['registry.json']!) as { servers: Record<string, { tier?: string }>; remote_servers: Record<string, { tier?: string }> };
    const keep = Object.keys(doc.servers).filter((k) => doc.servers[k]!.tier === 'Official').slice(0, 5);
    const smaller = { ...doc, servers: Object.fromEntries(keep.map((k) => [k, doc.servers[k]])), remote_servers: {} };
    await core.patchNamespacedConfigMap({ namespace: 'default', name: 'toolhive-registry', body: { data: { 'registry.json': JSON.stringify(smaller) } } }, mergePatch);

    // no spec change, no resync tick (interval 0): only the ConfigMap event can cause this
    const after = await until('the toolhive registry re-synced', async () => {
      const r = await registry(dev!, 'toolhive');
      return r.status?.serverCount === 5 ? r : undefined;
    });
    assert.notEqual(after.status?.snapshot?.hash, before.status?.snapshot?.hash);
    const served = (await (await fetch(`${dev.queryUrl}/registries/default/toolhive/v0.1/servers`)).json()) as { metadata: { count: number } };
    assert.equal(served.metadata.count, 5, 'the API serves the new snapshot');
  });

  test('a real git push to the example repository syncs the registry following it, through a GitHub push event', async (t) => {
    const before = await registry(dev!, 'database-servers');
    assert.equal(before.status?.serverCount, 18);
    const repo = `${dev!.examples!.git}/registry.git`;
    const clone = join(dir, 'push-clone');
    const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };
    await run('git', ['clone', '--quiet', repo, clone], { env });
    const file = join(clone, 'registry.json');
    const doc = JSON.parse(await readFile(file, 'utf8')) as { servers: Record<string, { tags?: string[] }> };
    const databases = Object.keys(doc.servers).filter((k) => doc.servers[k]!.tags?.includes('database'));
    // drop three database servers: the registry (tag database) must then serve three fewer
    for (const k of databases.slice(0, 3)) delete doc.servers[k];
    await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
    await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-am', 'drop three database servers'], { cwd: clone, env });
    const pushed = Date.now();
    await run('git', ['push', '--quiet', 'origin', 'main'], { cwd: clone, env });

    // no spec change, no resync tick (interval 0), interval 30m: only the push event can cause this
    const served = await until('the API serving the pushed commit', async () => {
      const r = (await (await fetch(`${dev!.queryUrl}/registries/default/database-servers/v0.1/servers?limit=100`)).json()) as { metadata: { count: number } };
      return r.metadata.count === 15 ? r : undefined;
    });
    assert.equal(served.metadata.count, 15);
    const after = await registry(dev!, 'database-servers');
    assert.equal(after.status?.serverCount, 15);
    assert.notEqual(after.status?.snapshot?.hash, before.status?.snapshot?.hash);
    assert.equal(after.metadata.generation, before.metadata.generation, 'the spec was not touched');
    const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: clone, env })).stdout.trim();
    assert.ok(JSON.stringify(after.status).includes(head), 'the status names the pushed commit');
    t.diagnostic(`push → served: ${Date.now() - pushed} ms`);
  });

  test('a restart whose example port is taken re-points the registry and syncs it from the new port', async () => {
    const old = await registry(dev!, 'remote-servers');
    const oldUrl = new URL(old.spec.source.url!.url);
    await dev!.stop();
    dev = undefined;
    const squatter = http.createServer((_q, r) => r.end('not a registry'));
    await new Promise<void>((r) => squatter.listen(Number(oldUrl.port), '127.0.0.1', r));
    try {
      const { log, lines } = capture();
      dev = await startDev({ dataDir: join(dir, 'fs'), port: 0, apiPort: 0, resyncIntervalMs: 0, examples: true, log });
      assert.deepEqual(dev.examplesOutcome?.repointed, ['default/remote-servers']);
      assert.ok(lines.some((l) => l.msg === "example registry pointed at its server's new port" && l.registry === 'default/remote-servers'));
      assert.ok(!dev.examplesOutcome?.applied, 'examples are not applied again');
      const now = await until('remote-servers synced from the new port', async () => {
        const r = await registry(dev!, 'remote-servers');
        return r.metadata.generation === old.metadata.generation + 1 && synced(r) ? r : undefined;
      });
      const newUrl = new URL(now.spec.source.url!.url);
      assert.notEqual(newUrl.port, oldUrl.port);
      assert.equal(newUrl.pathname, '/registry.json');
      assert.equal(newUrl.origin, dev.examples!.url);
      assert.equal(now.status?.serverCount, 42);
      // the others kept their ports: untouched
      const database = await registry(dev, 'database-servers');
      assert.equal(database.metadata.generation, 1);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
    await dev.stop();
    dev = undefined;
  });

  test('MCPREG_STORE=s3: snapshots go to S3, and the API reads them from there', async () => {
    s3 = await startS3Server();
    const env = {
      ...process.env,
      MCPREG_STORE: 's3',
      MCPREG_S3_BUCKET: s3.bucket,
      MCPREG_S3_ENDPOINT: s3.endpoint,
      AWS_REGION: 'us-east-1',
    };
    // the AWS SDK reads credentials from the process environment
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
    try {
      const { log } = capture();
      dev = await startDev({ dataDir: join(dir, 's3'), port: 0, apiPort: 0, resyncIntervalMs: 0, examples: true, env, log });
      assert.equal(dev.store.kind, 's3');
      await allSynced(dev);
      const store = await createS3Store(s3.storeOptions());
      for (const name of ['toolhive', 'remote-servers', 'database-servers', 'upstream-mirror', 'platform']) {
        assert.ok(await store.exists(pointerKey({ namespace: 'default', name })), `${name} published to S3`);
      }
      store.close?.();
      const listed = (await (await fetch(`${dev.queryUrl}/api/v1/registries`)).json()) as { registries: unknown[] };
      assert.equal(listed.registries.length, 5);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });
});
