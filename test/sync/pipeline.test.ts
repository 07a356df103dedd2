/**
 * The sync pipeline end to end on real parts: URL sources on a real HTTP server, registry API
 * sources on the upstream-API test server, snapshots in the filesystem store and in S3
 * (s3rver through test/servers/s3.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsStore } from '../../lib/snapshots/fs-store.ts';
import { readPointer, readSnapshotFile } from '../../lib/snapshots/read.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { createSource } from '../../lib/sources/index.ts';
import { createMemorySecretReader } from '../../lib/kube/secrets.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { MCPRegistrySpec } from '../../lib/kube/mcpregistry-spec.ts';
import { runSync, type SyncRequest } from '../../lib/sync/pipeline.ts';
import { mutableDocument, startHttpServer, type TestHttpServer } from '../servers/http.ts';
import { startUpstreamApi, entry, generateEntries } from '../servers/upstream-api.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import { upstreamToToolhive } from '../../lib/formats/registry-conversion.ts';
import type { ServerResponse } from '../../lib/formats/upstream-schema.ts';
import { upstreamListJson } from '../bench/generate.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/real');
const OFFICIAL = 'io.modelcontextprotocol.registry/official';
const toolhiveBytes = await readFile(join(FIXTURES, 'toolhive-registry.2026-02-20.json'));
const toolhiveDoc = JSON.parse(toolhiveBytes.toString('utf8')) as { servers: Record<string, unknown>; remote_servers: Record<string, unknown> };
const realServerCount = Object.keys(toolhiveDoc.servers).length + Object.keys(toolhiveDoc.remote_servers).length;

const context = {
  secrets: createMemorySecretReader({}),
  policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retryBaseMs: 10, retryMaxWaitMs: 200, totalTimeoutMs: 5_000 }),
};

function request(store: SnapshotStore, specInput: unknown, extra: Partial<SyncRequest> = {}): SyncRequest {
  const spec = MCPRegistrySpec.parse(specInput);
  return { ref: { namespace: 'team-a', name: 'reg' }, spec, store, source: createSource(spec.source), context, ...extra };
}

function urlSpec(url: string, extra: object = {}) {
  return { source: { type: 'url', url: { url, allowHttp: true } }, ...extra };
}

interface UpstreamList {
  servers: Array<{ server: { name: string; version: string; description?: string }; _meta: Record<string, { isLatest: boolean; updatedAt: string; publishedAt: string; status: string }> }>;
  metadata: { count: number };
}

async function upstreamOf(store: SnapshotStore): Promise<UpstreamList> {
  const read = await readPointer(store, { namespace: 'team-a', name: 'reg' });
  assert.ok(read, 'a pointer exists');
  const obj = await readSnapshotFile(store, read.pointer, 'upstream');
  return JSON.parse(Buffer.from(obj.body).toString('utf8')) as UpstreamList;
}

describe('sync pipeline with a URL source and the filesystem store', () => {
  let http: TestHttpServer;
  let dir: string;
  let store: SnapshotStore;
  const registry = mutableDocument(toolhiveBytes.toString('utf8'), '"v1"');

  before(async () => {
    http = await startHttpServer({
      '/registry.json': registry.route,
      '/broken.json': { status: 500, body: 'oops' },
      '/garbage.json': { body: '{"servers": {"a": ' },
      '/empty.json': { body: '{"version":"1.0.0","last_updated":"2026-01-01T00:00:00Z","servers":{}}' },
    });
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-pipeline-'));
    store = createFsStore({ dir, durable: false });
  });
  after(async () => {
    await http.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a first sync publishes every real server in both formats', async () => {
    const result = await runSync(request(store, urlSpec(`${http.url}/registry.json`)));
    assert.equal(result.outcome, 'published', result.error?.describe());
    assert.equal(result.format, 'toolhive');
    assert.equal(result.counts.published, realServerCount);
    assert.equal(result.counts.servers, realServerCount);
    assert.equal(result.revision, '"v1"');
    const upstream = await upstreamOf(store);
    assert.equal(upstream.metadata.count, realServerCount);
    for (const e of upstream.servers) {
      const official = e._meta[OFFICIAL]!;
      assert.equal(official.isLatest, true);
      assert.equal(official.status === 'active' || official.status === 'deprecated', true);
      assert.ok(official.publishedAt && official.updatedAt);
    }
    const names = upstream.servers.map((e) => e.server.name);
    assert.deepEqual(names, [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    const read = await readPointer(store, { namespace: 'team-a', name: 'reg' });
    const toolhive = JSON.parse(Buffer.from((await readSnapshotFile(store, read!.pointer, 'toolhive')).body).toString('utf8'));
    assert.deepEqual(Object.keys(toolhive.servers).sort(), Object.keys(toolhiveDoc.servers).sort());
    // without a filter the snapshot itself is the stored source: no third object
    assert.equal(read!.pointer.source?.key, read!.pointer.objects.toolhive);
  });

  test('an unchanged re-sync answers from the ETag and writes nothing', async () => {
    const before = await readPointer(store, { namespace: 'team-a', name: 'reg' });
    const result = await runSync(request(store, urlSpec(`${http.url}/registry.json`)));
    assert.equal(result.outcome, 'unchanged');
    assert.equal(result.fetch, 'unchanged');
    assert.equal(result.objectsWritten, 0);
    const after = await readPointer(store, { namespace: 'team-a', name: 'reg' });
    assert.equal(after!.etag, before!.etag);
    assert.equal(http.hits('/registry.json').at(-1)?.headers['if-none-match'], '"v1"');
  });

  test('a source edit publishes a new snapshot; unchanged entries keep their timestamps', async () => {
    const first = await upstreamOf(store);
    const doc = JSON.parse(registry.body);
    const [firstKey] = Object.keys(doc.servers).sort();
    doc.servers[firstKey!].description = 'edited description';
    registry.body = JSON.stringify(doc);
    registry.etag = '"v2"';
    const result = await runSync(request(store, urlSpec(`${http.url}/registry.json`), { now: () => new Date('2030-01-01T00:00:00Z') }));
    assert.equal(result.outcome, 'published', result.error?.describe());
    assert.equal(result.revision, '"v2"');
    const second = await upstreamOf(store);
    const changed = second.servers.filter((e) => e._meta[OFFICIAL]!.updatedAt === '2030-01-01T00:00:00.000Z');
    assert.equal(changed.length, 1, 'exactly the edited entry has a new updatedAt');
    assert.equal(changed[0]!.server.description, 'edited description');
    const unchanged = second.servers.filter((e) => e !== changed[0]);
    for (const e of unchanged) {
      const before = first.servers.find((b) => b.server.name === e.server.name)!;
      assert.equal(e._meta[OFFICIAL]!.updatedAt, before._meta[OFFICIAL]!.updatedAt);
    }
    assert.equal(changed[0]!._meta[OFFICIAL]!.publishedAt, first.servers.find((b) => b.server.name === changed[0]!.server.name)!._meta[OFFICIAL]!.publishedAt);
  });

  test('a filter change alone re-publishes without fetching the body again', async () => {
    const hitsBefore = http.hits('/registry.json').length;
    const spec = urlSpec(`${http.url}/registry.json`, { filter: { include: { names: ['*/a*'] } } });
    const result = await runSync(request(store, spec));
    assert.equal(result.outcome, 'published', result.error?.describe());
    assert.equal(result.fetch, 'refiltered');
    const hits = http.hits('/registry.json').slice(hitsBefore);
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!.headers['if-none-match'], '"v2"', 'a conditional GET answered 304: no body transferred');
    const upstream = await upstreamOf(store);
    assert.ok(upstream.servers.length > 0 && upstream.servers.length < realServerCount);
    assert.ok(upstream.servers.every((e) => e.server.name.split('/')[1]!.startsWith('a')));
    assert.equal(result.counts.filteredOut, realServerCount - upstream.servers.length);
    // and back: removing the filter restores every server from the stored source, still without a fetch
    const back = await runSync(request(store, urlSpec(`${http.url}/registry.json`)));
    assert.equal(back.fetch, 'refiltered');
    assert.equal(back.counts.published, realServerCount);
  });

  test('a forced re-sync of an unchanged filtered registry publishes nothing new', async () => {
    const ref = { namespace: 'team-a', name: 'filtered' };
    const spec = urlSpec(`${http.url}/registry.json`, { filter: { exclude: { names: ['*/a*'] } } });
    const first = await runSync(request(store, spec, { ref, now: () => new Date('2031-01-01T00:00:00Z') }));
    assert.equal(first.outcome, 'published', first.error?.describe());
    const again = await runSync(request(store, spec, { ref, force: true, now: () => new Date('2031-01-02T00:00:00Z') }));
    assert.equal(again.outcome, 'unchanged', 'entries the filter drops get no fresh timestamps into the hash');
    assert.equal(again.hash, first.hash);
    assert.equal(again.objectsWritten, 0);
  });

  test('a new displayName rewrites the pointer only; listings show it', async () => {
    const ref = { namespace: 'team-a', name: 'display' };
    const first = await runSync(request(store, urlSpec(`${http.url}/registry.json`), { ref }));
    assert.equal(first.outcome, 'published');
    const renamed = await runSync(request(store, urlSpec(`${http.url}/registry.json`, { displayName: 'Team A tools', description: 'what team A runs' }), { ref }));
    assert.equal(renamed.outcome, 'unchanged', 'same content, same snapshot');
    assert.equal(renamed.hash, first.hash);
    const read = await readPointer(store, ref);
    assert.equal(read?.pointer.displayName, 'Team A tools');
    assert.equal(read?.pointer.description, 'what team A runs');
    assert.equal(renamed.objectsWritten, 1, 'only the pointer was written');
    const same = await runSync(request(store, urlSpec(`${http.url}/registry.json`, { displayName: 'Team A tools', description: 'what team A runs' }), { ref }));
    assert.equal(same.objectsWritten, 0);
  });

  test('source failures leave the current pointer and snapshot untouched', async () => {
    const before = await readPointer(store, { namespace: 'team-a', name: 'reg' });
    const cases = [
      ['/broken.json', 'source_unavailable'],
      ['/missing.json', 'source_not_found'],
      ['/garbage.json', 'invalid_json'],
      ['/empty.json', 'empty_result'],
    ] as const;
    for (const [path, code] of cases) {
      const result = await runSync(request(store, urlSpec(`${http.url}${path}`)));
      assert.equal(result.outcome, 'failed', path);
      assert.equal(result.error?.code, code, `${path}: ${result.error?.describe()}`);
      const after = await readPointer(store, { namespace: 'team-a', name: 'reg' });
      assert.equal(after!.etag, before!.etag, `${path} left the pointer alone`);
      await readSnapshotFile(store, after!.pointer, 'upstream');
    }
  });

  test('allowEmpty publishes an empty registry when asked to', async () => {
    const result = await runSync(request(store, urlSpec(`${http.url}/empty.json`, { allowEmpty: true }), { ref: { namespace: 'team-a', name: 'empty' } }));
    assert.equal(result.outcome, 'published', result.error?.describe());
    assert.equal(result.counts.published, 0);
  });

  test('a corrupt pointer is replaced by the next sync instead of wedging the registry', async () => {
    const ref = { namespace: 'team-a', name: 'corrupt' };
    await store.put('registries/team-a/corrupt/current.json', new TextEncoder().encode('{"not": "a pointer"'));
    const result = await runSync(request(store, urlSpec(`${http.url}/registry.json`), { ref }));
    assert.equal(result.outcome, 'published', result.error?.describe());
    assert.equal((await readPointer(store, ref))?.pointer.hash, result.hash);
  });

  test('the deadline aborts a slow source cleanly', async () => {
    http.route('/slow.json', { body: registry.body, slow: { chunkBytes: 1000, intervalMs: 50 } });
    const result = await runSync(request(store, urlSpec(`${http.url}/slow.json`), { ref: { namespace: 'team-a', name: 'slow' }, deadlineMs: 300 }));
    assert.equal(result.outcome, 'failed');
    assert.equal(result.error?.code, 'deadline_exceeded', result.error?.describe());
    assert.ok(result.durationMs < 2_000, `aborted promptly (${result.durationMs} ms)`);
    assert.equal(await readPointer(store, { namespace: 'team-a', name: 'slow' }), null);
  });
});

