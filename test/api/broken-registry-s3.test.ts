/**
 * The broken-registry suite (broken-registry-suite.ts) on the S3 store: s3rver behind the
 * conditional front (test/servers/s3.ts), published with the sync's S3 store and read by the
 * query function's own S3 client (signed direct reads).
 */
import { createQueryStore } from '../../lib/api/query-store.ts';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import { startS3Server } from '../servers/s3.ts';
import { brokenRegistrySuite } from './broken-registry-suite.ts';

brokenRegistrySuite('S3 store', async () => {
  const s3 = await startS3Server();
  const store = await createS3Store({ ...s3.storeOptions(), prefix: 'broken/' });
  let queryStore: Awaited<ReturnType<typeof createQueryStore>> | undefined;
  return {
    store,
    query: async () =>
      (queryStore = await createQueryStore({
        MCPREG_STORE: 's3',
        MCPREG_S3_BUCKET: s3.bucket,
        MCPREG_S3_PREFIX: 'broken/',
        MCPREG_S3_ENDPOINT: s3.endpoint,
        MCPREG_S3_MAX_ATTEMPTS: '1',
        AWS_REGION: s3.region,
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      })),
    cleanup: async () => {
      queryStore?.close?.();
      store.close();
      await s3.stop();
    },
  };
});
