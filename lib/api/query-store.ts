import { RegistryError } from '../errors.ts';
import type { SnapshotStore } from '../snapshots/store.ts';
import type { S3Reader, S3ReaderOptions } from './s3-reader.ts';

/**
 * The query function's snapshot store, from the same environment variables as every other
 * part (lib/snapshots/from-env.ts). With S3 and static credentials in the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optionally AWS_SESSION_TOKEN), reads go straight
 * to S3 (s3-reader.ts) and the AWS SDK store is loaded only if something else is asked of the
 * store (listing registries, which /api/v1 does). Any other credential source (profiles, web
 * identity, container or instance metadata) uses the SDK store for everything.
 *
 *   MCPREG_S3_DIRECT_READS   true (default) | false: read through the SDK store only
 */

type Env = Record<string, string | undefined>;

/** reads through `reader`; everything else through the full store, created on first use */
export function readThroughStore(reader: S3Reader, full: () => Promise<SnapshotStore>): SnapshotStore {
  let store: Promise<SnapshotStore> | undefined;
  const sdk = () =>
    (store ??= full().catch((e: unknown) => {
      store = undefined;
      throw e;
    }));
  return {
    description: reader.description,
    get: (key, options) => reader.get(key, options),
    exists: (key) => reader.exists(key),
    list: async (prefix) => (await sdk()).list(prefix),
    put: async (key, body, options) => (await sdk()).put(key, body, options),
    delete: async (keys) => (await sdk()).delete(keys),
    close() {
      reader.close();
      void store?.then((s) => s.close?.(), () => {});
    },
  };
}

export async function createQueryStore(env: Env = process.env): Promise<SnapshotStore> {
  // both modules load at once when S3 is asked for (cold start)
  const readerModule = (env.MCPREG_STORE ?? '').trim().toLowerCase() === 's3' ? import('./s3-reader.ts') : undefined;
  readerModule?.catch(() => undefined);
  const { storeConfigFromEnv, createStore } = await import('../snapshots/from-env.ts');
  const config = storeConfigFromEnv(env);
  if (config.kind !== 's3') return createStore(config);
  const direct = (env.MCPREG_S3_DIRECT_READS ?? '').trim().toLowerCase();
  if (direct !== '' && !['true', '1', 'yes', 'on', 'false', '0', 'no', 'off'].includes(direct)) {
    throw new RegistryError('invalid_argument', `MCPREG_S3_DIRECT_READS: expected true or false, got ${JSON.stringify(env.MCPREG_S3_DIRECT_READS)}`, { where: { source: 'environment', path: 'MCPREG_S3_DIRECT_READS' } });
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (!accessKeyId || !secretAccessKey) return createStore(config);
  const sessionToken = env.AWS_SESSION_TOKEN?.trim();
  // the static credentials of `env` (the SDK's own chain would read process.env)
  const credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  if (['false', '0', 'no', 'off'].includes(direct)) return createStore(config, { credentials });
  const { kind: _kind, ...s3 } = config;
  const options: S3ReaderOptions = { ...s3, credentials };
  const { createS3Reader } = await (readerModule ?? import('./s3-reader.ts'));
  return readThroughStore(await createS3Reader(options), () => createStore(config, { credentials }));
}
