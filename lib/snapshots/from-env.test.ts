import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startS3Server } from '../../test/servers/s3.ts';
import { RegistryError } from '../errors.ts';
import { createStoreFromEnv, storeConfigFromEnv } from './from-env.ts';

const run = promisify(execFile);

function refused(variable: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof RegistryError);
    assert.equal(e.code, 'invalid_argument');
    assert.equal(e.where.path, variable);
    assert.match(e.message, pattern);
    return true;
  };
}

describe('store configuration from the environment', () => {
  it('defaults to a durable filesystem store under the working directory', () => {
    assert.deepEqual(storeConfigFromEnv({}, '/srv/app'), { kind: 'fs', dir: '/srv/app/.mcpreg/snapshots', durable: true });
    assert.deepEqual(storeConfigFromEnv({ MCPREG_STORE: 'FS', MCPREG_STORE_DIR: 'data', MCPREG_STORE_FSYNC: 'false' }, '/srv'), {
      kind: 'fs',
      dir: '/srv/data',
      durable: false,
    });
  });

  it('reads every S3 knob, path-style by default only with a custom endpoint', () => {
    assert.deepEqual(storeConfigFromEnv({ MCPREG_STORE: 's3', MCPREG_S3_BUCKET: 'snaps', AWS_REGION: 'eu-west-1' }), {
      kind: 's3',
      bucket: 'snaps',
      region: 'eu-west-1',
      forcePathStyle: false,
      maxAttempts: 3,
      connectTimeoutMs: 5000,
      requestTimeoutMs: 120000,
    });
    assert.deepEqual(
      storeConfigFromEnv({
        MCPREG_STORE: 's3',
        MCPREG_S3_BUCKET: 'snaps',
        MCPREG_S3_PREFIX: 'prod/',
        MCPREG_S3_ENDPOINT: 'http://minio.storage:9000',
        AWS_DEFAULT_REGION: 'us-west-2',
        MCPREG_S3_MAX_ATTEMPTS: '5',
        MCPREG_S3_CONNECT_TIMEOUT_MS: '1000',
        MCPREG_S3_REQUEST_TIMEOUT_MS: '30000',
      }),
      {
        kind: 's3',
        bucket: 'snaps',
        prefix: 'prod/',
        region: 'us-west-2',
        endpoint: 'http://minio.storage:9000',
        forcePathStyle: true,
        maxAttempts: 5,
        connectTimeoutMs: 1000,
        requestTimeoutMs: 30000,
      },
    );
    const virtualHosted = storeConfigFromEnv({ MCPREG_STORE: 's3', MCPREG_S3_BUCKET: 'b', MCPREG_S3_ENDPOINT: 'https://r2.example', MCPREG_S3_FORCE_PATH_STYLE: 'no' });
    assert.equal(virtualHosted.kind === 's3' && virtualHosted.forcePathStyle, false);
  });

  it('refuses bad values naming the variable', () => {
    assert.throws(() => storeConfigFromEnv({ MCPREG_STORE: 'gcs' }), refused('MCPREG_STORE', /fs or s3/));
    assert.throws(() => storeConfigFromEnv({ MCPREG_STORE: 's3' }), refused('MCPREG_S3_BUCKET', /required/));
    assert.throws(() => storeConfigFromEnv({ MCPREG_STORE_FSYNC: 'maybe' }), refused('MCPREG_STORE_FSYNC', /true or false/));
    const s3 = { MCPREG_STORE: 's3', MCPREG_S3_BUCKET: 'b' };
    assert.throws(() => storeConfigFromEnv({ ...s3, MCPREG_S3_ENDPOINT: 'minio:9000 x' }), refused('MCPREG_S3_ENDPOINT', /not a URL|http/));
    assert.throws(() => storeConfigFromEnv({ ...s3, MCPREG_S3_ENDPOINT: 'ftp://x' }), refused('MCPREG_S3_ENDPOINT', /http/));
    assert.throws(() => storeConfigFromEnv({ ...s3, MCPREG_S3_ENDPOINT: 'https://key:secret@x' }), (e: unknown) => {
      refused('MCPREG_S3_ENDPOINT', /credentials/)(e);
      assert.ok(!(e as Error).message.includes('secret'), 'the message does not echo the URL');
      return true;
    });
    assert.throws(() => storeConfigFromEnv({ ...s3, MCPREG_S3_MAX_ATTEMPTS: '0' }), refused('MCPREG_S3_MAX_ATTEMPTS', /1 to 20/));
    assert.throws(() => storeConfigFromEnv({ ...s3, MCPREG_S3_REQUEST_TIMEOUT_MS: '1e3' }), refused('MCPREG_S3_REQUEST_TIMEOUT_MS', /integer/));
  });

  it('builds a working S3 store with credentials from the standard AWS environment', async () => {
    const s3 = await startS3Server();
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
    const store = await createStoreFromEnv({
      MCPREG_STORE: 's3',
      MCPREG_S3_BUCKET: s3.bucket,
      MCPREG_S3_PREFIX: 'from-env',
      MCPREG_S3_ENDPOINT: s3.endpoint,
      AWS_REGION: s3.region,
    });
    try {
      await store.put('k/v.json', new TextEncoder().encode('{"ok":true}'), { ifNoneMatch: '*' });
      const got = await store.get('k/v.json');
      assert.ok(got && got !== 'not-modified');
      assert.equal(new TextDecoder().decode(got.body), '{"ok":true}');
      assert.match(store.description, /^s3:\/\/mcp-registry-test\/from-env\//);
    } finally {
      store.close?.();
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      await s3.stop();
    }
  });

  it('never loads the AWS SDK for a filesystem store (query function cold start)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcpreg-from-env-'));
    // records every module the child resolves, then uses an fs store, then an s3 store
    const script = `
      import { registerHooks } from 'node:module';
      const seen = [];
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
      const { createStoreFromEnv } = await import(${JSON.stringify(new URL('./from-env.ts', import.meta.url).href)});
      const fs = await createStoreFromEnv({ MCPREG_STORE: 'fs', MCPREG_STORE_DIR: ${JSON.stringify(dir)} });
      await fs.put('a/b', new Uint8Array([1]));
      const afterFs = seen.filter((u) => u.includes('@aws-sdk')).length;
      const s3 = await createStoreFromEnv({ MCPREG_STORE: 's3', MCPREG_S3_BUCKET: 'lazy-check', AWS_REGION: 'us-east-1' });
      s3.close();
      const afterS3 = seen.filter((u) => u.includes('@aws-sdk')).length;
      console.log(JSON.stringify({ afterFs, afterS3 }));
    `;
    try {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
      const { afterFs, afterS3 } = JSON.parse(stdout) as { afterFs: number; afterS3: number };
      assert.equal(afterFs, 0, 'no @aws-sdk module resolved for the fs store');
      assert.ok(afterS3 > 0, 'the hook does see the SDK once an S3 store is created');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
