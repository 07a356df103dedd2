/**
 * A real kube-apiserver with etcd on loopback, for `npm run test:cluster`: TLS with a CA of its
 * own, static token auth for an admin (system:masters) and an unprivileged user, RBAC
 * authorization. Binaries come from scripts/cluster/binaries.ts (built once into a cache).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterBinaries } from '../../scripts/cluster/binaries.ts';
import { freePort } from '../harness/ports.ts';

export const ADMIN_USER = 'cluster-admin';
/**
 * Users without any group: the tests bind knative/'s RBAC for each function's ServiceAccount to
 * one of them (sync function, ApiServerSource, query function), and `reader` is a caller of the
 * query API.
 */
export const USERS = ['mcpreg-sync', 'mcpreg-source', 'mcpreg-query', 'reader'] as const;
export type TestUser = (typeof USERS)[number];

export interface RealCluster {
  server: string;
  caFile: string;
  dir: string;
  adminToken: string;
  tokens: Record<TestUser, string>;
  kubeConfig(token: string, user: string): KubeConfig;
  /** writes a kubeconfig file for that user and returns its path */
  kubeconfigFile(token: string, user: string): Promise<string>;
  stop(): Promise<void>;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

function token(): string {
  return crypto.randomUUID().replaceAll('-', '');
}

async function waitReady(url: string, ca: Buffer, adminToken: string, proc: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  const { Agent, fetch } = await import('undici');
  const dispatcher = new Agent({ connect: { ca } });
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    try {
      const res = await fetch(url, { dispatcher, headers: { Authorization: `Bearer ${adminToken}` } });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms: ${last}`);
}

export async function startRealCluster(bin: ClusterBinaries, log: (line: string) => void = () => {}): Promise<RealCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpreg-cluster-'));
  // CA, serving certificate for 127.0.0.1/localhost, service-account signing key
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=mcpreg-test-ca'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver'], dir);
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext'], dir);
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  const adminToken = token();
  const tokens = Object.fromEntries(USERS.map((u) => [u, token()])) as Record<TestUser, string>;
  await writeFile(
    join(dir, 'tokens.csv'),
    [`${adminToken},${ADMIN_USER},uid-admin,"system:masters"`, ...USERS.map((u) => `${tokens[u]},${u},uid-${u}`), ''].join('\n'),
  );

  const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
  const procs: ChildProcess[] = [];
  const logs: Record<string, string> = { etcd: '', 'kube-apiserver': '' };
  const keep = (name: string, p: ChildProcess) => {
    procs.push(p);
    const add = (d: Buffer) => {
      logs[name] = (logs[name]! + d.toString()).slice(-20000);
    };
    p.stdout?.on('data', add);
    p.stderr?.on('data', add);
  };
  const etcd = spawn(bin.etcd, [
    '--name', 'mcpreg-test',
    '--data-dir', join(dir, 'etcd'),
    '--listen-client-urls', `http://127.0.0.1:${etcdClient}`,
    '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
    '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-cluster', `mcpreg-test=http://127.0.0.1:${etcdPeer}`,
    '--unsafe-no-fsync',
    '--log-level', 'warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  keep('etcd', etcd);
  const api = spawn(bin.kubeApiserver, [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${securePort}`,
    `--tls-cert-file=${join(dir, 'server.crt')}`,
    `--tls-private-key-file=${join(dir, 'server.key')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    '--anonymous-auth=false',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    '--service-cluster-ip-range=10.96.0.0/24',
    '--disable-admission-plugins=ServiceAccount',
    `--cert-dir=${join(dir, 'certs')}`,
    '--v=0',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  keep('kube-apiserver', api);
  const server = `https://127.0.0.1:${securePort}`;
  const ca = await readFile(join(dir, 'ca.crt'));
  const stop = async () => {
    for (const p of procs.reverse()) {
      if (p.exitCode !== null) continue;
      p.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          p.kill('SIGKILL');
          r(undefined);
        }, 5000);
        p.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const started = Date.now();
    await waitReady(`${server}/readyz`, ca, adminToken, api, 'kube-apiserver', 120_000);
    log(`cluster: kube-apiserver ready at ${server} in ${Date.now() - started} ms`);
  } catch (e) {
    log(`--- etcd log ---\n${logs.etcd}\n--- kube-apiserver log ---\n${logs['kube-apiserver']}`);
    await stop();
    throw e;
  }
  const kubeConfig = (tok: string, user: string) => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'real', server, caData: ca.toString('base64') }],
      users: [{ name: user, token: tok }],
      contexts: [{ name: user, cluster: 'real', user }],
      currentContext: user,
    });
    return kc;
  };
  return {
    server,
    caFile: join(dir, 'ca.crt'),
    dir,
    adminToken,
    tokens,
    kubeConfig,
    async kubeconfigFile(tok, user) {
      const file = join(dir, `kubeconfig-${user}`);
      await writeFile(file, kubeConfig(tok, user).exportConfig());
      return file;
    },
    stop,
  };
}

/** what scripts/cluster/test.ts hands the test files, in MCPREG_CLUSTER (JSON) */
export interface ClusterHandle {
  server: string;
  caFile: string;
  adminToken: string;
  tokens: Record<TestUser, string>;
}

export function handleOf(c: RealCluster): ClusterHandle {
  return { server: c.server, caFile: c.caFile, adminToken: c.adminToken, tokens: c.tokens };
}

/** the running real cluster, in a test file run by `npm run test:cluster` (undefined elsewhere) */
export function clusterFromEnv(env: NodeJS.ProcessEnv = process.env): (ClusterHandle & { kubeConfig(token: string, user: string): KubeConfig }) | undefined {
  if (!env.MCPREG_CLUSTER) return undefined;
  const h = JSON.parse(env.MCPREG_CLUSTER) as ClusterHandle;
  return {
    ...h,
    kubeConfig(tok, user) {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'real', server: h.server, caFile: h.caFile }],
        users: [{ name: user, token: tok }],
        contexts: [{ name: user, cluster: 'real', user }],
        currentContext: user,
      });
      return kc;
    },
  };
}
