/**
 * Git over SSH in a trace, with the real OpenTelemetry SDK exporting over OTLP/HTTP to a
 * receiver on loopback, against a real sshd (test/servers/sshd.ts): inside a span, a git source
 * over SSH adds a client span for the connection and one per git-upload-pack exchange (host,
 * port and path; never the key), as the HTTP path does for each request. Skips, saying why,
 * where sshd is not installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemorySecretReader } from '../../lib/kube/secrets.ts';
import { createGitSource } from '../../lib/sources/git.ts';
import { telemetryConfigFromEnv } from '../../lib/telemetry/config.ts';
import { startTelemetry, type Telemetry } from '../../lib/telemetry/telemetry.ts';
import { TestRepo } from '../servers/git.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../servers/otlp.ts';
import { sshdMissing, startSshd, type TestSshd } from '../servers/sshd.ts';
import { testContext } from '../sources/helpers.ts';

const missing = sshdMissing();
if (missing) console.log(`# SKIPPED git over SSH trace test: ${missing}`);

describe('git over SSH in a trace', { skip: missing ? `SKIPPED: ${missing}` : false }, () => {
  let sshd: TestSshd;
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  let root: string;
  let repo: TestRepo;

  before(async () => {
    sshd = await startSshd();
    root = mkdtempSync(join(tmpdir(), 'mcpreg-sshtrace-'));
    repo = new TestRepo(root, 'traced');
    repo.commit({ files: { 'registry.json': '{"servers":{}}' } });
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    telemetry = await startTelemetry(telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }, { serviceName: 'mcp-registry-sync' }), { exportIntervalMs: 60_000 });
  });
  after(async () => {
    await telemetry?.shutdown();
    await receiver?.close();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    await sshd?.close();
    repo?.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('a connection span and one span per git-upload-pack exchange, under the caller\'s span, with no key material', async () => {
    const secrets = createMemorySecretReader({ deploy: { 'ssh-privatekey': sshd.clientKey.privateKey, known_hosts: sshd.keyscan() } });
    const source = createGitSource({
      repository: `ssh://${sshd.user}@127.0.0.1:${sshd.port}${repo.bare}`,
      path: 'registry.json',
      allowHttp: false,
      authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey', knownHostsKey: 'known_hosts' },
    });
    const result = await telemetry.tracing.span('sync', { 'mcpreg.registry': 'team-a/traced' }, () => source.fetch(testContext({ secrets })));
    assert.equal(result.kind, 'document');
    await telemetry.flush();
    const spans = receiver.spans();
    const sync = spans.find((s) => s.name === 'sync');
    assert.ok(sync, `spans: ${spans.map((s) => s.name).join(', ')}`);
    const children = spans.filter((s) => s.parentSpanId === sync.spanId);
    const connect = children.find((s) => s.name === 'ssh connect');
    assert.ok(connect, `children of sync: ${children.map((s) => s.name).join(', ')}`);
    assert.equal(connect.attributes['server.address'], '127.0.0.1');
    assert.equal(connect.attributes['server.port'], sshd.port);
    assert.equal(connect.attributes['network.protocol.name'], 'ssh');
    // the ref lookup (advertisement + ls-refs on one channel) and the fetch (advertisement + upload-pack on another)
    assert.deepEqual(children.filter((s) => s.name === 'git-upload-pack').map((s) => s.attributes['mcpreg.git.request']), ['advertise', 'upload-pack', 'advertise', 'upload-pack']);
    const exported = receiver.raw.join('\n');
    for (const line of sshd.clientKey.privateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) assert.ok(!exported.includes(line), 'no key material exported');
  });
});
