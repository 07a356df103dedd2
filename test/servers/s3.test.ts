import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3Server, type TestS3 } from './s3.ts';

/** The S3 test server itself: that it speaks S3 the way AWS does where our stores rely on it. */

let s3: TestS3;
let client: S3Client;
let raw: S3Client;
let startMs = 0;

before(async () => {
  const started = performance.now();
  s3 = await startS3Server();
  startMs = performance.now() - started;
  client = new S3Client({ ...s3.storeOptions(), maxAttempts: 1 });
  raw = new S3Client({ ...s3.storeOptions(), endpoint: s3.rawEndpoint, maxAttempts: 1 });
});
after(async () => {
  client.destroy();
  raw.destroy();
  await s3.stop();
});

async function status(promise: Promise<unknown>): Promise<{ status: number | undefined; name: string }> {
  try {
    await promise;
    return { status: 200, name: 'ok' };
  } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number } };
    return { status: err.$metadata?.httpStatusCode, name: err.name };
  }
}

describe('S3 test server', () => {
  it('starts within a few seconds', (t) => {
    t.diagnostic(`started in ${startMs.toFixed(0)} ms`);
    assert.ok(startMs < 5_000, `took ${startMs.toFixed(0)} ms`);
  });

  it('answers conditional PUTs the way AWS S3 does (412, 404 NoSuchKey for If-Match on a missing key)', async () => {
    const Bucket = s3.bucket;
    const first = await client.send(new PutObjectCommand({ Bucket, Key: 'cond/a', Body: 'one', IfNoneMatch: '*' }));
    assert.ok(first.ETag);
    assert.deepEqual(await status(client.send(new PutObjectCommand({ Bucket, Key: 'cond/a', Body: 'two', IfNoneMatch: '*' }))), {
      status: 412,
      name: 'PreconditionFailed',
    });
    assert.deepEqual(await status(client.send(new PutObjectCommand({ Bucket, Key: 'cond/a', Body: 'two', IfMatch: '"0123"' }))), {
      status: 412,
      name: 'PreconditionFailed',
    });
    assert.deepEqual(await status(client.send(new PutObjectCommand({ Bucket, Key: 'cond/missing', Body: 'x', IfMatch: first.ETag }))), {
      status: 404,
      name: 'NoSuchKey',
    });
    const second = await client.send(new PutObjectCommand({ Bucket, Key: 'cond/a', Body: 'two', IfMatch: first.ETag }));
    assert.notEqual(second.ETag, first.ETag);
    const got = await client.send(new GetObjectCommand({ Bucket, Key: 'cond/a' }));
    assert.equal(await got.Body?.transformToString(), 'two');
  });

  it('exists because s3rver alone ignores conditional PUTs (if this fails, s3rver learned them)', async () => {
    const Bucket = s3.bucket;
    await raw.send(new PutObjectCommand({ Bucket, Key: 'raw/a', Body: 'one' }));
    const overwritten = await status(raw.send(new PutObjectCommand({ Bucket, Key: 'raw/a', Body: 'two', IfNoneMatch: '*' })));
    assert.equal(overwritten.status, 200);
    const got = await raw.send(new GetObjectCommand({ Bucket, Key: 'raw/a' }));
    assert.equal(await got.Body?.transformToString(), 'two');
  });

  it('verifies SigV4 signatures: wrong secret, unsigned and tampered requests are refused', async () => {
    const wrong = new S3Client({ ...s3.storeOptions(), credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'not-it' }, maxAttempts: 1 });
    try {
      // HEAD answers carry no body, so only the status tells
      assert.equal((await status(wrong.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'cond/a' })))).status, 403);
      assert.deepEqual(await status(wrong.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'cond/a' }))), {
        status: 403,
        name: 'SignatureDoesNotMatch',
      });
    } finally {
      wrong.destroy();
    }
    const unsigned = await fetch(`${s3.endpoint}/${s3.bucket}/cond/a`);
    assert.equal(unsigned.status, 403);
    assert.match(await unsigned.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

    // a correctly signed request whose signed header is changed on the way
    const tamper = new S3Client({ ...s3.storeOptions(), maxAttempts: 1 });
    tamper.middlewareStack.add(
      (next) => async (args) => {
        // runs after signing: change one signed header
        (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'deserialize', name: 'tamperAfterSigning' },
    );
    try {
      assert.equal((await status(tamper.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'cond/a' })))).status, 403);
    } finally {
      tamper.destroy();
    }
  });

  it('counts requests by kind', async () => {
    const before = await s3.counts();
    await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'cond/a' }));
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'count/x', Body: 'x' }));
    const now = await s3.counts();
    assert.equal(now.get - before.get, 1);
    assert.equal(now.put - before.put, 1);
  });

  it('stops cleanly and removes its data', async () => {
    const other = await startS3Server({ bucket: 'second-bucket' });
    const c = new S3Client({ ...other.storeOptions(), maxAttempts: 1 });
    await c.send(new PutObjectCommand({ Bucket: 'second-bucket', Key: 'k', Body: 'v' }));
    c.destroy();
    await other.stop();
    await other.stop(); // idempotent
    const refused = await fetch(`${other.endpoint}/`).then(
      () => 'answered',
      () => 'refused',
    );
    assert.equal(refused, 'refused');
    await assert.rejects(access(other.dataDir), { code: 'ENOENT' });
  });
});
