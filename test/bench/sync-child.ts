/**
 * One sync benchmark scenario in a process of its own, so that `peak_rss_mb` is the sync's
 * alone (the source servers and S3 live in the parent and in s3rver's process).
 * Input: a JSON config in argv[2]. Output: one JSON line on stdout.
 */
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import { createSource } from '../../lib/sources/index.ts';
import { createMemorySecretReader } from '../../lib/kube/secrets.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { MCPRegistrySpec } from '../../lib/kube/mcpregistry-spec.ts';
import { runSync } from '../../lib/sync/pipeline.ts';

interface ChildConfig {
  spec: unknown;
  store: { bucket: string; region: string; endpoint: string; forcePathStyle: true; credentials: { accessKeyId: string; secretAccessKey: string } };
  ref: { namespace: string; name: string };
  /** bytes of the source document(s), for the floor (JSON.parse + JSON.stringify of each); absent: no floor */
  floorFile?: string | string[];
  /** a kubeconfig file: the Kubernetes API an aggregate source looks its members up in */
  kubeconfig?: string;
  /**
   * Sync the same source into `<name>-warmup` first, unmeasured, then measure a sync into
   * `<name>-warm`: what a function instance that has already synced a registry sees (JIT-compiled
   * code, open S3 connections). Without it the measured sync is the process's first (cold).
   */
  warm?: boolean;
}

/**
 * This process's own peak resident set (VmHWM), in MB. Not `resourceUsage().maxRSS`: on Linux
 * that survives execve, so a child spawned by a parent holding 300 MB reports at least 300 MB.
 */
function peakRss(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb !== undefined) return Number(kb) / 1024;
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * CPU time of this process since `start` (user + system, all threads: GC helpers included), in
 * ms. Less moved than wall time by other processes on a shared machine, which take the cores
 * but not this process's CPU time (though they still slow it through shared caches).
 */
function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const spec = MCPRegistrySpec.parse(config.spec);
const store = await createS3Store(config.store);
let kubeConfig: KubeConfig | undefined;
if (config.kubeconfig) {
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(config.kubeconfig);
}
const context = {
  secrets: createMemorySecretReader({}),
  ...(kubeConfig ? { kubeConfig } : {}),
  policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], maxBytes: 1024 * 1024 * 1024, totalTimeoutMs: 300_000 }),
};
// Modules load before the measured time, as at the function's start-up: also the ones a
// source type loads on first use (isomorphic-git), which a single-file bundle had loaded eagerly.
if (spec.source.type === 'git') await import('isomorphic-git');
const syncInto = (name: string) => runSync({ ref: { ...config.ref, name }, spec, store, source: createSource(spec.source), context, deadlineMs: 300_000 });
if (config.warm) {
  const warmup = await syncInto(`${config.ref.name}-warmup`);
  if (warmup.outcome === 'failed') throw warmup.error;
}
// modules are loaded before the measured time (the function's start-up); nothing else is
const t0 = performance.now();
const c0 = process.cpuUsage();
const result = await syncInto(config.warm ? `${config.ref.name}-warm` : config.ref.name);
const wallMs = performance.now() - t0;
const cpuMs = cpuSince(c0);
const peakRssMb = peakRss();

let floorMs: number | undefined;
let floorCpuMs: number | undefined;
if (config.floorFile) {
  const { readFile } = await import('node:fs/promises');
  const files = Array.isArray(config.floorFile) ? config.floorFile : [config.floorFile];
  floorMs = 0;
  floorCpuMs = 0;
  for (const file of files) {
    const bytes = await readFile(file);
    const f0 = performance.now();
    const fc0 = process.cpuUsage();
    JSON.stringify(JSON.parse(bytes.toString('utf8')));
    floorMs += performance.now() - f0;
    floorCpuMs += cpuSince(fc0);
  }
}
process.stdout.write(
  JSON.stringify({
    outcome: result.outcome,
    fetch: result.fetch,
    error: result.error?.describe(),
    published: result.counts.published,
    wall_ms: Math.round(wallMs),
    sync_ms: result.durationMs,
    peak_rss_mb: Math.round(peakRssMb),
    floor_ms: floorMs === undefined ? undefined : Math.round(floorMs),
    cpu_ms: Math.round(cpuMs),
    floor_cpu_ms: floorCpuMs === undefined ? undefined : Math.round(floorCpuMs),
  }) + '\n',
);
