import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Front } from './s3-conditional-front.ts';
import type { FaultRule, FaultState } from './s3-faults.ts';

/**
 * A real S3-protocol server for tests and benchmarks: s3rver (npm) on 127.0.0.1:0, storing
 * into a fresh temp directory, behind the conditional-write and SigV4 front
 * (s3-conditional-front.ts), in a child process of its own (s3-child.ts says why). See
 * README.md in this folder. Path-style only.
 *
 *   const s3 = await startS3Server();
 *   const store = await createS3Store({ ...s3.storeOptions(), prefix: 'p/' });
 *   …
 *   store.close();
 *   await s3.stop();
 */

export type RequestCounts = Front['counts'];

export interface TestS3 {
  /** the front's URL, e.g. http://127.0.0.1:41234 */
  endpoint: string;
  bucket: string;
  region: string;
  /** the one key pair the server accepts (s3rver wants the access key id `S3RVER`) */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** s3rver itself, without the front: no conditional writes, no signature checks */
  rawEndpoint: string;
  /** where s3rver keeps the bucket (removed by stop) */
  dataDir: string;
  /** options for createS3Store (or an S3Client) */
  storeOptions(): { bucket: string; region: string; endpoint: string; forcePathStyle: true; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** requests the front has answered so far, by kind (get, head, put, delete, post, list, other) */
  counts(): Promise<RequestCounts>;
  /** arm fault rules (s3-faults.ts): the next matching requests get them */
  fault(...rules: FaultRule[]): Promise<FaultState>;
  /** disarm every rule; the counts of faults injected stay */
  clearFaults(): Promise<FaultState>;
  /** armed rules and faults injected so far, by kind */
  faultState(): Promise<FaultState>;
  stop(): Promise<void>;
}

export interface StartS3Options {
  bucket?: string;
  /** check SigV4 signatures (default true) */
  verifySignatures?: boolean;
  /** give up if the server is not up after this long (default 20 s) */
  startTimeoutMs?: number;
}

const CHILD = join(import.meta.dirname, 's3-child.ts');

export async function startS3Server(options: StartS3Options = {}): Promise<TestS3> {
  const bucket = options.bucket ?? 'mcp-registry-test';
  const region = 'us-east-1';
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: randomBytes(18).toString('base64url') };
  const directory = await mkdtemp(join(tmpdir(), 'mcpreg-s3-'));
  const child: ChildProcess = fork(CHILD, [], {
    execArgv: ['--openssl-legacy-provider'],
    env: {
      ...process.env,
      MCPREG_TEST_S3_DIR: directory,
      MCPREG_TEST_S3_BUCKET: bucket,
      MCPREG_TEST_S3_SECRET: credentials.secretAccessKey,
      MCPREG_TEST_S3_VERIFY: options.verifySignatures === false ? '0' : '1',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let ports: { port: number; rawPort: number };
  try {
    ports = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the S3 test server did not start in time')), options.startTimeoutMs ?? 20_000);
      child.once('message', (m: { type: string; port: number; rawPort: number }) => {
        clearTimeout(timer);
        if (m.type === 'ready') resolve(m);
        else reject(new Error(`unexpected message from the S3 test server: ${m.type}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the S3 test server exited during start (code ${code}, signal ${signal})`));
      });
    });
  } catch (e) {
    child.kill();
    await exited;
    await rm(directory, { recursive: true, force: true });
    throw e;
  }

  let nextId = 0;
  const pending = new Map<number, (counts: RequestCounts) => void>();
  const pendingFaults = new Map<number, { resolve: (state: FaultState) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { type: string; id: number; counts: RequestCounts; state: FaultState; error?: string }) => {
    if (m.type === 'counts') {
      pending.get(m.id)?.(m.counts);
      pending.delete(m.id);
    }
    if (m.type === 'faults') {
      const waiter = pendingFaults.get(m.id);
      pendingFaults.delete(m.id);
      if (m.error !== undefined) waiter?.reject(new Error(`the S3 test server refused a fault rule: ${m.error}`));
      else waiter?.resolve(m.state);
    }
  });
  const faults = (message: { clear?: boolean; add?: FaultRule[] }): Promise<FaultState> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pendingFaults.set(id, { resolve, reject });
      child.send({ type: 'faults', id, ...message });
    });

  const endpoint = `http://127.0.0.1:${ports.port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    bucket,
    region,
    credentials,
    rawEndpoint: `http://127.0.0.1:${ports.rawPort}`,
    dataDir: directory,
    storeOptions: () => ({ bucket, region, endpoint, forcePathStyle: true, credentials }),
    counts: () =>
      new Promise((resolve) => {
        const id = ++nextId;
        pending.set(id, resolve);
        child.send({ type: 'counts', id });
      }),
    fault: (...rules) => faults({ add: rules }),
    clearFaults: () => faults({ clear: true }),
    faultState: () => faults({}),
    stop: () =>
      (stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.send({ type: 'stop' });
          const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(killer);
        }
        await rm(directory, { recursive: true, force: true });
      })()),
  };
}

/** the environment that points a started function (MCPREG_STORE=s3) at this server's bucket */
export function s3StoreEnv(s3: TestS3): { MCPREG_STORE: 's3'; MCPREG_S3_BUCKET: string; MCPREG_S3_ENDPOINT: string; AWS_REGION: string; AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string } {
  return {
    MCPREG_STORE: 's3',
    MCPREG_S3_BUCKET: s3.bucket,
    MCPREG_S3_ENDPOINT: s3.endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  };
}
