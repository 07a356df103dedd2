/**
 * `npm run test:cluster`: builds (or reuses) the pinned kube-apiserver and etcd, starts them on
 * loopback with TLS, token auth and RBAC, and runs test/cluster/*.cluster.ts against them (named so, not *.test.ts, because npm test cannot run them).
 * Without Go on the machine it says so and skips (exit 0). Extra arguments go to `node --test`.
 */
import { spawnSync } from 'node:child_process';
import { ensureBinaries, goAvailable } from './binaries.ts';
import { handleOf, startRealCluster } from '../../test/cluster/real-apiserver.ts';

if (!goAvailable()) {
  console.log('test:cluster: SKIPPED: no Go toolchain on this machine (go is needed to build kube-apiserver and etcd)');
  process.exit(0);
}
const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const built = Date.now();
const bin = await ensureBinaries();
console.error(`test:cluster: binaries ready in ${Math.round((Date.now() - built) / 1000)} s`);
const cluster = await startRealCluster(bin, (l) => console.error(l));
let status = 1;
try {
  const result = spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=1', '--test-timeout=300000', ...flags, ...(files.length > 0 ? files : ['test/cluster/**/*.cluster.ts'])],
    { stdio: 'inherit', env: { ...process.env, MCPREG_TEST: '1', MCPREG_CLUSTER: JSON.stringify(handleOf(cluster)) } },
  );
  status = result.status ?? 1;
} finally {
  await cluster.stop();
}
process.exit(status);
