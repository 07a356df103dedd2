/**
 * Local mode with `--metrics` (`npm start -- --metrics`): both functions serve Prometheus text
 * on GET /metrics, each its own, and it parses with a Prometheus text-format parser once the
 * examples synced and a few queries were answered. Without the flag there is no /metrics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { startDev, type DevRuntime } from '../../lib/local/dev.ts';
import { silentLogger } from '../../lib/log.ts';

const EXAMPLES = ['toolhive', 'remote-servers', 'database-servers', 'upstream-mirror', 'platform'];

interface Registry {
  metadata: { generation: number };
  status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> };
}

async function allSynced(dev: DevRuntime): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(dev.kubeconfigPath);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const all = (await Promise.all(
      EXAMPLES.map((name) => custom.getNamespacedCustomObject({ group: 'toolhive.stacklok.io', version: 'v1alpha1', namespace: 'default', plural: 'mcpregistries', name }).catch(() => undefined)),
    )) as Array<Registry | undefined>;
    if (all.every((r) => r && r.status?.observedGeneration === r.metadata.generation && r.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))) return;
    if (Date.now() > deadline) throw new Error('timed out waiting for the examples to sync');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('local mode --metrics', () => {
  let dir: string;
  let dev: DevRuntime | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-dev-metrics-'));
  });
  after(async () => {
    await dev?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('both functions serve Prometheus text that parses, with the syncs and the queries in it; none without the flag', async () => {
    dev = await startDev({ dataDir: join(dir, 'on'), port: 0, apiPort: 0, resyncIntervalMs: 0, examples: true, log: silentLogger, metrics: true });
    assert.deepEqual(dev.metricsUrls, { query: `${dev.queryUrl}/metrics`, sync: `${dev.syncUrl}/metrics` });
    await allSynced(dev);
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${dev.queryUrl}/registries/default/toolhive/v0.1/servers?limit=2`)).status, 200);
    const scrape = async (url: string) => {
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      return parsePrometheusTextFormat(await res.text());
    };
    const sync = await scrape(dev.metricsUrls!.sync);
    const runs = sync.find((f) => f.name === 'mcpreg_sync_runs_total');
    assert.equal(runs?.type, 'COUNTER', `sync families: ${sync.map((f) => f.name).join(', ')}`);
    const published = [...new Set(runs.metrics.filter((m) => m.labels?.mcpreg_sync_outcome === 'published').map((m) => m.labels?.mcpreg_registry))].sort();
    assert.deepEqual(published, EXAMPLES.map((n) => `default/${n}`).sort());
    assert.ok(sync.some((f) => f.name === 'mcpreg_sync_duration' && f.type === 'HISTOGRAM'));
    const query = await scrape(dev.metricsUrls!.query);
    const http = query.find((f) => f.name === 'http_server_request_duration');
    assert.equal(http?.type, 'HISTOGRAM', `query families: ${query.map((f) => f.name).join(', ')}`);
    assert.ok(!query.some((f) => f.name.startsWith('mcpreg_sync_')), 'each function its own metrics');
    await dev.stop();
    dev = undefined;

    dev = await startDev({ dataDir: join(dir, 'off'), port: 0, apiPort: 0, resyncIntervalMs: 0, examples: false, log: silentLogger });
    assert.equal(dev.metricsUrls, undefined);
    assert.equal((await fetch(`${dev.queryUrl}/metrics`)).status, 404);
    assert.equal((await fetch(`${dev.syncUrl}/metrics`)).status, 404);
  });
});
