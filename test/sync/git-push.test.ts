/**
 * Push CloudEvents as Knative's GitHubSource and GitLabSource send them, decoded and handled
 * by the sync controller on the embedded control plane, against real repositories served by
 * git http-backend: exactly the registries on the pushed repository and branch sync; another
 * branch or repository syncs nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { decodeEvent } from '../../lib/events/decode.ts';
import { GIT_PUSH_TYPES } from '../../lib/events/git-push.ts';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController, type SyncController } from '../../lib/sync/controller.ts';
import { startKube } from '../harness/kube.ts';
import { tempStore } from '../api/harness.ts';
import { startGitServer, TestRepo, type TestGitServer } from '../servers/git.ts';
import { registryJson } from '../harness/registry-data.ts';

const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'team-a';

/** a binary-mode CloudEvent as the sources' adapters post it */
function cloudEvent(type: string, source: string, data: unknown, id: string) {
  return decodeEvent({ headers: { 'ce-specversion': '1.0', 'ce-type': type, 'ce-source': source, 'ce-id': id, 'content-type': 'application/json' }, body: JSON.stringify(data) });
}

describe('git push CloudEvents', { timeout: 60_000 }, () => {
  let cp: ControlPlane;
  let tmp: Awaited<ReturnType<typeof tempStore>>;
  let git: TestGitServer;
  let root: string;
  let team: TestRepo;
  let other: TestRepo;
  let custom: CustomObjectsApi;
  let controller: SyncController;
  const port = () => new URL(git.url).port;

  const count = async (name: string) => ((await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name })) as { status?: { serverCount?: number } }).status?.serverCount;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'mcpreg-push-'));
    team = new TestRepo(root, 'team');
    team.commit({ files: { 'registry.json': registryJson(['a']) } });
    team.commit({ branch: 'dev', files: { 'registry.json': registryJson(['d']) } });
    other = new TestRepo(root, 'other');
    other.commit({ files: { 'registry.json': registryJson(['o']) } });
    git = await startGitServer({ root });
    cp = await startKube({ namespaces: [NS, 'mcp-registry'] });
    tmp = await tempStore();
    custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    controller = createSyncController({
      kubeConfig: cp.kubeConfig(),
      store: tmp.store,
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'] }),
      config: { deadlineMs: 30_000, concurrency: 2, leaseNamespace: 'mcp-registry', leaseDurationSeconds: 120, identity: 'push-test', keepSnapshots: 3 },
      log: silentLogger,
    });
    const registries: Array<[string, Record<string, unknown>]> = [
      ['team-main', { repository: `${git.url}/team.git`, branch: 'main' }],
      ['team-default', { repository: `${git.url}/team` }],
      ['team-dev', { repository: `${git.url}/team.git`, branch: 'dev' }],
      ['other-main', { repository: `${git.url}/other.git` }],
    ];
    for (const [name, g] of registries) {
      await custom.createNamespacedCustomObject({
        group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries',
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name, namespace: NS }, spec: { source: { type: 'git', git: { ...g, allowHttp: true } }, syncPolicy: { interval: '1h' } } },
      });
    }
    const first = await controller.ping();
    assert.deepEqual(first.map((s) => s.outcome), ['published', 'published', 'published', 'published']);
  });
  after(async () => {
    await cp?.stop();
    await git?.close();
    await tmp?.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  test('a GitHub push to main syncs the registries following main of that repository, and no other', async () => {
    team.commit({ files: { 'registry.json': registryJson(['a', 'b']) } });
    other.commit({ files: { 'registry.json': registryJson(['o', 'p']) } });
    const event = cloudEvent(GIT_PUSH_TYPES.github, `https://127.0.0.1:${port()}/team`, {
      ref: 'refs/heads/main',
      after: team.commits.at(-1),
      // GitHub's spellings of the repository; host case and scheme differ from the registries' specs
      repository: { full_name: 'acme/team', html_url: `https://127.0.0.1:${port()}/team`, clone_url: `https://127.0.0.1:${port()}/team.git`, ssh_url: `git@127.0.0.1:team.git` },
    }, 'gh-1');
    const result = await controller.handle(event);
    assert.equal(result.event, 'github push');
    assert.deepEqual(result.registries.map((s) => `${s.registry}:${s.outcome}`).sort(), [`${NS}/team-default:published`, `${NS}/team-main:published`]);
    assert.equal(await count('team-main'), 2);
    assert.equal(await count('team-default'), 2);
    assert.equal(await count('team-dev'), 1);
    assert.equal(await count('other-main'), 1, 'the other repository was pushed to, but no event said so');
  });

  test('a push to a branch no registry follows, or to another host, does nothing', async () => {
    team.commit({ branch: 'feature', files: { 'registry.json': registryJson(['f']) } });
    const feature = await controller.handle(cloudEvent(GIT_PUSH_TYPES.github, 'x', { ref: 'refs/heads/feature', repository: { clone_url: `${git.url}/team.git` } }, 'gh-2'));
    assert.deepEqual(feature.registries, []);
    const tag = await controller.handle(cloudEvent(GIT_PUSH_TYPES.github, 'x', { ref: 'refs/tags/v1', repository: { clone_url: `${git.url}/team.git` } }, 'gh-3'));
    assert.deepEqual(tag.registries, []);
    const elsewhere = await controller.handle(cloudEvent(GIT_PUSH_TYPES.github, 'x', { ref: 'refs/heads/main', repository: { clone_url: `http://127.0.0.2:${port()}/team.git` } }, 'gh-4'));
    assert.deepEqual(elsewhere.registries, []);
  });

  test('a GitLab push syncs the registry on that project and branch', async () => {
    const payload = {
      object_kind: 'push',
      ref: 'refs/heads/main',
      checkout_sha: other.commits.at(-1),
      project: { path_with_namespace: 'acme/other', web_url: `${git.url}/other`, git_http_url: `${git.url}/other.git`, git_ssh_url: 'git@127.0.0.1:acme/other.git' },
      repository: { homepage: `${git.url}/other` },
    };
    const result = await controller.handle(cloudEvent(GIT_PUSH_TYPES.gitlab, `${git.url}/other`, payload, 'gl-1'));
    assert.equal(result.event, 'gitlab push');
    assert.deepEqual(result.registries.map((s) => `${s.registry}:${s.outcome}`), [`${NS}/other-main:published`]);
    assert.equal(await count('other-main'), 2);
    team.commit({ branch: 'dev', files: { 'registry.json': registryJson(['d', 'e']) } });
    const legacy = await controller.handle(cloudEvent(GIT_PUSH_TYPES.gitlabLegacy, `${git.url}/team`, { ...payload, ref: 'refs/heads/dev', project: { web_url: `${git.url}/team` } }, 'gl-2'));
    assert.deepEqual(legacy.registries.map((s) => `${s.registry}:${s.outcome}`), [`${NS}/team-dev:published`]);
    assert.equal(await count('team-dev'), 2);
  });
});
