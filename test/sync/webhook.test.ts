/**
 * The plain webhook in local mode's runtime: a url-source registry on a loopback HTTP server,
 * its webhook secret in a Secret on the embedded control plane. A good signature syncs now;
 * a bad, missing or replayed one does nothing (the source server counts its requests).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { startDev, type DevRuntime } from '../../lib/local/dev.ts';
import { silentLogger } from '../../lib/log.ts';
import { signBody } from '../../lib/sync/webhook-signature.ts';
import { registryJson } from '../harness/registry-data.ts';

const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'default';
const SECRET = 'webhook-secret-value';

interface Registry {
  status?: { serverCount?: number; conditions?: Array<{ type: string; status: string }> };
}

async function until(probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('POST /webhooks/{namespace}/{name}', { timeout: 60_000 }, () => {
  let dir: string;
  let dev: DevRuntime;
  let custom: CustomObjectsApi;
  let source: http.Server;
  let doc = registryJson(['a']);
  let hits = 0;

  const get = async (name: string) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name })) as Registry;
  const post = (name: string, body: string, headers: Record<string, string>) => fetch(`${dev.syncUrl}/webhooks/${NS}/${name}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  before(async () => {
    source = http.createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(doc);
    });
    await new Promise<void>((r) => source.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(source.address() as AddressInfo).port}/registry.json`;
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-webhook-'));
    dev = await startDev({ dataDir: dir, port: 0, apiPort: 0, resyncIntervalMs: 0, examples: false, log: silentLogger, env: { ...process.env, MCPREG_AUDIT: join(dir, 'audit.log') } });
    const kc = new KubeConfig();
    kc.loadFromFile(dev.kubeconfigPath);
    custom = kc.makeApiClient(CustomObjectsApi);
    await kc.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'hook' }, stringData: { secret: SECRET } } });
    for (const [name, webhook] of [['hooked', { secretRef: { name: 'hook' } }], ['plain', undefined]] as const) {
      await custom.createNamespacedCustomObject({
        group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries',
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name, namespace: NS }, spec: { source: { type: 'url', url: { url, allowHttp: true } }, syncPolicy: { interval: '1h', ...(webhook ? { webhook } : {}) } } },
      });
    }
    for (;;) {
      const [a, b] = [await get('hooked'), await get('plain')];
      if (a.status?.serverCount === 1 && b.status?.serverCount === 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    await dev?.stop();
    await new Promise<void>((r) => source.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  test('a bad or missing signature is a 401 that does nothing; so is a registry without a webhook', async () => {
    doc = registryJson(['a', 'b']);
    const before = hits;
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    for (const headers of [{} as Record<string, string>, { 'x-hub-signature-256': signBody(Buffer.from(body), 'wrong secret') }, { 'x-hub-signature-256': 'sha256=zz' }, { 'x-hub-signature-256': signBody(Buffer.from(`${body} `), SECRET) }]) {
      const r = await post('hooked', body, headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
    }
    assert.equal((await post('plain', body, { 'x-hub-signature-256': signBody(Buffer.from(body), SECRET) })).status, 401, 'no webhook configured');
    assert.equal((await post('missing', body, { 'x-hub-signature-256': signBody(Buffer.from(body), SECRET) })).status, 401, 'no such registry: the same answer');
    assert.equal(hits, before, 'the source was not fetched');
    assert.equal((await get('hooked')).status?.serverCount, 1);
  });

  test('a good signature syncs now; the same delivery id again is ignored', async () => {
    doc = registryJson(['a', 'b']);
    const body = JSON.stringify({ ref: 'refs/heads/main', after: '1' });
    const headers = { 'x-hub-signature-256': signBody(Buffer.from(body), SECRET), 'x-github-delivery': 'delivery-1' };
    const r = await post('hooked', body, headers);
    assert.equal(r.status, 200);
    // "queued": a check of this registry (the event of its last status write) was running in
    // this process at that instant; the sync it queued follows at once
    const answer = await r.text();
    assert.match(answer, /^sync (published|queued)\n?$/);
    await until(async () => (await get('hooked')).status?.serverCount === 2);

    doc = registryJson(['a', 'b', 'c']);
    const before = hits;
    const replay = await post('hooked', body, headers);
    assert.equal(replay.status, 200);
    assert.match(await replay.text(), /seen before/);
    assert.equal(hits, before, 'a replay fetches nothing');
    assert.equal((await get('hooked')).status?.serverCount, 2);

    const fresh = await post('hooked', body, { ...headers, 'x-github-delivery': 'delivery-2' });
    assert.equal(fresh.status, 200);
    await until(async () => (await get('hooked')).status?.serverCount === 3);
  });

  test('every call is a webhook.receive audit line: refusals with why, acceptances, replays; never the secret or a signature', async () => {
    const lines = (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as Record<string, string>).filter((r) => r.action === 'webhook.receive');
    assert.deepEqual(
      records.map((r) => [r.resource, r.outcome, r.reason, r.requestId]),
      [
        [`mcpregistries/${NS}/hooked`, 'refused', 'no x-hub-signature-256 header', undefined],
        [`mcpregistries/${NS}/hooked`, 'refused', 'signature does not match the body', undefined],
        [`mcpregistries/${NS}/hooked`, 'refused', 'signature does not match the body', undefined],
        [`mcpregistries/${NS}/hooked`, 'refused', 'signature does not match the body', undefined],
        [`mcpregistries/${NS}/plain`, 'refused', 'the registry has no spec.syncPolicy.webhook', undefined],
        [`mcpregistries/${NS}/missing`, 'refused', 'no such registry', undefined],
        [`mcpregistries/${NS}/hooked`, 'accepted', 'signature valid', 'delivery-1'],
        [`mcpregistries/${NS}/hooked`, 'refused', 'delivery id seen before (replay)', 'delivery-1'],
        [`mcpregistries/${NS}/hooked`, 'accepted', 'signature valid', 'delivery-2'],
      ],
    );
    for (const r of records) assert.equal(r.service, 'mcp-registry-sync');
    const text = lines.join('\n');
    assert.ok(!text.includes(SECRET), 'the webhook secret is not in the audit log');
    assert.ok(!text.includes(Buffer.from(SECRET).toString('base64')));
    assert.ok(!/sha256=[0-9a-f]{16}/.test(text), 'no signature in the audit log');
  });

  test('a body over the limit is a 413', async () => {
    const big = 'x'.repeat(1024 * 1024 + 1);
    const r = await post('hooked', big, { 'x-hub-signature-256': signBody(Buffer.from(big), SECRET) });
    assert.equal(r.status, 413);
  });
});
