/**
 * A registry of registries: our own registry source (`type: registry`, lib/sources/registry.ts)
 * syncs, through the real sync pipeline, from this query API into a second store; the mirror
 * must equal the original. Then an incremental sync (updated_since) picks up a change.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OFFICIAL_META } from '../../lib/api/entry.ts';
import { createMemorySecretReader } from '../../lib/kube/secrets.ts';
import { MCPRegistrySpec } from '../../lib/kube/mcpregistry-spec.ts';
import type { ServerResponse } from '../../lib/formats/upstream-schema.ts';
import { readPointer, readSnapshotFile } from '../../lib/snapshots/read.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { createSource } from '../../lib/sources/index.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { runSync } from '../../lib/sync/pipeline.ts';
import { fixtureEntries, publishEntries } from './fixture.ts';
import { startQuery, tempStore, type Running } from './harness.ts';

const ORIGIN = { namespace: 'mcp', name: 'origin' };
const MIRROR = { namespace: 'mirror', name: 'copy' };
const context = { secrets: createMemorySecretReader({}), policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retryBaseMs: 10, retryMaxWaitMs: 200, totalTimeoutMs: 10_000 }) };

let origin: { store: SnapshotStore; cleanup: () => Promise<void> };
let mirror: { store: SnapshotStore; cleanup: () => Promise<void> };
let api: Running;
let mirrorApi: Running;
let entries: ServerResponse[];

before(async () => {
  origin = await tempStore();
  mirror = await tempStore();
  entries = fixtureEntries();
  await publishEntries(origin.store, ORIGIN, entries);
  api = await startQuery({ store: origin.store, env: { MCPREG_POINTER_TTL: '0' } });
});
after(async () => {
  await api?.close();
  await mirrorApi?.close();
  await origin?.cleanup();
  await mirror?.cleanup();
});

async function sync() {
  const spec = MCPRegistrySpec.parse({ source: { type: 'registry', registry: { url: `${api.url}/registries/mcp/origin`, allowHttp: true } } });
  const result = await runSync({ ref: MIRROR, spec, store: mirror.store, source: createSource(spec.source), context });
  assert.equal(result.outcome === 'failed' ? result.error?.message : result.outcome, result.outcome);
  return result;
}

async function mirrored(): Promise<ServerResponse[]> {
  const read = await readPointer(mirror.store, MIRROR);
  assert.ok(read);
  const obj = await readSnapshotFile(mirror.store, read.pointer, 'upstream');
  return (JSON.parse(Buffer.from(obj.body).toString('utf8')) as { servers: ServerResponse[] }).servers;
}

test('a full sync from the query API reproduces every version, document and official metadata', async () => {
  const result = await sync();
  assert.notEqual(result.outcome, 'failed');
  assert.deepEqual(await mirrored(), entries);
});

test('the mirror serves the same API as the original', async () => {
  mirrorApi = await startQuery({ store: mirror.store });
  for (const path of ['/servers?limit=100&include_deleted=true', '/servers?version=latest', '/servers/io.github.stacklok%2Ffetch/versions', '/servers/io.github.stacklok%2Fgithub/versions/latest']) {
    const a = await api.get(`/registries/mcp/origin/v0.1${path}`);
    const b = await mirrorApi.get(`/registries/mirror/copy/v0.1${path}`);
    assert.equal(b.status, 200, path);
    assert.deepEqual(b.json(), a.json(), path);
  }
});

test('an incremental sync picks up a new version and a deletion from the origin', async () => {
  const next = structuredClone(entries);
  const fetchLatest = next.find((e) => e.server.name === 'io.github.stacklok/fetch' && e._meta![OFFICIAL_META]!.isLatest)!;
  const added = structuredClone(fetchLatest);
  added.server.version = '5.0.0';
  added._meta![OFFICIAL_META] = { status: 'active', publishedAt: '2026-05-01T00:00:00.000001Z', updatedAt: '2026-05-01T00:00:00.000001Z', isLatest: true };
  fetchLatest._meta![OFFICIAL_META]!.isLatest = false;
  const removed = next.find((e) => e.server.name === 'io.github.stacklok/github' && e.server.version === '0.9.0')!;
  removed._meta![OFFICIAL_META] = { ...removed._meta![OFFICIAL_META]!, status: 'deleted', updatedAt: '2026-05-02T00:00:00Z', statusChangedAt: '2026-05-02T00:00:00Z' };
  next.push(added);
  next.sort((a, b) => (a.server.name === b.server.name ? (a.server.version < b.server.version ? -1 : 1) : a.server.name < b.server.name ? -1 : 1));
  await publishEntries(origin.store, ORIGIN, next);
  const result = await sync();
  assert.equal(result.fetch, 'incremental');
  const got = await mirrored();
  const find = (name: string, version: string) => got.find((e) => e.server.name === name && e.server.version === version);
  assert.equal(find('io.github.stacklok/fetch', '5.0.0')?._meta?.[OFFICIAL_META]?.isLatest, true);
  assert.equal(find('io.github.stacklok/fetch', fetchLatest.server.version)?._meta?.[OFFICIAL_META]?.isLatest, false);
  assert.equal(find('io.github.stacklok/github', '0.9.0')?._meta?.[OFFICIAL_META]?.status, 'deleted');
  assert.equal(got.length, next.length);
});
