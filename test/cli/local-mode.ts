/**
 * Local mode's pieces for CLI tests: `startDev` (embedded control plane with the CRDs, sync
 * function, event bridge, real query function, example servers) in a temporary data
 * directory on free ports, and the CLI run in-process against it with KUBECONFIG set.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startDev, type DevRuntime } from '../../lib/local/dev.ts';
import { runInProcess, type InProcessResult } from './in-process.ts';
import { until as poll } from '../harness/until.ts';

export interface LocalMode {
  dev: DevRuntime;
  dir: string;
  kubeConfig: KubeConfig;
  /** the environment a user gets from the start banner's export line */
  env: NodeJS.ProcessEnv;
  mcpreg(args: string[], env?: NodeJS.ProcessEnv): Promise<InProcessResult>;
  stop(): Promise<void>;
}

export async function startLocalMode(): Promise<LocalMode> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpreg-cli-'));
  const dev = await startDev({ dataDir: join(dir, '.mcpreg'), port: 0, apiPort: 0, resyncIntervalMs: 0, examples: true, env: { ...process.env, MCPREG_LOG_LEVEL: 'error' } });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(dev.kubeconfigPath);
  // a HOME without ~/.kube/config, so that only what the test sets is used
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: dev.kubeconfigPath };
  return {
    dev,
    dir,
    kubeConfig,
    env,
    mcpreg: (args, extra) => runInProcess(args, { env: { ...env, ...extra } }),
    async stop() {
      await dev.stop(2000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `probe` returns a value. */
export const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000) => poll(what, probe, { timeoutMs, everyMs: 100 });
