/**
 * The query function on the S3 store (s3rver through test/servers/s3.ts) with a snapshot
 * larger than the first ranged read: the first pages of a cold registry are answered while
 * the rest loads, every later answer is complete and correct, and when S3 goes away the
 * loaded snapshot keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OFFICIAL_META } from '../../lib/api/entry.ts';
import type { ServerResponse } from '../../lib/formats/upstream-schema.ts';
import { createQueryStore } from '../../lib/api/query-store.ts';
import { createS3Store, type S3Store } from '../../lib/snapshots/s3-store.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { generateUpstreamServers } from '../bench/generate.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';
import { publishEntries } from './fixture.ts';
import { startQuery, type Running } from './harness.ts';

const REF = { namespace: 'bench', name: 'big' };

for (const reads of ['direct', 'sdk'] as const) {
describe(`reads through ${reads === 'direct' ? 'signed requests (the default)' : 'the AWS SDK'}`, () => {
let s3: TestS3;
let store: S3Store;
let queryStore: SnapshotStore;
let api: Running;
let entries: ServerResponse[];

before(async () => {
  s3 = await startS3Server();
  store = await createS3Store({ ...s3.storeOptions(), prefix: 'query/' });
  entries = generateUpstreamServers(3000, { seed: 7 }).sort((a, b) => (a.server.name === b.server.name ? (a.server.version < b.server.version ? -1 : 1) : a.server.name < b.server.name ? -1 : 1));
  const snap = await publishEntries(store, REF, entries);
  assert.ok(snap.upstream.length > 1024 * 1024, 'the snapshot is much larger than the first read');
  queryStore = await createQueryStore({
    MCPREG_STORE: 's3',
    MCPREG_S3_BUCKET: s3.bucket,
    MCPREG_S3_PREFIX: 'query/',
    MCPREG_S3_ENDPOINT: s3.endpoint,
    MCPREG_S3_MAX_ATTEMPTS: '1',
    MCPREG_S3_CONNECT_TIMEOUT_MS: '500',
    MCPREG_S3_REQUEST_TIMEOUT_MS: '2000',
    MCPREG_S3_DIRECT_READS: reads === 'direct' ? 'true' : 'false',
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  });
  // pieces of 256 KiB: the snapshot loads in several ranged reads after a 32 KiB first read
  api = await startQuery({ store: queryStore, env: { MCPREG_DEFAULT_REGISTRY: 'bench/big', MCPREG_SNAPSHOT_PREFIX_KB: '32', MCPREG_SNAPSHOT_PIECE_KB: '256', MCPREG_POINTER_TTL: '100ms' } });
});
after(async () => {
  await api?.close();
  queryStore?.close?.();
  store?.close();
  await s3?.stop();
});

const visible = () => entries.filter((e) => e._meta![OFFICIAL_META]!.status !== 'deleted');

test('cold first page, then a full walk and lookups deep in the snapshot, all correct', async () => {
  const first = (await api.get('/v0.1/servers?limit=10')).json();
  assert.deepEqual(
    first.servers.map((s: ServerResponse) => `${s.server.name}:${s.server.version}`),
    visible()
      .slice(0, 10)
      .map((e) => `${e.server.name}:${e.server.version}`),
  );
  const last = visible()[visible().length - 1]!;
  const deep = await api.get(`/v0.1/servers/${encodeURIComponent(last.server.name)}/versions/${encodeURIComponent(last.server.version)}`);
  assert.equal(deep.status, 200);
  assert.deepEqual(deep.json(), last);
  const rows: string[] = [];
  let cursor: string | undefined;
  do {
    const page = (await api.get(`/v0.1/servers?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json();
    rows.push(...page.servers.map((s: ServerResponse) => `${s.server.name}:${s.server.version}`));
    cursor = page.metadata.nextCursor;
  } while (cursor);
  assert.deepEqual(
    rows,
    visible().map((e) => `${e.server.name}:${e.server.version}`),
  );
});

test('S3 unreachable: the loaded snapshot keeps serving; readiness reports it', async () => {
  const before = await api.get('/v0.1/servers?version=latest&limit=50');
  assert.equal(before.status, 200);
  await s3.stop();
  await new Promise((r) => setTimeout(r, 150)); // past the pointer TTL: revalidation fails
  const during = await api.get('/v0.1/servers?version=latest&limit=50');
  assert.equal(during.status, 200);
  assert.deepEqual(during.body, before.body);
  const fresh = await api.get('/v0.1/servers?search=a&limit=7');
  assert.equal(fresh.status, 200, 'a new query is computed from the loaded snapshot');
  const ready = await api.get('/readyz');
  assert.equal(ready.status, 503);
  assert.equal(ready.json().detail, 'The snapshot store is unreachable');
  // a registry never loaded cannot be served: 503, not a crash and not a 404
  const other = await api.get('/registries/other/reg/v0.1/servers');
  assert.equal(other.status, 503);
  assert.equal(other.headers['retry-after'], '1');
});
});
}
