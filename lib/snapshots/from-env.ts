import { resolve } from 'node:path';
import { RegistryError } from '../errors.ts';
import type { S3StoreOptions } from './s3-store.ts';
import type { SnapshotStore } from './store.ts';

/**
 * Choosing the snapshot store from configuration (environment variables of the functions and
 * the CLI). Every knob is listed in README.md ("Configuration"):
 *
 *   MCPREG_STORE                 fs (default) | s3
 *   MCPREG_STORE_DIR             fs: directory (default ./.mcpreg/snapshots, from the working dir)
 *   MCPREG_STORE_FSYNC           fs: true (default) | false
 *   MCPREG_S3_BUCKET             s3: bucket (required)
 *   MCPREG_S3_PREFIX             s3: key prefix inside the bucket (default none)
 *   MCPREG_S3_ENDPOINT           s3: endpoint URL for S3-compatible services (default AWS)
 *   MCPREG_S3_FORCE_PATH_STYLE   s3: true | false (default true when an endpoint is set)
 *   MCPREG_S3_MAX_ATTEMPTS       s3: attempts per request (default 3)
 *   MCPREG_S3_CONNECT_TIMEOUT_MS s3: default 5000
 *   MCPREG_S3_REQUEST_TIMEOUT_MS s3: default 120000
 *   AWS_REGION / AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 *   AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, …: read by the AWS SDK itself.
 *
 * `storeConfigFromEnv` is pure (validates and returns a plain config); `createStore` does the
 * I/O. Each store module is imported only when chosen (the S3 one brings the AWS SDK).
 */

export type StoreConfig =
  | { kind: 'fs'; dir: string; durable: boolean }
  | ({ kind: 's3' } & Omit<S3StoreOptions, 'credentials'>);

type Env = Record<string, string | undefined>;

function bad(variable: string, message: string): RegistryError {
  return new RegistryError('invalid_argument', `${variable}: ${message}`, { where: { source: 'environment', path: variable } });
}

function flag(env: Env, variable: string, fallback: boolean): boolean {
  const raw = env[variable]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw bad(variable, `expected true or false, got ${JSON.stringify(env[variable])}`);
}

function positiveInt(env: Env, variable: string, fallback: number, max: number): number {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw bad(variable, `expected an integer from 1 to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function storeConfigFromEnv(env: Env = process.env, cwd: string = process.cwd()): StoreConfig {
  const kind = (env.MCPREG_STORE ?? '').trim().toLowerCase() || 'fs';
  if (kind === 'fs') {
    const dir = env.MCPREG_STORE_DIR?.trim() || '.mcpreg/snapshots';
    return { kind: 'fs', dir: resolve(cwd, dir), durable: flag(env, 'MCPREG_STORE_FSYNC', true) };
  }
  if (kind !== 's3') throw bad('MCPREG_STORE', `expected fs or s3, got ${JSON.stringify(env.MCPREG_STORE)}`);

  const bucket = env.MCPREG_S3_BUCKET?.trim();
  if (!bucket) throw bad('MCPREG_S3_BUCKET', 'required when MCPREG_STORE=s3');
  const endpoint = env.MCPREG_S3_ENDPOINT?.trim() || undefined;
  if (endpoint) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw bad('MCPREG_S3_ENDPOINT', 'not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad('MCPREG_S3_ENDPOINT', 'must be an http(s) URL');
    if (url.username || url.password) throw bad('MCPREG_S3_ENDPOINT', 'must not carry credentials; use the AWS credential chain');
  }
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined;
  const prefix = env.MCPREG_S3_PREFIX?.trim() || undefined;
  return {
    kind: 's3',
    bucket,
    ...(prefix ? { prefix } : {}),
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: flag(env, 'MCPREG_S3_FORCE_PATH_STYLE', endpoint !== undefined),
    maxAttempts: positiveInt(env, 'MCPREG_S3_MAX_ATTEMPTS', 3, 20),
    connectTimeoutMs: positiveInt(env, 'MCPREG_S3_CONNECT_TIMEOUT_MS', 5_000, 600_000),
    requestTimeoutMs: positiveInt(env, 'MCPREG_S3_REQUEST_TIMEOUT_MS', 120_000, 3_600_000),
  };
}

/**
 * Build the store a config describes. `credentials` is for tests and embedders; in
 * deployments leave it out so the AWS credential chain applies.
 */
export async function createStore(config: StoreConfig, extra: Pick<S3StoreOptions, 'credentials'> = {}): Promise<SnapshotStore> {
  if (config.kind === 'fs') {
    // imported here, not at the top: an S3 deployment need not load the filesystem store
    const { createFsStore } = await import('./fs-store.ts');
    return createFsStore({ dir: config.dir, durable: config.durable });
  }
  const { createS3Store } = await import('./s3-store.ts');
  const { kind: _kind, ...options } = config;
  return createS3Store({ ...options, ...extra });
}

export async function createStoreFromEnv(env: Env = process.env): Promise<SnapshotStore> {
  return createStore(storeConfigFromEnv(env));
}
