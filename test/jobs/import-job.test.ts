/**
 * MCPRegistryImportJob end to end: the embedded control plane with our CRDs, the sync
 * controller, and real sources on loopback: an HTTP server, git http-backend and an upstream
 * registry API; targets are ConfigMaps, the per-server report goes to a ConfigMap too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { DecodedEvent } from '../../lib/events/decode.ts';
import type { KubeObject } from '../../lib/kube/objects.ts';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { createFsStore } from '../../lib/snapshots/fs-store.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController, type SyncController } from '../../lib/sync/controller.ts';
import { telemetryConfigFromEnv } from '../../lib/telemetry/config.ts';
import { startTelemetry, type Telemetry } from '../../lib/telemetry/telemetry.ts';
import { latest, startOtlpReceiver, type OtlpReceiver } from '../servers/otlp.ts';
import { REAL_TOOLHIVE, schemaErrors, toolhiveLegacyValidator, upstreamFileValidator } from '../formats/support.ts';
import { startKube } from '../harness/kube.ts';
import { startGitServer, TestRepo, type TestGitServer } from '../servers/git.ts';
import { startHttpServer, type TestHttpServer } from '../servers/http.ts';
import { entriesFromFixtures, startUpstreamApi, type TestUpstreamApi } from '../servers/upstream-api.ts';

const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'team-i';
const PLURAL = 'mcpregistryimportjobs';
const DATA = join(import.meta.dirname, '../../lib/jobs/testdata');

interface Job extends KubeObject {
  status?: {
    phase?: string;
    failedAttempts?: number;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
    result?: { serverCount?: number; invalidCount?: number; location?: string; reportRef?: string; message?: string; counts?: Record<string, number> };
  };
}
interface Report {
  dryRun: boolean;
  counts: Record<string, number>;
  servers: Array<{ server: string; version?: string; outcome: string; reason?: string }>;
}

describe('MCPRegistryImportJob', () => {
  let cp: ControlPlane;
  let storeDir: string;
  let controller: SyncController;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let http: TestHttpServer;
  let git: TestGitServer;
  let gitRoot: string;
  let repo: TestRepo;
  let upstream: TestUpstreamApi;
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  const audit: string[] = [];
  const incoming = () => readFile(join(DATA, 'incoming-toolhive.json'), 'utf8');
  let clock = new Date('2026-03-01T00:00:00Z');

  before(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    telemetry = await startTelemetry(telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, MCPREG_AUDIT: 'stdout' }, { serviceName: 'mcp-registry-sync' }), { exportIntervalMs: 60_000, auditWrite: (l) => audit.push(l) });
    cp = await startKube({ namespaces: [NS, 'mcp-registry'] });
    custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    storeDir = await mkdtemp(join(tmpdir(), 'mcpreg-import-store-'));
    http = await startHttpServer({ '/incoming.json': { body: await incoming() }, '/real.json': { body: await readFile(REAL_TOOLHIVE, 'utf8') }, '/down.json': { status: 503 } });
    gitRoot = await mkdtemp(join(tmpdir(), 'mcpreg-import-git-'));
    repo = new TestRepo(gitRoot, 'catalog');
    repo.commit({ files: { 'registry.json': await incoming() } });
    git = await startGitServer({ root: gitRoot });
    upstream = await startUpstreamApi({ entries: entriesFromFixtures() });
    controller = createSyncController({
      kubeConfig: cp.kubeConfig(),
      store: createFsStore({ dir: storeDir, durable: false }),
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 0 }),
      config: { deadlineMs: 60_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'test-import', keepSnapshots: 3 },
      now: () => clock,
      log: silentLogger,
      telemetry,
    });
  });

  after(async () => {
    await upstream?.close();
    await git?.close();
    repo?.dispose();
    if (gitRoot) await rm(gitRoot, { recursive: true, force: true });
    await http?.close();
    if (storeDir) await rm(storeDir, { recursive: true, force: true });
    await cp?.stop();
    await telemetry?.shutdown();
    await receiver?.close();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  });

  const event = (object: KubeObject): DecodedEvent => ({ type: 'resource', action: 'add', kind: object.kind as never, object, id: `${object.metadata.name}-${Math.random()}`, source: 'test' });
  async function run(name: string, spec: object): Promise<Job> {
    const job = (await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistryImportJob', metadata: { name }, spec } })) as Job;
    await controller.handle(event(job));
    return (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name })) as Job;
  }
  const cmKey = async (name: string, key = 'registry.json') => {
    try {
      return (await core.readNamespacedConfigMap({ namespace: NS, name })).data?.[key];
    } catch (e) {
      if ((e as { code?: number }).code === 404) return undefined;
      throw e;
    }
  };
  async function report(job: Job): Promise<Report> {
    const m = /^configmap\/([^/]+)\/([^#]+)#(.+)$/.exec(job.status?.result?.reportRef ?? '');
    assert.ok(m, `reportRef names a ConfigMap key: ${job.status?.result?.reportRef}`);
    return JSON.parse((await cmKey(m[2]!, m[3]!))!) as Report;
  }
  const outcomes = (r: Report) => Object.fromEntries(r.servers.map((s) => [s.server, s.outcome]));
  const url = (path: string) => ({ type: 'url', url: { url: `${http.url}${path}`, allowHttp: true } });

  test('from a URL into a new ConfigMap (toolhive): every server reported with its outcome', async () => {
    const job = await run('url-toolhive', { source: url('/incoming.json'), target: { configMap: { name: 'curated' } } });
    assert.equal(job.status?.phase, 'Succeeded', job.status?.result?.message);
    assert.equal(job.status?.conditions?.find((c) => c.type === 'Complete')?.status, 'True');
    assert.deepEqual(job.status?.result?.counts, { added: 4, updated: 0, unchanged: 0, kept: 0, removed: 0, skippedInvalid: 1, skippedFiltered: 0 });
    const r = await report(job);
    assert.deepEqual(outcomes(r), { fetch: 'added', 'notion-remote': 'added', postgres: 'added', redis: 'added', broken: 'skipped' });
    assert.match(r.servers.find((s) => s.server === 'broken')!.reason!, /^invalid: /);
    const doc = JSON.parse((await cmKey('curated'))!);
    const validate = toolhiveLegacyValidator();
    assert.equal(validate(doc), true, schemaErrors(validate));
  });

  test('from git, merged into the existing ConfigMap: changed servers updated, the rest kept', async () => {
    await core.replaceNamespacedConfigMap({ namespace: NS, name: 'curated', body: { metadata: { name: 'curated', namespace: NS }, data: { 'registry.json': await readFile(join(DATA, 'target-toolhive.json'), 'utf8') } } });
    const job = await run('git-merge', { source: { type: 'git', git: { repository: `${git.url}/catalog.git`, allowHttp: true } }, mode: 'merge', target: { configMap: { name: 'curated' } } });
    assert.equal(job.status?.phase, 'Succeeded', job.status?.result?.message);
    const r = await report(job);
    assert.deepEqual(outcomes(r), { fetch: 'updated', 'notion-remote': 'added', postgres: 'added', redis: 'unchanged', 'local-only': 'kept', broken: 'skipped' });
    assert.deepEqual(Object.keys(JSON.parse((await cmKey('curated'))!).servers), ['fetch', 'local-only', 'postgres', 'redis']);
  });

  test('replace drops what the import lacks; dry-run reports the same and writes nothing', async () => {
    const before = await cmKey('curated');
    const dry = await run('git-replace-dry', { source: { type: 'git', git: { repository: `${git.url}/catalog.git`, allowHttp: true } }, mode: 'replace', dryRun: true, target: { configMap: { name: 'curated' } } });
    assert.equal(dry.status?.phase, 'Succeeded', dry.status?.result?.message);
    const r = await report(dry);
    assert.equal(r.dryRun, true);
    assert.equal(outcomes(r)['local-only'], 'removed');
    assert.match(dry.status?.result?.message ?? '', /would write 4 servers.*dry run: nothing written/);
    assert.equal(await cmKey('curated'), before, 'dry run: the target is untouched');
    const real = await run('git-replace', { source: { type: 'git', git: { repository: `${git.url}/catalog.git`, allowHttp: true } }, mode: 'replace', target: { configMap: { name: 'curated' } } });
    assert.equal(real.status?.result?.counts?.removed, 1);
    assert.ok(!('local-only' in JSON.parse((await cmKey('curated'))!).servers));
  });

  test('from a registry API into an upstream ConfigMap, with a filter; re-running changes nothing', async () => {
    const spec = { source: { type: 'registry', registry: { url: upstream.url, allowHttp: true } }, convertTo: 'upstream', filter: { include: { names: ['*/a*'] } }, target: { configMap: { name: 'upstream-curated', key: 'servers.json' } } };
    const job = await run('api-upstream', spec);
    assert.equal(job.status?.phase, 'Succeeded', job.status?.result?.message);
    const doc = JSON.parse((await cmKey('upstream-curated', 'servers.json'))!) as { data: { servers: Array<{ name: string }> } };
    const validate = upstreamFileValidator();
    assert.equal(validate(doc), true, schemaErrors(validate));
    assert.ok(doc.data.servers.length > 0 && doc.data.servers.every((s) => /\/a/.test(s.name)));
    const r = await report(job);
    assert.equal(r.servers.filter((s) => s.outcome === 'added').length, doc.data.servers.length);
    assert.ok(r.servers.filter((s) => s.outcome === 'skipped').every((s) => s.reason === 'filtered out'));
    assert.equal(r.servers.length, new Set(upstream.entries.map((e) => (e as { server: { name: string } }).server.name)).size, 'every server of the source is in the report');
    const rv = (await core.readNamespacedConfigMap({ namespace: NS, name: 'upstream-curated' })).metadata?.resourceVersion;
    const again = await run('api-upstream-again', spec);
    assert.equal(again.status?.result?.counts?.unchanged, doc.data.servers.length);
    assert.equal((await core.readNamespacedConfigMap({ namespace: NS, name: 'upstream-curated' })).metadata?.resourceVersion, rv, 'no ConfigMap write');
  });

  test('an import over the ConfigMap limit fails at once, says so, names the git target, writes nothing', async () => {
    const job = await run('too-big', { source: url('/real.json'), convertTo: 'upstream', target: { configMap: { name: 'too-big' } } });
    assert.equal(job.status?.phase, 'Failed');
    assert.equal(job.status?.failedAttempts, 1);
    assert.match(job.status?.result?.message ?? '', /over the ConfigMap limit of 1048576 bytes \(1 MiB\)\. Nothing was written; import into a git repository instead/);
    assert.equal(await cmKey('too-big'), undefined);
  });

  test('into a git repository in both formats, merge and replace: committed and pushed; dry-run and re-runs make no commit', async () => {
    const target = new TestRepo(gitRoot, 'curated');
    target.commit({ files: { 'registry.json': await readFile(join(DATA, 'target-toolhive.json'), 'utf8') }, message: 'seed' });
    target.allowPush();
    try {
      const gitTarget = (over: object = {}) => ({ git: { repository: `${git.url}/curated.git`, allowHttp: true, authorName: 'Curator', authorEmail: 'curator@example.com', ...over } });
      const merged = await run('to-git-merge', { source: url('/incoming.json'), mode: 'merge', target: gitTarget() });
      assert.equal(merged.status?.phase, 'Succeeded', merged.status?.result?.message);
      assert.equal(merged.status?.result?.location, `git:${git.url}/curated.git#main:registry.json`);
      assert.match(merged.status?.result?.message ?? '', /\(commit [0-9a-f]{12}\)/);
      assert.deepEqual(outcomes(await report(merged)), { fetch: 'updated', 'notion-remote': 'added', postgres: 'added', redis: 'unchanged', 'local-only': 'kept', broken: 'skipped' });
      const log = target.log('main');
      assert.equal(log.length, 2);
      assert.equal(log[0]!.author, 'Curator <curator@example.com>');
      assert.match(log[0]!.subject, /^MCPRegistryImportJob team-i\/to-git-merge: /);
      const doc = JSON.parse(target.show('main', 'registry.json')!);
      const validate = toolhiveLegacyValidator();
      assert.equal(validate(doc), true, schemaErrors(validate));
      assert.deepEqual(Object.keys(doc.servers), ['fetch', 'local-only', 'postgres', 'redis']);

      const dry = await run('to-git-replace-dry', { source: url('/incoming.json'), mode: 'replace', dryRun: true, target: gitTarget() });
      assert.equal(dry.status?.phase, 'Succeeded', dry.status?.result?.message);
      assert.equal(outcomes(await report(dry))['local-only'], 'removed');
      assert.equal(target.log('main').length, 2, 'dry run: no commit');

      const replaced = await run('to-git-replace', { source: url('/incoming.json'), mode: 'replace', target: gitTarget() });
      assert.equal(replaced.status?.result?.counts?.removed, 1);
      assert.equal(target.log('main').length, 3);
      assert.ok(!('local-only' in JSON.parse(target.show('main', 'registry.json')!).servers));
      const again = await run('to-git-replace-again', { source: url('/incoming.json'), mode: 'replace', target: gitTarget() });
      assert.equal(again.status?.phase, 'Succeeded');
      assert.match(again.status?.result?.message ?? '', /already up to date/);
      assert.equal(target.log('main').length, 3, 'an import that changes nothing makes no commit');

      const fromApi = await run('to-git-from-api', { source: { type: 'registry', registry: { url: upstream.url, allowHttp: true } }, convertTo: 'upstream', target: gitTarget({ branch: 'from-api', path: 'api.json' }) });
      assert.equal(fromApi.status?.phase, 'Succeeded', fromApi.status?.result?.message);
      const api = JSON.parse(target.show('from-api', 'api.json')!) as { data: { servers: Array<{ name: string }> } };
      const apiValidate = upstreamFileValidator();
      assert.equal(apiValidate(api), true, schemaErrors(apiValidate));
      assert.equal(new Set(api.data.servers.map((s) => s.name)).size, new Set(upstream.entries.map((e) => (e as { server: { name: string } }).server.name)).size, 'every server of the registry API');

      const upstreamJob = await run('to-git-upstream', { source: { type: 'git', git: { repository: `${git.url}/catalog.git`, allowHttp: true } }, convertTo: 'upstream', target: gitTarget({ branch: 'upstream', path: 'catalog/upstream.json' }) });
      assert.equal(upstreamJob.status?.phase, 'Succeeded', upstreamJob.status?.result?.message);
      const up = JSON.parse(target.show('upstream', 'catalog/upstream.json')!);
      const upValidate = upstreamFileValidator();
      assert.equal(upValidate(up), true, schemaErrors(upValidate));
      assert.equal(up.data.servers.length, upstreamJob.status?.result?.counts?.added);
    } finally {
      target.dispose();
    }
  });

  test('target.registryRef writes into the ConfigMap source of that MCPRegistry; a source it cannot write fails at once', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'reg-source' }, data: { 'servers.json': await readFile(join(DATA, 'target-toolhive.json'), 'utf8') } } });
    const registry = (name: string, source: object) =>
      custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name }, spec: { source } } });
    await registry('curated-reg', { type: 'configmap', configMap: { name: 'reg-source', key: 'servers.json' } });
    const job = await run('into-registry', { source: url('/incoming.json'), target: { registryRef: { name: 'curated-reg' } } });
    assert.equal(job.status?.phase, 'Succeeded', job.status?.result?.message);
    assert.equal(job.status?.result?.location, `configmap/${NS}/reg-source#servers.json`);
    assert.deepEqual(Object.keys(JSON.parse((await cmKey('reg-source', 'servers.json'))!).servers), ['fetch', 'local-only', 'postgres', 'redis']);

    await registry('url-reg', url('/incoming.json'));
    const refused = await run('into-url-registry', { source: url('/incoming.json'), target: { registryRef: { name: 'url-reg' } } });
    assert.equal(refused.status?.phase, 'Failed');
    assert.equal(refused.status?.failedAttempts, 1, 'permanent: not retried');
    assert.match(refused.status?.result?.message ?? '', /reads a url source, which an import cannot write/);
  });

  test('spec.registry creates an MCPRegistry reading the target (ConfigMap or git), which then syncs; an existing one is left as it is; a dry run creates none', async () => {
    const getRegistry = async (name: string) => {
      try {
        return (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name })) as KubeObject & { spec: Record<string, unknown> };
      } catch (e) {
        if ((e as { code?: number }).code === 404) return undefined;
        throw e;
      }
    };
    const dry = await run('with-registry-dry', { source: url('/incoming.json'), dryRun: true, target: { configMap: { name: 'assembled' } }, registry: { name: 'assembled' } });
    assert.equal(dry.status?.phase, 'Succeeded', dry.status?.result?.message);
    assert.match(dry.status?.result?.message ?? '', /MCPRegistry team-i\/assembled would be created unless it exists/);
    assert.equal(await getRegistry('assembled'), undefined, 'a dry run creates no registry');

    const job = await run('with-registry', { source: url('/incoming.json'), target: { configMap: { name: 'assembled', key: 'servers.json' } }, registry: { name: 'assembled', displayName: 'Assembled' } });
    assert.equal(job.status?.phase, 'Succeeded', job.status?.result?.message);
    assert.match(job.status?.result?.message ?? '', /MCPRegistry team-i\/assembled created, reading configmap\/team-i\/assembled#servers\.json/);
    const created = (await getRegistry('assembled'))!;
    assert.deepEqual(created.spec.source, { type: 'configmap', configMap: { name: 'assembled', key: 'servers.json' } });
    assert.equal(created.spec.format, 'toolhive');
    assert.equal(created.spec.displayName, 'Assembled');
    const synced = await controller.handle(event(created));
    assert.equal(synced.registries[0]?.outcome, 'published', 'the registry syncs from what the import wrote');
    assert.equal(synced.registries[0]?.result?.counts.servers, 4);

    const again = await run('with-registry-again', { source: url('/incoming.json'), mode: 'replace', target: { configMap: { name: 'assembled', key: 'servers.json' } }, registry: { name: 'assembled', displayName: 'Other' } });
    assert.equal(again.status?.phase, 'Succeeded', again.status?.result?.message);
    assert.match(again.status?.result?.message ?? '', /MCPRegistry team-i\/assembled exists: left as it is/);
    const kept = (await getRegistry('assembled'))!;
    assert.equal(kept.spec.displayName, 'Assembled');
    assert.deepEqual(kept.spec, created.spec, 'not rewritten');

    const target = new TestRepo(gitRoot, 'assembled');
    target.commit({ files: { 'README.md': 'x\n' } });
    target.allowPush();
    try {
      const viaGit = await run('with-registry-git', { source: url('/incoming.json'), convertTo: 'upstream', target: { git: { repository: `${git.url}/assembled.git`, allowHttp: true, branch: 'catalog', path: 'upstream.json' } }, registry: { name: 'assembled-git' } });
      assert.equal(viaGit.status?.phase, 'Succeeded', viaGit.status?.result?.message);
      const fromGit = (await getRegistry('assembled-git'))!;
      assert.deepEqual(fromGit.spec.source, { type: 'git', git: { repository: `${git.url}/assembled.git`, branch: 'catalog', path: 'upstream.json', allowHttp: true } });
      assert.equal(fromGit.spec.format, 'upstream');
      const gitSynced = await controller.handle(event(fromGit));
      assert.equal(gitSynced.registries[0]?.outcome, 'published', gitSynced.registries[0]?.reason);
    } finally {
      target.dispose();
    }

    await assert.rejects(
      custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistryImportJob', metadata: { name: 'registry-and-ref' }, spec: { source: url('/incoming.json'), target: { registryRef: { name: 'assembled' } }, registry: { name: 'x' } } } }),
      (e: { code?: number; body?: string }) => e.code === 422 && /with target\.registryRef the registry exists already/.test(String(e.body)),
    );
  });

  test('ttlSecondsAfterFinished deletes a finished import job (and keeps what it wrote)', async () => {
    const job = await run('ttl-import', { source: url('/incoming.json'), ttlSecondsAfterFinished: 30, target: { configMap: { name: 'ttl-import-target' } } });
    assert.equal(job.status?.phase, 'Succeeded', job.status?.result?.message);
    const ping = () => controller.handle({ type: 'ping', id: `ping-${Math.random()}`, source: 'test', data: {} });
    const get = () => custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name: 'ttl-import' });
    clock = new Date(clock.getTime() + 29_000);
    await ping();
    assert.ok(await get(), 'kept before its TTL');
    clock = new Date(clock.getTime() + 2_000);
    await ping();
    await assert.rejects(get(), (e: { code?: number }) => e.code === 404);
    assert.ok(await cmKey('ttl-import-target'), 'the target stays');
  });

  test('an unreachable source is transient: retried, not failed', async () => {
    const job = await run('down', { source: url('/down.json'), backoffLimit: 1, target: { configMap: { name: 'down' } } });
    assert.equal(job.status?.phase, 'Pending', job.status?.result?.message);
    assert.equal(job.status?.failedAttempts, 1);
    assert.match(job.status?.result?.message ?? '', /retrying at/);
  });

  test('every run is a job span, counted in mcpreg.job.runs by kind and outcome, with a job.run audit line', async () => {
    await telemetry.flush();
    const lines = audit.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.action === 'job.run');
    const of = (name: string) => lines.filter((r) => r.resource === `mcpregistryimportjobs/${NS}/${name}`);
    assert.deepEqual(of('url-toolhive').map((r) => [r.actor, r.outcome, r.reason]), [['test-import', 'success', 'succeeded']]);
    assert.deepEqual(of('down').map((r) => [r.outcome, r.reason]), [['failure', 'retrying']]);
    assert.ok(lines.some((r) => r.outcome === 'failure' && r.reason === 'failed'), 'the over-the-limit import failed');
    assert.ok(lines.every((r) => typeof r.traceId === 'string' && /^[0-9a-f]{32}$/.test(String(r.traceId))));
    const points = receiver.points();
    const runs = (outcome: string) => latest(points, 'mcpreg.job.runs', { 'mcpreg.job.kind': 'import', 'mcpreg.job.outcome': outcome })?.value ?? 0;
    assert.equal(runs('Succeeded'), lines.filter((r) => r.outcome === 'success').length);
    assert.equal(runs('Retrying'), 1);
    assert.equal(runs('Failed'), lines.filter((r) => r.reason === 'failed').length);
    const spans = receiver.spans().filter((sp) => sp.name === 'job');
    const down = spans.find((sp) => sp.attributes['mcpreg.job'] === `${NS}/down`);
    assert.equal(down?.attributes['mcpreg.job.kind'], 'import');
    assert.equal(down?.attributes['mcpreg.job.outcome'], 'retrying');
    assert.equal(down?.status?.code, 2, 'a failed attempt is an error span');
    assert.equal(down?.traceId, of('down')[0]!.traceId);
  });
});
