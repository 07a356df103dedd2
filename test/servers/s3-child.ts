/**
 * The S3 test server's own process (started by s3.ts, never directly): s3rver plus the
 * conditional-write front. It runs apart from the tests because s3rver's ListObjectsV2
 * continuation tokens use DES, which OpenSSL 3 (Node 17+) only offers with
 * `--openssl-legacy-provider`; a separate process also keeps the server's CPU and memory out
 * of what tests and benchmarks measure.
 *
 * Configuration comes in the environment (MCPREG_TEST_S3_*); the parent talks over IPC:
 *   → {type:'ready', port, rawPort}   ← {type:'counts', id} → {type:'counts', id, counts}
 *   ← {type:'faults', id, clear?, add?: FaultRule[]} → {type:'faults', id, state} or {…, error}
 *   ← {type:'stop'}   (also exits when the parent goes away)
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { startConditionalFront } from './s3-conditional-front.ts';
import type { FaultRule } from './s3-faults.ts';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const env = process.env;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
const s3rver = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: env.MCPREG_TEST_S3_DIR,
  vhostBuckets: false,
  configureBuckets: [{ name: env.MCPREG_TEST_S3_BUCKET }],
});
const address = await s3rver.run();
const front = await startConditionalFront({
  upstreamPort: address.port,
  credentials: env.MCPREG_TEST_S3_VERIFY === '0' ? null : { accessKeyId: 'S3RVER', secretAccessKey: env.MCPREG_TEST_S3_SECRET ?? '' },
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await front.close();
  s3rver.httpServer?.closeAllConnections();
  await s3rver.close();
  process.disconnect?.();
  process.exit(0);
}

process.on('message', (message: { type: string; id?: number; clear?: boolean; add?: FaultRule[] }) => {
  if (message.type === 'counts') process.send?.({ type: 'counts', id: message.id, counts: front.counts });
  if (message.type === 'faults') {
    try {
      if (message.clear) front.faults.clear();
      for (const rule of message.add ?? []) front.faults.add(rule);
      process.send?.({ type: 'faults', id: message.id, state: front.faults.state() });
    } catch (e) {
      process.send?.({ type: 'faults', id: message.id, error: e instanceof Error ? e.message : String(e) });
    }
  }
  if (message.type === 'stop') void stop();
});
process.on('disconnect', () => void stop());
process.send?.({ type: 'ready', port: front.port, rawPort: address.port });
