import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HTTP } from 'cloudevents';
import { decodeEvent } from '../events/decode.ts';
import { registriesForPush } from '../events/git-push.ts';
import { githubPushEvent, refUpdates, ZERO_SHA } from './github-push-event.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

test('a local push event decodes as a GitHubSource push of that repository and branch', () => {
  const event = githubPushEvent('http://127.0.0.1:8082/registry.git', { ref: 'refs/heads/main', before: A, after: B });
  const message = HTTP.binary(event);
  const decoded = decodeEvent({ headers: message.headers as Record<string, string>, body: message.body as string });
  assert.equal(decoded.type, 'git-push');
  if (decoded.type !== 'git-push') return;
  assert.equal(decoded.cloudEventType, 'dev.knative.source.github.push');
  assert.equal(decoded.source, 'http://127.0.0.1:8082/registry');
  assert.deepEqual(decoded.push, { provider: 'github', repositories: ['127.0.0.1:8082/registry'], branch: 'main' });
  const data = event.data as { repository: { clone_url: string; html_url: string; full_name: string }; created: boolean; deleted: boolean };
  assert.equal(data.repository.clone_url, 'http://127.0.0.1:8082/registry.git');
  assert.equal(data.repository.full_name, 'registry');
  assert.deepEqual([data.created, data.deleted], [false, false]);

  const example = { metadata: { name: 'database-servers', namespace: 'default' }, spec: { source: { type: 'git', git: { repository: 'http://127.0.0.1:8082/registry.git', branch: 'main' } } } };
  const otherPort = { metadata: { name: 'other', namespace: 'default' }, spec: { source: { type: 'git', git: { repository: 'http://127.0.0.1:9999/registry.git' } } } };
  assert.deepEqual(registriesForPush([example, otherPort], decoded.push).map((r) => r.metadata.name), ['database-servers']);
});

test('refUpdates: changed, created and deleted refs; unchanged ones are not updates', () => {
  const before = new Map([['refs/heads/main', A], ['refs/heads/gone', A], ['refs/tags/v1', A]]);
  const after = new Map([['refs/heads/main', B], ['refs/heads/new', B], ['refs/tags/v1', A]]);
  assert.deepEqual(refUpdates(before, after), [
    { ref: 'refs/heads/gone', before: A, after: ZERO_SHA },
    { ref: 'refs/heads/main', before: A, after: B },
    { ref: 'refs/heads/new', before: ZERO_SHA, after: B },
  ]);
  assert.deepEqual(refUpdates(before, before), []);
  const created = githubPushEvent('http://127.0.0.1:1/team/reg.git', { ref: 'refs/heads/new', before: ZERO_SHA, after: B }).data as { created: boolean; repository: { name: string; full_name: string } };
  assert.equal(created.created, true);
  assert.deepEqual([created.repository.name, created.repository.full_name], ['reg', 'team/reg']);
});
