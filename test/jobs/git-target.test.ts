/**
 * The git target of import and export jobs against the machine's real `git http-backend`
 * (receive-pack enabled, basic auth in front): commit and push, no commit when the file
 * already holds the text, nested paths and new branches, a push that is not a fast-forward
 * re-read and retried, refused credentials failing without the secret in the message.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from '../../lib/errors.ts';
import type { GitTarget } from '../../lib/kube/job-specs.ts';
import { updateGitFile, type GitWrite } from '../../lib/jobs/git-target.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { startGitServer, TestRepo, type TestGitServer } from '../servers/git.ts';

const PASSWORD = 's3cr3t-push-pass';
const secrets = (pass: string) => ({
  async read(name: string, key: string) {
    assert.equal(name, 'git-creds');
    return key === 'username' ? 'pusher' : pass;
  },
});

describe('git target (updateGitFile)', () => {
  let root: string;
  let server: TestGitServer;
  let repo: TestRepo;
  const now = () => new Date('2026-03-01T12:00:00Z');

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'mcpreg-gittarget-test-'));
    repo = new TestRepo(root, 'catalog');
    repo.commit({ files: { 'README.md': '# catalog\n' }, message: 'initial' });
    repo.allowPush();
    server = await startGitServer({ root, basic: { user: 'pusher', pass: PASSWORD } });
  });
  after(async () => {
    await server.close();
    repo.dispose();
    await rm(root, { recursive: true, force: true });
  });

  function target(over: Partial<GitTarget> = {}): GitTarget {
    return {
      repository: `${server.url}/catalog.git`,
      branch: 'main',
      path: 'registry.json',
      allowHttp: true,
      authSecret: { name: 'git-creds', usernameKey: 'username', passwordKey: 'password' },
      authorName: 'Registry Bot',
      authorEmail: 'bot@example.com',
      ...over,
    };
  }
  function write(over: Partial<GitWrite> & { compute: GitWrite['compute'] }): ReturnType<typeof updateGitFile> {
    return updateGitFile({
      target: target(),
      secrets: secrets(PASSWORD),
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 0 }),
      signal: AbortSignal.timeout(30_000),
      now,
      defaultMessage: () => 'export test',
      ...over,
    });
  }

  test('commits a new file on the branch, keeping the rest of the tree, and pushes', async () => {
    const before = repo.log('main');
    const seen: Array<string | null> = [];
    const r = await write({ compute: (cur) => (seen.push(cur), '{"a":1}\n') });
    assert.deepEqual(seen, [null]);
    assert.ok(r.commit);
    assert.equal(r.base, before[0]!.sha);
    const log = repo.log('main');
    assert.equal(log[0]!.sha, r.commit);
    assert.equal(log[1]!.sha, before[0]!.sha);
    assert.equal(log[0]!.subject, 'export test');
    assert.equal(log[0]!.author, 'Registry Bot <bot@example.com>');
    assert.equal(repo.show('main', 'registry.json'), '{"a":1}');
    assert.equal(repo.show('main', 'README.md'), '# catalog');
    assert.equal(r.location, `git:${server.url}/catalog.git#main:registry.json`);
    assert.ok(server.requests.some((q) => q.path.endsWith('/git-receive-pack') && q.status === 200), 'pushed through git http-backend');
  });

  test('hands the current text to compute, and makes no commit when it returns null', async () => {
    const before = repo.log('main').length;
    let seen: string | null = null;
    const r = await write({ compute: (cur) => ((seen = cur), cur === '{"a":1}\n' ? null : '{"a":1}\n') });
    assert.equal(seen, '{"a":1}\n');
    assert.equal(r.commit, null);
    assert.equal(repo.log('main').length, before);
  });

  test('writes a nested path on a branch that does not exist yet, with the given message', async () => {
    const r = await write({ target: target({ branch: 'exports/prod', path: 'a/b/registry.json', message: 'promote to prod' }), compute: () => 'nested\n' });
    assert.ok(r.commit);
    assert.equal(r.base, null);
    assert.equal(repo.show('exports/prod', 'a/b/registry.json'), 'nested');
    assert.deepEqual(repo.log('exports/prod').map((c) => c.subject), ['promote to prod']);
  });

  test('a push that is not a fast-forward re-reads the branch and computes again', async () => {
    let calls = 0;
    const r = await write({
      compute: (cur) => {
        calls++;
        // someone else pushes to main between our read and our push, once
        if (calls === 1) repo.commit({ pull: true, files: { 'other.txt': 'theirs\n' }, message: 'concurrent change' });
        return `${cur ?? ''}ours ${calls}\n`;
      },
    });
    assert.equal(calls, 2);
    assert.equal(r.attempts, 2);
    assert.equal(repo.show('main', 'registry.json'), '{"a":1}\nours 2');
    assert.equal(repo.show('main', 'other.txt'), 'theirs', 'the concurrent commit is kept');
    const log = repo.log('main');
    assert.equal(log[0]!.sha, r.commit);
    assert.equal(log[1]!.subject, 'concurrent change');
  });

  test('refused credentials fail as auth_failed, permanent, without the secret in the message', async () => {
    const wrong = 'wrong-pass-value';
    await assert.rejects(
      write({ secrets: secrets(wrong), compute: () => 'x\n' }),
      (e: unknown) => {
        assert.ok(e instanceof RegistryError);
        assert.equal(e.code, 'auth_failed');
        assert.equal(e.transient, false);
        const all = JSON.stringify(e) + e.describe() + String(e.stack);
        assert.ok(!all.includes(wrong) && !all.includes(PASSWORD) && !all.includes(Buffer.from(`pusher:${wrong}`).toString('base64')));
        return true;
      },
    );
  });

  test('a repository that refuses pushes fails the write and leaves the branch as it was', async () => {
    const other = new TestRepo(root, 'readonly');
    other.commit({ files: { 'registry.json': 'old\n' } });
    try {
      const before = other.log('main');
      await assert.rejects(write({ target: target({ repository: `${server.url}/readonly.git` }), compute: () => 'new\n' }), (e: unknown) => e instanceof RegistryError && e.code === 'auth_failed' && !e.transient);
      assert.deepEqual(other.log('main'), before);
    } finally {
      other.dispose();
    }
  });
});
