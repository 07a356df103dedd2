import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeGitPush, GIT_PUSH_TYPES, normaliseRepoUrl, registriesForPush } from './git-push.ts';

test('repository URLs in their several spellings normalise to one identity', () => {
  const same = [
    'https://github.com/Acme/registry',
    'https://github.com/Acme/registry.git',
    'http://GitHub.com/Acme/registry/',
    'https://token@github.com:443/Acme/registry.git',
    'git@github.com:Acme/registry.git',
    'ssh://git@github.com/Acme/registry.git',
    'ssh://git@github.com:22/Acme/registry',
    'git://github.com/Acme/registry.git',
  ];
  for (const u of same) assert.equal(normaliseRepoUrl(u), 'github.com/Acme/registry', u);
  assert.equal(normaliseRepoUrl('http://127.0.0.1:8080/team.git'), '127.0.0.1:8080/team');
  assert.notEqual(normaliseRepoUrl('https://github.com/Acme/registry-2'), 'github.com/Acme/registry');
  assert.equal(normaliseRepoUrl('ftp://x/y'), undefined);
  assert.equal(normaliseRepoUrl('not a url'), undefined);
});

const registry = (name: string, git: Record<string, unknown>) => ({ metadata: { name, namespace: 'a' }, spec: { source: { type: 'git', git } } });

test('a push concerns the registries on that repository and branch only', () => {
  const push = decodeGitPush(GIT_PUSH_TYPES.github, 'https://github.com/acme/reg', {
    ref: 'refs/heads/main',
    repository: { html_url: 'https://github.com/acme/reg', clone_url: 'https://github.com/acme/reg.git', ssh_url: 'git@github.com:acme/reg.git' },
  })!;
  const all = [
    registry('default-branch', { repository: 'git@github.com:acme/reg.git' }),
    registry('main', { repository: 'https://GITHUB.com/acme/reg', branch: 'main' }),
    registry('dev', { repository: 'https://github.com/acme/reg.git', branch: 'dev' }),
    registry('tag', { repository: 'https://github.com/acme/reg.git', tag: 'v1' }),
    registry('other', { repository: 'https://github.com/acme/other.git' }),
    { metadata: { name: 'url' }, spec: { source: { type: 'url', url: { url: 'https://github.com/acme/reg' } } } },
  ];
  assert.deepEqual(registriesForPush(all, push).map((r) => r.metadata.name), ['default-branch', 'main']);
  const tagPush = decodeGitPush(GIT_PUSH_TYPES.github, undefined, { ref: 'refs/tags/v1', repository: { html_url: 'https://github.com/acme/reg' } })!;
  assert.deepEqual(registriesForPush(all, tagPush), []);
});

test('GitLab push payloads name the project by web_url, git_http_url and git_ssh_url', () => {
  const push = decodeGitPush(GIT_PUSH_TYPES.gitlab, 'https://gitlab.example.com/g/p', {
    object_kind: 'push',
    ref: 'refs/heads/dev',
    project: { web_url: 'https://gitlab.example.com/g/p', git_http_url: 'https://gitlab.example.com/g/p.git', git_ssh_url: 'git@gitlab.example.com:g/p.git' },
  });
  assert.deepEqual(push, { provider: 'gitlab', repositories: ['gitlab.example.com/g/p'], branch: 'dev' });
  assert.equal(decodeGitPush(GIT_PUSH_TYPES.gitlab, undefined, { object_kind: 'push' }), undefined, 'no ref');
});
