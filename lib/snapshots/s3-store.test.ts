import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startS3Server, type TestS3 } from '../../test/servers/s3.ts';
import { RegistryError } from '../errors.ts';
import { createS3Store, type S3Store } from './s3-store.ts';
import { storeContract } from './store-contract.ts';

let s3: TestS3;
const stores: S3Store[] = [];

async function openStore(prefix: string, extra: Partial<Parameters<typeof createS3Store>[0]> = {}): Promise<S3Store> {
  const store = await createS3Store({ ...s3.storeOptions(), prefix, ...extra });
  stores.push(store);
  return store;
}

before(async () => {
  s3 = await startS3Server();
});
after(async () => {
  for (const store of stores) store.close();
  await s3.stop();
});

storeContract('S3 (s3rver behind the conditional-write front)', async () => {
  const prefix = `contract-${Date.now()}/`;
  return { store: await openStore(prefix), twin: await openStore(prefix), cleanup: async () => {} };
});

function registryError(code: string, check: (e: RegistryError) => void = () => {}) {
  return (e: unknown) => {
    assert.ok(e instanceof RegistryError, `expected RegistryError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    check(e);
    return true;
  };
}

describe('S3 store specifics', () => {
  it('signs a put with the payload hash it is given instead of hashing the body again', async () => {
    const store = await openStore('payload-hash/');
    const sent: (string | undefined)[] = [];
    // the request as it goes out, signed
    store.client.middlewareStack.add(
      (next) => async (args) => {
        sent.push((args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256']);
        return next(args);
      },
      { step: 'deserialize', name: 'testSeePayloadHash' },
    );
    const body = new TextEncoder().encode('{"servers":[]}');
    const real = createHash('sha256').update(body).digest('hex');
    await store.put('a.json', body, { sha256: real });
    await store.put('b.json', body);
    // a hash the SDK would never compute shows that it took the given one (s3rver, unlike S3, does not check it against the bytes)
    const given = 'ab'.repeat(32);
    await store.put('c.json', body, { sha256: given });
    assert.deepEqual(sent, [real, real, given]);
    const back = await store.get('a.json');
    assert.ok(back && back !== 'not-modified');
    assert.deepEqual(Buffer.from(back.body), Buffer.from(body));
    await assert.rejects(store.put('d.json', body, { sha256: 'not-hex' }), registryError('invalid_argument'));
  });

  it('keeps keys under its prefix and out of other prefixes', async () => {
    const a = await openStore('tenant-a');
    const b = await openStore('/tenant-b/');
    await a.put('x/1', new TextEncoder().encode('a'));
    await b.put('x/1', new TextEncoder().encode('b'));
    assert.deepEqual(await a.list(''), ['x/1']);
    const root = await openStore('');
    const all = await root.list('tenant-');
    assert.deepEqual(all, ['tenant-a/x/1', 'tenant-b/x/1']);
    assert.equal(a.description, `s3://${s3.bucket}/tenant-a/ at ${new URL(s3.endpoint).host}`);
  });

  it('pages through more than 1000 keys and deletes them in batches of 1000', async () => {
    const store = await openStore('paging');
    const keys = Array.from({ length: 1005 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
    const body = new TextEncoder().encode('x');
    for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map((k) => store.put(k, body)));
    const listsBefore = (await s3.counts()).list;
    assert.deepEqual(await store.list('many/'), keys);
    assert.equal((await s3.counts()).list - listsBefore, 2, 'two ListObjectsV2 pages');
    const postsBefore = (await s3.counts()).post;
    await store.delete(keys);
    assert.equal((await s3.counts()).post - postsBefore, 2, 'two DeleteObjects requests');
    assert.deepEqual(await store.list('many/'), []);
  });

  it('maps a wrong secret to auth_failed without revealing any credential', async () => {
    const wrongSecret = 'definitely-not-the-secret-123';
    const store = await openStore('auth', { credentials: { accessKeyId: s3.credentials.accessKeyId, secretAccessKey: wrongSecret } });
    await assert.rejects(
      store.get('a/b'),
      registryError('auth_failed', (e) => {
        const shown = `${e.describe()} ${JSON.stringify(e.toJSON())}`;
        assert.ok(!shown.includes(wrongSecret));
        assert.ok(!shown.includes(s3.credentials.secretAccessKey));
        assert.match(e.message, /SignatureDoesNotMatch/);
      }),
    );
    const unknownKey = await openStore('auth', { credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: wrongSecret } });
    await assert.rejects(unknownKey.put('a/b', new Uint8Array(1)), registryError('auth_failed', (e) => assert.match(e.message, /InvalidAccessKeyId/)));
  });

  it('maps an unreachable endpoint to a transient store_unavailable', async () => {
    // a port that was just free: nothing listens there
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    const store = await openStore('x', { endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
    await assert.rejects(
      store.get('a/b'),
      registryError('store_unavailable', (e) => {
        assert.equal(e.transient, true);
        assert.equal(e.where.key, 'a/b');
        assert.match(e.message, /ECONNREFUSED/);
      }),
    );
  });

  it('says so when the bucket does not exist', async () => {
    const store = await openStore('x', { bucket: 'no-such-bucket' });
    await assert.rejects(store.get('a/b'), registryError('store_unavailable', (e) => assert.match(e.message, /bucket does not exist/)));
    await assert.rejects(store.list(''), registryError('store_unavailable'));
  });

  it('validates the bucket name and endpoint before creating a client', async () => {
    await assert.rejects(createS3Store({ bucket: 'Bad_Bucket' }), registryError('invalid_argument'));
    await assert.rejects(createS3Store({ bucket: 'ok-bucket', endpoint: 'not a url' }), registryError('invalid_argument'));
    await assert.rejects(createS3Store({ bucket: 'ok-bucket', prefix: '../up' }), registryError('invalid_argument'));
  });
});
