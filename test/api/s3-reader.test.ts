/**
 * The query function's direct S3 reads (lib/api/s3-reader.ts) against the S3 test server,
 * whose front checks every SigV4 signature, and the store the query function builds from
 * its environment (lib/api/query-store.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../../lib/errors.ts';
import { createQueryStore } from '../../lib/api/query-store.ts';
import { createS3Reader, type S3Reader } from '../../lib/api/s3-reader.ts';
import { createS3Store, type S3Store } from '../../lib/snapshots/s3-store.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';

let s3: TestS3;
let sdk: S3Store;
let reader: S3Reader;
const body = Buffer.from(JSON.stringify({ servers: Array.from({ length: 200 }, (_, i) => ({ i, text: 'é ü'.repeat(10) })) }));

before(async () => {
  s3 = await startS3Server();
  sdk = await createS3Store({ ...s3.storeOptions(), prefix: 'p/' });
  reader = await createS3Reader({ ...s3.storeOptions(), prefix: 'p/', maxAttempts: 1 });
});
after(async () => {
  reader?.close();
  sdk?.close();
  await s3?.stop();
});

test('reads what the SDK store wrote: bytes, ETag, ranges, If-None-Match, HEAD', async () => {
  const { etag } = await sdk.put('registries/ns/r/snapshots/a b+c/upstream.json', body, { contentType: 'application/json' });
  const key = 'registries/ns/r/snapshots/a b+c/upstream.json';
  const whole = await reader.get(key);
  assert.ok(whole && whole !== 'not-modified');
  assert.deepEqual(Buffer.from(whole.body), body);
  assert.equal(whole.etag, etag);
  assert.equal(whole.contentType, 'application/json');
  assert.equal(whole.range, undefined);
  const part = await reader.get(key, { range: { start: 10, end: 110 } });
  assert.ok(part && part !== 'not-modified');
  assert.deepEqual(Buffer.from(part.body), body.subarray(10, 110));
  assert.deepEqual(part.range, { start: 10, end: 110, size: body.length });
  assert.equal(await reader.get(key, { ifNoneMatch: etag }), 'not-modified');
  assert.equal(await reader.exists(key), true);
  assert.equal(await reader.exists('registries/ns/r/nothing.json'), false);
  assert.equal(await reader.get('registries/ns/r/nothing.json'), null);
});

test('refused credentials are auth_failed; an unreachable endpoint is store_unavailable; bad keys are refused before any request', async () => {
  const wrong = await createS3Reader({ ...s3.storeOptions(), credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'not-the-secret' }, maxAttempts: 1 });
  try {
    await assert.rejects(wrong.get('p/x.json'), (e: unknown) => e instanceof RegistryError && e.code === 'auth_failed' && !e.message.includes('not-the-secret'));
  } finally {
    wrong.close();
  }
  const nowhere = await createS3Reader({ ...s3.storeOptions(), endpoint: 'http://127.0.0.1:9', maxAttempts: 2, connectTimeoutMs: 500 });
  try {
    await assert.rejects(nowhere.get('p/x.json'), (e: unknown) => e instanceof RegistryError && e.code === 'store_unavailable' && e.transient);
  } finally {
    nowhere.close();
  }
  await assert.rejects(reader.get('../escape'), (e: unknown) => e instanceof RegistryError && e.code === 'invalid_argument');
});

test('the query store: direct reads with static credentials, the SDK store for listing; SDK only without them', async () => {
  const env = {
    MCPREG_STORE: 's3',
    MCPREG_S3_BUCKET: s3.bucket,
    MCPREG_S3_PREFIX: 'p/',
    MCPREG_S3_ENDPOINT: s3.endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  };
  const stores: SnapshotStore[] = [await createQueryStore(env), await createQueryStore({ ...env, MCPREG_S3_DIRECT_READS: 'false' })];
  try {
    assert.match(stores[0]!.description, /direct reads/);
    assert.doesNotMatch(stores[1]!.description, /direct reads/);
    for (const store of stores) {
      const got = await store.get('registries/ns/r/snapshots/a b+c/upstream.json');
      assert.ok(got && got !== 'not-modified');
      assert.deepEqual(Buffer.from(got.body), body);
      assert.ok((await store.list('registries/')).includes('registries/ns/r/snapshots/a b+c/upstream.json'));
    }
  } finally {
    for (const s of stores) s.close?.();
  }
  await assert.rejects(createQueryStore({ ...env, MCPREG_S3_DIRECT_READS: 'maybe' }), /MCPREG_S3_DIRECT_READS/);
});
