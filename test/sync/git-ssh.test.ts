/**
 * Registries with git sources over SSH, synced by the sync controller on the embedded control
 * plane (CRD schemas and CEL rules enforced, deploy keys in Secrets read through the
 * Kubernetes API) against a real sshd on loopback: the registry syncs with the right server
 * count; a wrong key, an unknown host and a changed host key fail with a precise status
 * condition naming what and where, and nothing of the key reaches status or Events. Skips,
 * saying why, where sshd is not installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController, type SyncController } from '../../lib/sync/controller.ts';
import { SYNC_TRIGGER_ANNOTATION } from '../../lib/sync/decide.ts';
import { startKube } from '../harness/kube.ts';
import { tempStore } from '../api/harness.ts';
import { TestRepo } from '../servers/git.ts';
import { generateKey, sshdMissing, startSshd, type KeyPair, type TestSshd } from '../servers/sshd.ts';

const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'team-ssh';

const missing = sshdMissing();
if (missing) console.log(`# SKIPPED git over SSH sync tests: ${missing}`);

function registryJson(names: string[]): string {
  const servers = Object.fromEntries(names.map((n) => [n, { description: `${n} server`, image: `ghcr.io/example/${n}:1.0.0`, transport: 'stdio', tier: 'Community', status: 'Active', tools: ['t'] }]));
  return JSON.stringify({ version: '1.0.0', last_updated: '2026-03-01T00:00:00Z', servers, remote_servers: {} });
}

interface Registry {
  status?: { phase?: string; serverCount?: number; conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
}

describe('git sources over SSH, synced on the embedded control plane', { skip: missing ? `SKIPPED: ${missing}` : false, timeout: 180_000 }, () => {
  let sshd: TestSshd;
  let cp: ControlPlane;
  let tmp: Awaited<ReturnType<typeof tempStore>>;
  let root: string;
  let keys: string;
  let repo: TestRepo;
  let wrong: KeyPair;
  let other: KeyPair;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let controller: SyncController;

  const get = async (name: string) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name })) as Registry;
  const condition = (r: Registry, type: string) => r.status?.conditions?.find((c) => c.type === type);
  const create = (name: string, git: Record<string, unknown>) =>
    custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'mcpregistries',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name, namespace: NS }, spec: { source: { type: 'git', git }, syncPolicy: { interval: '1h' } } },
    });
  const trigger = (name: string, value: string) =>
    custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name, body: { metadata: { annotations: { [SYNC_TRIGGER_ANNOTATION]: value } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const repository = () => `ssh://${sshd.user}@127.0.0.1:${sshd.port}${repo.bare}`;
  const noKeyIn = async (name: string) => {
    const events = await core.listNamespacedEvent({ namespace: NS });
    const text = JSON.stringify(await get(name)) + JSON.stringify(events.items);
    for (const k of [sshd.clientKey, wrong]) {
      for (const line of k.privateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) assert.ok(!text.includes(line), `no private key material in ${name}'s status or Events`);
    }
  };

  before(async () => {
    sshd = await startSshd();
    root = mkdtempSync(join(tmpdir(), 'mcpreg-sshsync-'));
    keys = mkdtempSync(join(tmpdir(), 'mcpreg-sshsynckeys-'));
    repo = new TestRepo(root, 'team');
    repo.commit({ files: { 'registry.json': registryJson(['a', 'b', 'c']) } });
    wrong = generateKey(keys, 'wrong');
    other = generateKey(keys, 'other-host');
    cp = await startKube({ namespaces: [NS, 'mcp-registry'] });
    tmp = await tempStore();
    custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    const knownHosts = sshd.keyscan();
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'deploy-key' }, type: 'kubernetes.io/ssh-auth', stringData: { 'ssh-privatekey': sshd.clientKey.privateKey, known_hosts: knownHosts } } });
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'wrong-key' }, type: 'kubernetes.io/ssh-auth', stringData: { 'ssh-privatekey': wrong.privateKey, known_hosts: knownHosts } } });
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'elsewhere' }, type: 'kubernetes.io/ssh-auth', stringData: { 'ssh-privatekey': sshd.clientKey.privateKey, known_hosts: `github.com ${other.publicKey.split(' ').slice(0, 2).join(' ')}\n` } },
    });
    controller = createSyncController({
      kubeConfig: cp.kubeConfig(),
      store: tmp.store,
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 0 }),
      config: { deadlineMs: 60_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'ssh-test', keepSnapshots: 3 },
      log: silentLogger,
    });
  });
  after(async () => {
    await cp?.stop();
    await sshd?.close();
    await tmp?.cleanup();
    repo?.dispose();
    for (const d of [root, keys]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test('the CRD refuses an ssh repository with no host key to check it by', async () => {
    await assert.rejects(create('unchecked', { repository: repository(), authSecret: { name: 'deploy-key', sshPrivateKeyKey: 'ssh-privatekey' } }), (e: unknown) => {
      assert.match(String((e as { body?: unknown }).body ?? e), /knownHostsKey or sshHostKeyFingerprint/);
      return true;
    });
  });

  test('deploy key and known_hosts: the registry syncs with the right server count; wrong key, unknown host and wrong fingerprint say why', async () => {
    await create('over-ssh', { repository: repository(), authSecret: { name: 'deploy-key', sshPrivateKeyKey: 'ssh-privatekey', knownHostsKey: 'known_hosts' } });
    await create('by-fingerprint', { repository: repository(), authSecret: { name: 'deploy-key', sshPrivateKeyKey: 'ssh-privatekey' }, sshHostKeyFingerprint: sshd.hostKey.fingerprint });
    await create('wrong-key', { repository: repository(), authSecret: { name: 'wrong-key', sshPrivateKeyKey: 'ssh-privatekey', knownHostsKey: 'known_hosts' } });
    await create('unknown-host', { repository: repository(), authSecret: { name: 'elsewhere', sshPrivateKeyKey: 'ssh-privatekey', knownHostsKey: 'known_hosts' } });
    await create('other-fingerprint', { repository: repository(), authSecret: { name: 'deploy-key', sshPrivateKeyKey: 'ssh-privatekey' }, sshHostKeyFingerprint: other.fingerprint });
    const results = await controller.ping();
    assert.deepEqual(
      results.map((s) => `${s.registry}:${s.outcome}`).sort(),
      [`${NS}/by-fingerprint:published`, `${NS}/other-fingerprint:failed`, `${NS}/over-ssh:published`, `${NS}/unknown-host:failed`, `${NS}/wrong-key:failed`],
    );

    for (const name of ['over-ssh', 'by-fingerprint']) {
      const r = await get(name);
      assert.equal(r.status?.serverCount, 3, name);
      assert.equal(condition(r, 'Ready')?.status, 'True', name);
      assert.equal(condition(r, 'SourceAvailable')?.status, 'True', name);
    }

    const w = condition(await get('wrong-key'), 'SourceAvailable');
    assert.equal(w?.status, 'False');
    assert.equal(w?.reason, 'AuthFailed');
    assert.match(w!.message, new RegExp(`refused the deploy key \\(key "ssh-privatekey" of Secret wrong-key\\) for user ${sshd.user}: publickey authentication failed`));
    assert.match(w!.message, new RegExp(`127\\.0\\.0\\.1:${sshd.port}`), 'names the server');
    await noKeyIn('wrong-key');

    const u = condition(await get('unknown-host'), 'SourceAvailable');
    assert.equal(u?.reason, 'HostKeyRejected');
    assert.ok(u!.message.includes(`host [127.0.0.1]:${sshd.port} is not in known_hosts (it presented ssh-ed25519 ${sshd.hostKey.fingerprint})`), u!.message);

    const f = condition(await get('other-fingerprint'), 'SourceAvailable');
    assert.equal(f?.reason, 'HostKeyRejected');
    assert.ok(f!.message.includes(`does not match sshHostKeyFingerprint ${other.fingerprint}`), f!.message);
    await noKeyIn('over-ssh');
  });

  test('a push is seen at the next sync; then a changed host key stops the registry, which keeps serving its last snapshot', async () => {
    repo.commit({ files: { 'registry.json': registryJson(['a', 'b', 'c', 'd']) } });
    await trigger('over-ssh', 'push-1');
    await controller.ping();
    assert.equal((await get('over-ssh')).status?.serverCount, 4);

    await sshd.rotateHostKey();
    await trigger('over-ssh', 'rotated');
    await controller.ping();
    const r = await get('over-ssh');
    const c = condition(r, 'SourceAvailable');
    assert.equal(c?.status, 'False');
    assert.equal(c?.reason, 'HostKeyRejected');
    assert.match(c!.message, /has changed: it presented ssh-ed25519 SHA256:/);
    assert.ok(c!.message.includes(sshd.hostKey.fingerprint));
    assert.equal(condition(r, 'Ready')?.status, 'True', 'the last good snapshot is still served');
    assert.equal(r.status?.serverCount, 4);
  });
});