describe('validation modes', () => {
  let http: TestHttpServer;
  let dir: string;
  before(async () => {
    const doc = JSON.parse(toolhiveBytes.toString('utf8'));
    const [a, b] = Object.keys(doc.servers).sort();
    doc.servers[a!].transport = 42;
    delete doc.servers[b!].image;
    http = await startHttpServer({ '/partly-bad.json': { body: JSON.stringify(doc) } });
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-validation-'));
  });
  after(async () => {
    await http.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('lenient keeps valid entries and reports each invalid one; strict fails on the first', async () => {
    const store = createFsStore({ dir, durable: false });
    const lenient = await runSync(request(store, urlSpec(`${http.url}/partly-bad.json`, { validation: 'lenient' })));
    assert.equal(lenient.outcome, 'published', lenient.error?.describe());
    assert.equal(lenient.counts.invalid, 2);
    assert.equal(lenient.counts.published, realServerCount - 2);
    assert.equal(lenient.invalid.length, 2);
    for (const p of lenient.invalid) assert.ok(p.server && p.path && p.message, JSON.stringify(p));
    const strict = await runSync(request(store, urlSpec(`${http.url}/partly-bad.json`, { validation: 'strict' }), { ref: { namespace: 'team-a', name: 'strict' }, force: true }));
    assert.equal(strict.outcome, 'failed');
    assert.equal(strict.error?.code, 'invalid_document');
    assert.ok(strict.error?.where.server && strict.error.where.path, strict.error?.describe());
  });
});

describe('sync pipeline with a registry API source and S3', () => {
  let s3: TestS3;
  let store: SnapshotStore;

  before(async () => {
    s3 = await startS3Server();
    store = await createS3Store(s3.storeOptions());
  });
  after(async () => {
    await s3.stop();
  });

  test('full sync, then incremental merges with deletions and new versions', async () => {
    const api = await startUpstreamApi({ entries: generateEntries(120, 2) });
    try {
      const spec = { source: { type: 'registry', registry: { url: api.url, allowHttp: true, fullSyncEvery: 5 } } };
      const first = await runSync(request(store, spec));
      assert.equal(first.outcome, 'published', first.error?.describe());
      assert.equal(first.fetch, 'full');
      assert.equal(first.counts.published, 240);
      assert.equal(first.counts.servers, 120);

      const later = '2027-01-01T00:00:00.000001Z';
      const victim = api.entries[0]!;
      api.upsert(
        entry({ ...victim.server }, { publishedAt: victim._meta[OFFICIAL].publishedAt, updatedAt: later, status: 'deleted', isLatest: false }),
        entry({ ...api.entries[2]!.server, version: '2.0.0' }, { publishedAt: later, isLatest: true }),
      );
      const second = await runSync(request(store, spec));
      assert.equal(second.outcome, 'published', second.error?.describe());
      assert.equal(second.fetch, 'incremental');
      assert.equal(second.counts.fetched, 2, 'only the delta was fetched');
      const upstream = await upstreamOf(store);
      assert.equal(upstream.servers.length, 241);
      const deleted = upstream.servers.find((e) => e.server.name === victim.server.name && e.server.version === victim.server.version)!;
      assert.equal(deleted._meta[OFFICIAL]!.status, 'deleted');
      const bumped = upstream.servers.filter((e) => e.server.name === api.entries[2]!.server.name);
      assert.deepEqual(bumped.filter((e) => e._meta[OFFICIAL]!.isLatest).map((e) => e.server.version), ['2.0.0']);
      for (const name of new Set(upstream.servers.map((e) => e.server.name))) {
        assert.equal(upstream.servers.filter((e) => e.server.name === name && e._meta[OFFICIAL]!.isLatest).length, 1, name);
      }
    } finally {
      await api.close();
    }
  });

  test('two syncs of one registry at once publish exactly one pointer; the other lost the race', async () => {
    const http = await startHttpServer({ '/r.json': { body: toolhiveBytes } });
    try {
      const ref = { namespace: 'team-a', name: 'race' };
      const results = await Promise.all([
        runSync(request(store, urlSpec(`${http.url}/r.json`), { ref })),
        runSync(request(store, urlSpec(`${http.url}/r.json`, { filter: { exclude: { names: ['*/a*'] } } }), { ref })),
      ]);
      const outcomes = results.map((r) => r.outcome).sort();
      assert.deepEqual(outcomes, ['failed', 'published'], JSON.stringify(results.map((r) => r.error?.describe())));
      const loser = results.find((r) => r.outcome === 'failed')!;
      assert.equal(loser.error?.code, 'conflict');
      const winner = results.find((r) => r.outcome === 'published')!;
      const read = await readPointer(store, ref);
      assert.equal(read?.pointer.hash, winner.hash);
    } finally {
      await http.close();
    }
  });
});

describe('snapshot files of an upstream source', () => {
  let http: TestHttpServer;
  let dir: string;
  const list = mutableDocument(upstreamListJson(600).toString('utf8'), '"g1"');
  before(async () => {
    http = await startHttpServer({
      '/list.json': list.route,
    });
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-files-'));
  });
  after(async () => {
    await http.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('toolhive.json is byte for byte the conversion of upstream.json; a new ETag over the same content publishes nothing', async () => {
    const store = createFsStore({ dir, durable: false });
    const first = await runSync(request(store, urlSpec(`${http.url}/list.json`)));
    assert.equal(first.outcome, 'published', first.error?.describe());
    const read = await readPointer(store, { namespace: 'team-a', name: 'reg' });
    const upstreamText = Buffer.from((await readSnapshotFile(store, read!.pointer, 'upstream')).body).toString('utf8');
    const toolhiveText = Buffer.from((await readSnapshotFile(store, read!.pointer, 'toolhive')).body).toString('utf8');
    const upstream = JSON.parse(upstreamText) as { servers: ServerResponse[]; metadata: { count: number } };
    assert.equal(upstreamText, JSON.stringify(upstream), 'upstream.json is what JSON.stringify writes');
    assert.equal(upstream.metadata.count, 600);
    const lastUpdated = (JSON.parse(toolhiveText) as { last_updated: string }).last_updated;
    assert.equal(toolhiveText, JSON.stringify(upstreamToToolhive(upstream.servers, { lastUpdated }).registry));

    // the same content behind a new ETag, synced at another time: same hash, no new objects
    list.etag = '"g2"';
    const again = await runSync(request(store, urlSpec(`${http.url}/list.json`), { now: () => new Date('2031-01-01T00:00:00Z') }));
    assert.equal(again.outcome, 'unchanged', again.error?.describe());
    assert.equal(again.hash, first.hash);
    assert.equal(again.revision, '"g2"');
    assert.equal(again.objectsWritten, 1, 'only the pointer, to record the new revision');
  });
});
