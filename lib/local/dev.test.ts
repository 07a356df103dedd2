import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { devStoreConfig } from './dev.ts';

describe('local mode: which snapshot store', () => {
  test('files under the data directory by default', () => {
    assert.deepEqual(devStoreConfig({}, '/data'), { kind: 'fs', dir: '/data/snapshots', durable: true });
    assert.deepEqual(devStoreConfig({ MCPREG_STORE: 'fs', MCPREG_STORE_FSYNC: 'false' }, '/data'), { kind: 'fs', dir: '/data/snapshots', durable: false });
  });

  test('MCPREG_STORE_DIR moves them', () => {
    const config = devStoreConfig({ MCPREG_STORE_DIR: '/elsewhere' }, '/data');
    assert.equal(config.kind === 'fs' && config.dir, '/elsewhere');
  });

  test('S3 when MCPREG_STORE=s3, or when only a bucket is given', () => {
    const explicit = devStoreConfig({ MCPREG_STORE: 's3', MCPREG_S3_BUCKET: 'b', MCPREG_S3_ENDPOINT: 'http://127.0.0.1:9000', AWS_REGION: 'eu-west-1' }, '/data');
    assert.equal(explicit.kind, 's3');
    assert.equal(explicit.kind === 's3' && explicit.bucket, 'b');
    assert.equal(explicit.kind === 's3' && explicit.region, 'eu-west-1');
    assert.equal(devStoreConfig({ MCPREG_S3_BUCKET: 'b' }, '/data').kind, 's3');
    assert.equal(devStoreConfig({ MCPREG_STORE: 'fs', MCPREG_S3_BUCKET: 'b' }, '/data').kind, 'fs', 'an explicit fs wins');
  });

  test('a bad store setting names the variable', () => {
    assert.throws(() => devStoreConfig({ MCPREG_STORE: 's3' }, '/data'), /MCPREG_S3_BUCKET: required/);
    assert.throws(() => devStoreConfig({ MCPREG_STORE: 'nfs' }, '/data'), /MCPREG_STORE/);
  });
});
