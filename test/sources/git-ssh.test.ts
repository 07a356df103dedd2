/**
 * The git source over SSH against a real OpenSSH server on loopback (test/servers/sshd.ts:
 * Debian's sshd with its own host key and config, serving bare repositories through
 * git-upload-pack). Skips, saying why, where sshd is not installed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GitSource } from '../../lib/kube/mcpregistry-spec.ts';
import { createMemorySecretReader } from '../../lib/kube/secrets.ts';
import { createGitSource } from '../../lib/sources/git.ts';
import type { FetchResult } from '../../lib/sources/types.ts';
import { TestRepo } from '../servers/git.ts';
import { generateKey, sshdMissing, startSshd, type KeyPair, type TestSshd } from '../servers/sshd.ts';
import { rejectsWith, testContext as baseContext } from './helpers.ts';

const TOOLHIVE = readFileSync(new URL('../../../shared/fixtures/real/toolhive-registry.2026-02-20.json', import.meta.url));
const UPSTREAM = readFileSync(new URL('../../../shared/fixtures/real/toolhive-example-upstream-with-remotes.json', import.meta.url));

const missing = sshdMissing();
if (missing) console.log(`# SKIPPED git over SSH tests: ${missing}`);

describe('git source over SSH (real sshd on loopback)', { skip: missing ? `SKIPPED: ${missing}` : false }, () => {
  let sshd: TestSshd;
  let root: string;
  let scratch: string;
  let keys: string;
  let repo: TestRepo;
  let wrongKey: KeyPair;
  let otherHost: KeyPair;
  let encryptedKey: KeyPair;
  let knownHosts: string;
  let c1: string;
  const secretValues: Record<string, Record<string, string>> = {};
  const secrets = createMemorySecretReader(secretValues);
  const testContext = (o: Parameters<typeof baseContext>[0] = {}) => baseContext({ secrets, ...o });

  before(async () => {
    sshd = await startSshd();
    root = mkdtempSync(path.join(tmpdir(), 'mcpreg-sshroot-'));
    scratch = mkdtempSync(path.join(tmpdir(), 'mcpreg-sshscratch-'));
    keys = mkdtempSync(path.join(tmpdir(), 'mcpreg-sshkeys-'));
    repo = new TestRepo(root, 'registry');
    c1 = repo.commit({ files: { 'registry.json': UPSTREAM }, tag: 'v1' });
    repo.commit({ branch: 'feature', files: { 'registry.json': '{"servers":{}}' } });
    repo.commit({ branch: 'main', files: { 'registry.json': TOOLHIVE } });
    wrongKey = generateKey(keys, 'not-authorised');
    otherHost = generateKey(keys, 'other-host');
    encryptedKey = generateKey(keys, 'encrypted', 'ed25519', 'a passphrase');
    knownHosts = sshd.keyscan();
    secretValues.deploy = { 'ssh-privatekey': sshd.clientKey.privateKey, known_hosts: knownHosts, hashed_known_hosts: sshd.keyscan(true) };
    secretValues.wrong = { 'ssh-privatekey': wrongKey.privateKey, known_hosts: knownHosts };
    secretValues.encrypted = { 'ssh-privatekey': encryptedKey.privateKey };
  });
  after(async () => {
    await sshd?.close();
    repo?.dispose();
    for (const d of [root, scratch, keys]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const url = (r = repo) => `ssh://${sshd.user}@127.0.0.1:${sshd.port}${r.bare}`;
  const src = (spec: Partial<GitSource> = {}) =>
    createGitSource(
      { repository: url(), path: 'registry.json', allowHttp: false, authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey', knownHostsKey: 'known_hosts' }, ...spec },
      { tmpDir: scratch },
    );
  const previousOf = (r: FetchResult) => ({ revision: r.revision, state: (r as { state?: unknown }).state });
  const noSecretIn = (e: Error & { where?: unknown }) => {
    const text = JSON.stringify({ message: e.message, where: e.where });
    for (const k of [sshd.clientKey.privateKey, wrongKey.privateKey]) {
      for (const line of k.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) assert.ok(!text.includes(line), 'no private key material in the error');
    }
  };

  it('key auth and known_hosts from ssh-keyscan: reads the file at the tip of main; revision is the commit; temp dir removed', async () => {
    sshd.clearCommands();
    const r = await src().fetch(testContext());
    assert.equal(r.kind, 'document');
    if (r.kind !== 'document') return;
    assert.equal(r.revision, repo.commits.at(-1));
    assert.deepEqual(Buffer.from(r.bytes), TOOLHIVE);
    assert.deepEqual(readdirSync(scratch), []);
    // one channel for the ref lookup (protocol v2, asked for with GIT_PROTOCOL), one for the fetch
    assert.deepEqual(sshd.commands(), [
      { protocol: 'version=2', command: `git-upload-pack '${repo.bare}'` },
      { protocol: '', command: `git-upload-pack '${repo.bare}'` },
    ]);
  });

  it('change detection: the next sync looks up the ref only (one git-upload-pack) and answers unchanged; a push is seen', async () => {
    const first = await src().fetch(testContext());
    sshd.clearCommands();
    const second = await src().fetch(testContext({ previous: previousOf(first) }));
    assert.equal(second.kind, 'unchanged');
    assert.equal(second.revision, first.revision);
    assert.equal(sshd.commands().length, 1, 'no fetch when the commit is the same');
    const pushed = repo.commit({ branch: 'main', files: { 'registry.json': TOOLHIVE, 'NOTES.md': 'more' } });
    const third = await src().fetch(testContext({ previous: previousOf(second) }));
    assert.equal(third.kind, 'document');
    assert.equal(third.revision, pushed);
  });

  it('a server that ignores GIT_PROTOCOL (v0 advertisement) works the same', async () => {
    sshd.protocolV0Only(true);
    try {
      sshd.clearCommands();
      const r = await src({ tag: 'v1' }).fetch(testContext());
      assert.equal(r.revision, c1);
      if (r.kind === 'document') assert.deepEqual(Buffer.from(r.bytes), UPSTREAM);
      assert.ok(sshd.commands().every((c) => c.protocol === ''));
      sshd.clearCommands();
      const again = await src({ tag: 'v1' }).fetch(testContext({ previous: previousOf(r) }));
      assert.equal(again.kind, 'unchanged');
      assert.equal(sshd.commands().length, 1);
    } finally {
      sshd.protocolV0Only(false);
    }
  });

  it('branches and tags are listed over SSH; a missing one is source_not_found naming the existing ones', async () => {
    const feature = await src({ branch: 'feature' }).fetch(testContext());
    assert.equal(feature.kind, 'document');
    if (feature.kind === 'document') assert.equal(Buffer.from(feature.bytes).toString(), '{"servers":{}}');
    const e = await rejectsWith(src({ branch: 'release' }).fetch(testContext()), 'source_not_found');
    assert.match(e.message, /branches: .*feature/);
  });

  it('a repository the server does not have → source_not_found with what the server said', async () => {
    const e = await rejectsWith(src({ repository: `ssh://${sshd.user}@127.0.0.1:${sshd.port}${root}/absent.git` }).fetch(testContext()), 'source_not_found');
    assert.match(e.message, /absent\.git/);
    assert.match(e.message, /does not appear to be a git repository|not found/);
  });

  it('hashed known_hosts names (ssh-keyscan -H) are matched', async () => {
    const r = await src({ authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey', knownHostsKey: 'hashed_known_hosts' } }).fetch(testContext());
    assert.equal(r.kind, 'document');
  });

  it('the host key fingerprint in the spec (ssh-keygen -l) is accepted without known_hosts; another fingerprint is refused', async () => {
    const r = await src({ authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey' }, sshHostKeyFingerprint: sshd.hostKey.fingerprint }).fetch(testContext());
    assert.equal(r.kind, 'document');
    sshd.clearCommands();
    const e = await rejectsWith(
      src({ authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey' }, sshHostKeyFingerprint: otherHost.fingerprint }).fetch(testContext()),
      'host_key_rejected',
    );
    assert.ok(e.message.includes(`does not match sshHostKeyFingerprint ${otherHost.fingerprint}`), e.message);
    assert.ok(e.message.includes(sshd.hostKey.fingerprint), 'names the key the server presented');
    assert.deepEqual(sshd.commands(), [], 'nothing ran on the server');
  });

  it('a host key is never accepted unchecked: no known_hosts and no fingerprint → invalid_argument before connecting', async () => {
    sshd.clearCommands();
    const e = await rejectsWith(src({ authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey' } }).fetch(testContext()), 'invalid_argument');
    assert.match(e.message, /knownHostsKey or sshHostKeyFingerprint/);
    await rejectsWith(src({ authSecret: undefined }).fetch(testContext()), 'invalid_argument');
    assert.deepEqual(sshd.commands(), []);
  });

  it('unknown host: known_hosts without the host → host_key_rejected, nothing run on the server', async () => {
    secretValues.deploy!.other_hosts = `github.com ${otherHost.publicKey.split(' ').slice(0, 2).join(' ')}\n[127.0.0.1]:1 ${otherHost.publicKey.split(' ').slice(0, 2).join(' ')}\n`;
    sshd.clearCommands();
    const e = await rejectsWith(src({ authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey', knownHostsKey: 'other_hosts' } }).fetch(testContext()), 'host_key_rejected');
    assert.ok(e.message.includes(`host [127.0.0.1]:${sshd.port} is not in known_hosts`), e.message);
    assert.ok(e.message.includes(sshd.hostKey.fingerprint));
    assert.deepEqual(sshd.commands(), []);
  });

  it('@revoked in known_hosts refuses the key even when it is also listed', async () => {
    const line = knownHosts.trim();
    secretValues.deploy!.revoked = `${line}\n@revoked ${line}\n`;
    const e = await rejectsWith(src({ authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey', knownHostsKey: 'revoked' } }).fetch(testContext()), 'host_key_rejected');
    assert.match(e.message, /@revoked/);
  });

  it('wrong key: the server refuses it → auth_failed naming the Secret, key and user, never the key', async () => {
    sshd.clearCommands();
    const e = await rejectsWith(src({ authSecret: { name: 'wrong', sshPrivateKeyKey: 'ssh-privatekey', knownHostsKey: 'known_hosts' } }).fetch(testContext()), 'auth_failed');
    assert.equal(
      e.message,
      `the SSH server [127.0.0.1]:${sshd.port} refused the deploy key (key "ssh-privatekey" of Secret wrong) for user ${sshd.user}: publickey authentication failed`,
    );
    noSecretIn(e);
    assert.deepEqual(sshd.commands(), []);
  });

  it('an encrypted key or one that is no key → auth_failed saying so, before connecting', async () => {
    const e = await rejectsWith(src({ authSecret: { name: 'encrypted', sshPrivateKeyKey: 'ssh-privatekey' }, sshHostKeyFingerprint: sshd.hostKey.fingerprint }).fetch(testContext()), 'auth_failed');
    assert.match(e.message, /encrypted with a passphrase/);
    secretValues.encrypted!.garbage = 'not a key at all';
    const g = await rejectsWith(src({ authSecret: { name: 'encrypted', sshPrivateKeyKey: 'garbage' }, sshHostKeyFingerprint: sshd.hostKey.fingerprint }).fetch(testContext()), 'auth_failed');
    assert.match(g.message, /not a private key/);
    assert.ok(!g.message.includes('not a key at all'));
  });

  it('the SSRF policy applies to the SSH host: loopback refused without the allow-list, nothing connected', async () => {
    sshd.clearCommands();
    const e = await rejectsWith(src().fetch(testContext({ policy: { allowPrivate: [] } })), 'url_forbidden');
    assert.match(e.message, /refusing to connect to 127\.0\.0\.1: loopback/);
    assert.deepEqual(sshd.commands(), []);
  });

  it('the transfer size cap applies → too_large, temp dir removed', async () => {
    const e = await rejectsWith(src().fetch(testContext({ policy: { maxBytes: 20_000 } })), 'too_large');
    assert.match(e.message, /20000/);
    assert.deepEqual(readdirSync(scratch), []);
  });

  it('a zlib bomb in the pack is refused from its header before it is inflated → too_large', async () => {
    const bomb = new TestRepo(root, 'bomb');
    try {
      bomb.commit({ files: { 'registry.json': '{"servers":{}}', 'assets/zeros.bin': Buffer.alloc(64 * 1024 * 1024) } });
      const e = await rejectsWith(src({ repository: url(bomb) }).fetch(testContext({ policy: { maxBytes: 1024 * 1024 } })), 'too_large');
      assert.match(e.message, /is 67108864 bytes inflated, over the limit of 1048576/);
      assert.deepEqual(readdirSync(scratch), []);
    } finally {
      bomb.dispose();
    }
  });

  it('a server slower than MCPREG_FETCH_TIMEOUT → source_timeout; the sync signal → aborted; temp dir removed', async () => {
    sshd.stall(true);
    try {
      const t0 = Date.now();
      const e = await rejectsWith(src().fetch(testContext({ policy: { totalTimeoutMs: 1_000 } })), 'source_timeout');
      assert.ok(Date.now() - t0 < 4_000, `gave up after ${Date.now() - t0} ms`);
      assert.match(e.message, /1000 ms \(MCPREG_FETCH_TIMEOUT\)/);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      await rejectsWith(src().fetch(testContext({ signal: ac.signal })), 'aborted');
      assert.deepEqual(readdirSync(scratch), []);
    } finally {
      sshd.stall(false);
      await sshd.settle();
    }
  });

  it('nothing listening on the port → source_unavailable (transient), after the retries', async () => {
    const e = await rejectsWith(src({ repository: `ssh://${sshd.user}@127.0.0.1:1${repo.bare}` }).fetch(testContext({ policy: { retries: 1 } })), 'source_unavailable');
    assert.equal(e.message, 'connecting to [127.0.0.1]:1 failed: ECONNREFUSED');
    assert.equal(e.transient, true);
  });

  it('known_hosts with only key types the client cannot verify for the host → host_key_rejected, saying so', async () => {
    secretValues.deploy!.sk_only = `[127.0.0.1]:${sshd.port} sk-ssh-ed25519@openssh.com ${Buffer.concat([Buffer.from([0, 0, 0, 26]), Buffer.from('sk-ssh-ed25519@openssh.com'), Buffer.alloc(8)]).toString('base64')}\n`;
    const e = await rejectsWith(src({ authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey', knownHostsKey: 'sk_only' } }).fetch(testContext()), 'host_key_rejected');
    assert.match(e.message, /only keys of types the SSH client cannot check .*sk-ssh-ed25519@openssh\.com/);
  });

  it('changed host key: the server gets a new host key → host_key_rejected naming both keys; a fresh ssh-keyscan is accepted', async () => {
    const before = sshd.hostKey.fingerprint;
    await sshd.rotateHostKey();
    assert.notEqual(sshd.hostKey.fingerprint, before);
    sshd.clearCommands();
    const e = await rejectsWith(src().fetch(testContext()), 'host_key_rejected');
    assert.ok(e.message.includes(`the host key of [127.0.0.1]:${sshd.port} has changed: it presented ssh-ed25519 ${sshd.hostKey.fingerprint}, known_hosts has ssh-ed25519 ${before} (line 1)`), e.message);
    assert.deepEqual(sshd.commands(), []);
    secretValues.deploy!.known_hosts = sshd.keyscan();
    assert.equal((await src().fetch(testContext())).kind, 'document');
  });
});
