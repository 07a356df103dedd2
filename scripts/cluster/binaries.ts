/**
 * Builds the real kube-apiserver and etcd that `npm run test:cluster` runs against, with the
 * machine's Go and the Go module proxy, into a cache directory outside the checkout
 * (MCPREG_CLUSTER_CACHE, default ~/.cache/knative-mcp-registry/cluster). Binaries already
 * there are reused; a cold build takes 10–20 minutes on 2 cores.
 *
 *   node scripts/cluster/binaries.ts          build what is missing, print the two paths
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Pinned releases: the kube-apiserver of k8s.io/kubernetes and the etcd it is tested with. */
export const KUBERNETES_VERSION = 'v1.34.4';
export const ETCD_VERSION = 'v3.6.16';

export interface ClusterBinaries {
  kubeApiserver: string;
  etcd: string;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MCPREG_CLUSTER_CACHE ?? join(homedir(), '.cache', 'knative-mcp-registry', 'cluster');
}

export function binaryPaths(cache = cacheDir()): ClusterBinaries {
  return {
    kubeApiserver: join(cache, 'bin', `kube-apiserver-${KUBERNETES_VERSION}`),
    etcd: join(cache, 'bin', `etcd-${ETCD_VERSION}`),
  };
}

/** Whether the machine has a Go toolchain (the cluster suite is skipped, saying so, without one). */
export function goAvailable(): boolean {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  return r.status === 0;
}

function goEnv(cache: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOMODCACHE: join(cache, 'go', 'mod'),
    GOCACHE: join(cache, 'go', 'build'),
    GOFLAGS: '-mod=mod -buildvcs=false',
    GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local',
    CGO_ENABLED: '0',
  };
}

async function go(args: string[], cwd: string, cache: string, capture = false): Promise<string> {
  return await new Promise((resolve, reject) => {
    // nice: the build shares the machine's cores with everything else running.
    const child = spawn('nice', ['-n', '10', 'go', ...args], {
      cwd,
      env: goEnv(cache),
      stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`go ${args.join(' ')} (in ${cwd}) exited with ${code}`)),
    );
  });
}

/**
 * k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go, …) at v0.0.0
 * and replaces them with ./staging paths, which a dependent module cannot see: each becomes a
 * replace to the published v0.<minor>.<patch> of the same release.
 */
export function stagingReplaces(kubernetesGoMod: string, kubernetesVersion: string): string[] {
  const v0 = kubernetesVersion.replace(/^v1\./, 'v0.');
  const names = new Set<string>();
  for (const m of kubernetesGoMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+v0\.0\.0\s*(?:\/\/.*)?$/gm)) names.add(m[1]!);
  return [...names].sort().map((name) => `replace ${name} => ${name} ${v0}`);
}

async function buildKubeApiserver(cache: string, out: string): Promise<void> {
  const dir = join(cache, 'src', `kube-apiserver-${KUBERNETES_VERSION}`);
  mkdirSync(dir, { recursive: true });
  const info = JSON.parse(
    await go(['mod', 'download', '-json', `k8s.io/kubernetes@${KUBERNETES_VERSION}`], dir, cache, true),
  ) as { GoMod: string };
  const replaces = stagingReplaces(readFileSync(info.GoMod, 'utf8'), KUBERNETES_VERSION);
  writeFileSync(
    join(dir, 'go.mod'),
    ['module mcpreg.test/kube-apiserver', '', 'go 1.24.0', '', ...replaces, ''].join('\n'),
  );
  await go(['get', '-tool', `k8s.io/kubernetes/cmd/kube-apiserver@${KUBERNETES_VERSION}`], dir, cache);
  const [major, minor] = KUBERNETES_VERSION.replace(/^v/, '').split('.');
  const pkg = 'k8s.io/component-base/version';
  const ldflags = [
    '-s',
    '-w',
    `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ].join(' ');
  await go(['build', '-trimpath', '-ldflags', ldflags, '-o', `${out}.tmp`, 'k8s.io/kubernetes/cmd/kube-apiserver'], dir, cache);
  renameSync(`${out}.tmp`, out);
}

async function buildEtcd(cache: string, out: string): Promise<void> {
  const dir = join(cache, 'src', `etcd-${ETCD_VERSION}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'go.mod'), ['module mcpreg.test/etcd', '', 'go 1.24.0', ''].join('\n'));
  await go(['get', '-tool', `go.etcd.io/etcd/server/v3@${ETCD_VERSION}`], dir, cache);
  await go(['build', '-trimpath', '-ldflags', '-s -w', '-o', `${out}.tmp`, 'go.etcd.io/etcd/server/v3'], dir, cache);
  renameSync(`${out}.tmp`, out);
}

/** Builds whichever binary is missing (both, on a cold cache) and returns their paths. */
export async function ensureBinaries(cache = cacheDir(), log = (line: string) => console.error(line)): Promise<ClusterBinaries> {
  const paths = binaryPaths(cache);
  mkdirSync(join(cache, 'bin'), { recursive: true });
  const missing = [
    !existsSync(paths.etcd) && 'etcd',
    !existsSync(paths.kubeApiserver) && 'kube-apiserver',
  ].filter(Boolean);
  if (missing.length === 0) {
    log(`cluster: reusing ${paths.kubeApiserver} and ${paths.etcd}`);
    return paths;
  }
  log(
    `cluster: building ${missing.join(' and ')} (kube-apiserver ${KUBERNETES_VERSION}, etcd ${ETCD_VERSION}) ` +
      `with Go into ${cache}; a cold build takes 10–20 minutes on 2 cores, later runs reuse it`,
  );
  const started = Date.now();
  if (!existsSync(paths.etcd)) await buildEtcd(cache, paths.etcd);
  if (!existsSync(paths.kubeApiserver)) await buildKubeApiserver(cache, paths.kubeApiserver);
  log(`cluster: built in ${Math.round((Date.now() - started) / 1000)} s`);
  return paths;
}

if (import.meta.main) {
  const paths = await ensureBinaries();
  console.log(paths.kubeApiserver);
  console.log(paths.etcd);
}
