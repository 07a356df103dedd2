import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RegistryError } from '../errors.ts';
import { isSshRepository, parseSshRemote, uploadPackCommand } from './git-remote.ts';

const where = { source: 'git' };

test('SSH spellings are recognised; https and lookalikes are not', () => {
  for (const r of ['ssh://git@github.com/o/r.git', 'git+ssh://git@h/o/r', 'ssh+git://h/o/r', 'git@github.com:o/r.git', 'deploy@[::1]:o/r', 'git@h:/abs/r.git']) {
    assert.ok(isSshRepository(r), r);
  }
  for (const r of ['https://github.com/o/r.git', 'http://h/r', 'github.com:o/r.git', 'git@h://x', 'file:///r', 'git://h/r']) assert.ok(!isSshRepository(r), r);
});

test('ssh:// URLs: user (default git), host, port, absolute path, ~ paths; display has no user', () => {
  assert.deepEqual(parseSshRemote('ssh://github.com/acme/reg.git', where), { kind: 'ssh', user: 'git', host: 'github.com', port: 22, path: '/acme/reg.git', display: 'ssh://github.com/acme/reg.git' });
  const p = parseSshRemote('ssh://deploy@Git.Example.com:2222/srv/git/reg.git', where);
  assert.deepEqual([p.user, p.host, p.port, p.path, p.display], ['deploy', 'git.example.com', 2222, '/srv/git/reg.git', 'ssh://git.example.com:2222/srv/git/reg.git']);
  assert.equal(parseSshRemote('ssh://git@h/~alice/reg.git', where).path, '~alice/reg.git');
  assert.equal(parseSshRemote('ssh://git@[::1]:2200/r.git', where).host, '::1');
});

test('scp-like user@host:path is relative to the home directory, port 22', () => {
  const p = parseSshRemote('git@github.com:acme/reg.git', where);
  assert.deepEqual([p.user, p.host, p.port, p.path, p.display], ['git', 'github.com', 22, 'acme/reg.git', 'ssh://github.com/acme/reg.git']);
});

test('a password, no path, a query or a control character is refused with invalid_argument', () => {
  for (const r of ['ssh://git:hunter2@h/r.git', 'ssh://git@h/', 'ssh://git@h/r.git?x=1', 'ssh://git@h/r%0a.git']) {
    assert.throws(() => parseSshRemote(r, where), (e: unknown) => e instanceof RegistryError && e.code === 'invalid_argument' && !e.message.includes('hunter2'), r);
  }
});

test('the command line quotes the path as git does', () => {
  assert.equal(uploadPackCommand('acme/reg.git'), "git-upload-pack 'acme/reg.git'");
  assert.equal(uploadPackCommand("it's!"), "git-upload-pack 'it'\\''s'\\!''");
});
