import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMemorySecretReader } from '../../lib/kube/secrets.ts';
import { createGitSource } from '../../lib/sources/git.ts';
import type { GitSource } from '../../lib/kube/mcpregistry-spec.ts';
import { startGitServer, TestRepo, type TestGitServer } from '../servers/git.ts';
import { startHttpServer } from '../servers/http.ts';
import { rejectsWith, testContext as baseContext } from './helpers.ts';

const TOOLHIVE = readFileSync(new URL('../../../shared/fixtures/real/toolhive-registry.2026-02-20.json', import.meta.url));
const UPSTREAM = readFileSync(new URL('../../../shared/fixtures/real/toolhive-example-upstream-with-remotes.json', import.meta.url));

const secrets = createMemorySecretReader({
  tok: { token: 'git-token-abc' },
  basic: { username: 'carol', password: 'p@ss-word' },
  bad: { token: 'nope-nope' },
});

const testContext = (o: Parameters<typeof baseContext>[0] = {}) => baseContext({ secrets, ...o });

describe('git source', () => {
  let root: string;
  let scratch: string;
  let open: TestGitServer;
  let guarded: TestGitServer;
  let repo: TestRepo;
  let c1: string;
  let c2: string;
  let cFeature: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'mcpreg-gitroot-'));
    scratch = mkdtempSync(path.join(tmpdir(), 'mcpreg-gitscratch-'));
    repo = new TestRepo(root, 'registry');
    c1 = repo.commit({ files: { 'registry.json': UPSTREAM, 'README.md': 'hello' }, annotatedTag: 'v1.0.0' });
    cFeature = repo.commit({ branch: 'feature', files: { 'nested/dir/registry.json': '{"servers":{}}' }, tag: 'feature-tip' });
    c2 = repo.commit({ branch: 'main', files: { 'registry.json': TOOLHIVE } });
    open = await startGitServer({ root });
    guarded = await startGitServer({ root, token: 'git-token-abc', basic: { user: 'carol', pass: 'p@ss-word' } });
  });
  after(async () => {
    await open.close();
    await guarded.close();
    repo.dispose();
    rmSync(root, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  const src = (spec: Partial<GitSource>, server = open) =>
    createGitSource({ repository: `${server.url}/registry.git`, path: 'registry.json', allowHttp: true, ...spec }, { tmpDir: scratch });
  const uploads = (server: TestGitServer) => server.requests.filter((r) => r.method === 'POST').length;

  it('reads a file at the tip of main; revision is the commit SHA; temp dir removed', async () => {
    const r = await src({}).fetch(testContext());
    assert.equal(r.kind, 'document');
    if (r.kind !== 'document') return;
    assert.equal(r.revision, c2);
    assert.deepEqual(Buffer.from(r.bytes), TOOLHIVE);
    assert.equal(r.file, 'registry.json');
    assert.deepEqual(readdirSync(scratch), []);
  });

  it('answers unchanged from the server refs alone, without fetching objects', async () => {
    const first = await src({}).fetch(testContext());
    assert.equal(first.kind, 'document');
    assert.ok(open.requests.some((r) => r.kind === 'fetch'));
    open.requests.length = 0;
    const previous = { revision: first.revision, state: (first as { state?: unknown }).state };
    const second = await src({}).fetch(testContext({ previous }));
    assert.equal(second.kind, 'unchanged');
    assert.equal(second.revision, c2);
    assert.deepEqual(open.requests.map((r) => r.kind), ['advertise', 'ls-refs']);
    // a different path is not "unchanged"
    const other = await src({ path: 'README.md' }).fetch(testContext({ previous }));
    assert.equal(other.kind, 'document');
    if (other.kind === 'document') assert.equal(Buffer.from(other.bytes).toString(), 'hello');
    // force fetches again
    const forced = await src({}).fetch(testContext({ previous, force: true }));
    assert.equal(forced.kind, 'document');
  });

  it('selects a branch, a lightweight tag, an annotated tag and a commit', async () => {
    const feature = await src({ branch: 'feature', path: 'nested/dir/registry.json' }).fetch(testContext());
    assert.equal(feature.revision, cFeature);
    const tag = await src({ tag: 'feature-tip', path: 'nested/dir/registry.json' }).fetch(testContext());
    assert.equal(tag.revision, cFeature);
    const annotated = await src({ tag: 'v1.0.0' }).fetch(testContext());
    assert.equal(annotated.revision, c1);
    if (annotated.kind === 'document') assert.deepEqual(Buffer.from(annotated.bytes), UPSTREAM);
    const pinned = await src({ commit: c1 }).fetch(testContext());
    assert.equal(pinned.revision, c1);
    if (pinned.kind === 'document') assert.deepEqual(Buffer.from(pinned.bytes), UPSTREAM);
    const short = await src({ commit: cFeature.slice(0, 10), path: 'nested/dir/registry.json' }).fetch(testContext());
    assert.equal(short.revision, cFeature);
    assert.deepEqual(readdirSync(scratch), []);
  });

  it('a pinned commit equal to the previous revision needs no request', async () => {
    const before = open.requests.length;
    const r = await src({ commit: c1 }).fetch(testContext({ previous: { revision: c1, state: { ref: `commit ${c1}`, commit: c1, path: 'registry.json' } } }));
    assert.equal(r.kind, 'unchanged');
    assert.equal(open.requests.length, before);
  });

  it('token and basic auth are enforced', async () => {
    await rejectsWith(src({}, guarded).fetch(testContext()), 'auth_failed');
    await rejectsWith(src({ authSecret: { name: 'bad', tokenKey: 'token' } }, guarded).fetch(testContext()), 'auth_failed');
    const token = await src({ authSecret: { name: 'tok', tokenKey: 'token' } }, guarded).fetch(testContext());
    assert.equal(token.revision, c2);
    const basic = await src({ authSecret: { name: 'basic', usernameKey: 'username', passwordKey: 'password' } }, guarded).fetch(testContext());
    assert.equal(basic.revision, c2);
    assert.deepEqual(readdirSync(scratch), []);
  });

  it('missing path, branch, tag or repository → source_not_found; temp dir removed after failure', async () => {
    const e1 = await rejectsWith(src({ path: 'nope/registry.json' }).fetch(testContext()), 'source_not_found');
    assert.match(e1.message, /nope\/registry\.json/);
    assert.match(e1.message, new RegExp(c2));
    const e2 = await rejectsWith(src({ branch: 'release' }).fetch(testContext()), 'source_not_found');
    assert.match(e2.message, /branches: .*feature/);
    await rejectsWith(src({ tag: 'v9' }).fetch(testContext()), 'source_not_found');
    await rejectsWith(createGitSource({ repository: `${open.url}/absent.git`, path: 'registry.json', allowHttp: true }).fetch(testContext()), 'source_not_found');
    await rejectsWith(src({ path: 'nested' , branch: 'feature' }).fetch(testContext()), 'source_not_found');
    assert.deepEqual(readdirSync(scratch), []);
  });

  it('SSH URLs go to the SSH transport: without a deploy key they are refused before any connection', async () => {
    for (const repository of ['ssh://git@github.com/org/repo.git', 'git@github.com:org/repo.git']) {
      const e = await rejectsWith(createGitSource({ repository, path: 'registry.json', allowHttp: false }).fetch(testContext()), 'invalid_argument');
      assert.equal(e.message, 'an ssh repository needs authSecret with sshPrivateKeyKey (a deploy key); tokens and passwords are for https');
    }
  });

  it('SSH key fields on an https repository are refused', async () => {
    const e = await rejectsWith(src({ sshHostKeyFingerprint: 'SHA256:' + 'A'.repeat(43) }).fetch(testContext()), 'invalid_argument');
    assert.match(e.message, /are for ssh repositories/);
  });

  it('applies the URL policy: loopback refused without the allow-list; http needs allowHttp', async () => {
    await rejectsWith(src({}).fetch(testContext({ policy: { allowPrivate: [] } })), 'url_forbidden');
    await rejectsWith(src({ allowHttp: false }).fetch(testContext()), 'url_forbidden');
  });

  it('a redirect to a forbidden address is refused for git too', async () => {
    const hop = await startHttpServer({ '/moved.git/info/refs': { redirect: { to: 'http://169.254.169.254/repo.git/info/refs?service=git-upload-pack' } } });
    try {
      const e = await rejectsWith(
        createGitSource({ repository: `${hop.url}/moved.git`, path: 'registry.json', allowHttp: true }).fetch(testContext()),
        'url_forbidden',
      );
      assert.match(e.message, /169\.254\.169\.254/);
    } finally {
      await hop.close();
    }
  });

  it('stops a transfer over the size cap → too_large, temp dir removed', async () => {
    const e = await rejectsWith(src({}).fetch(testContext({ policy: { maxBytes: 20_000 } })), 'too_large');
    assert.match(e.message, /20000/);
    assert.deepEqual(readdirSync(scratch), []);
  });

  it('a repository URL with user:password@ is refused, without a request and without echoing them', async () => {
    for (const userinfo of ['carol:p%40ss-word@', 'carol@', ':secret-pw@']) {
      const before = open.requests.length;
      const e = await rejectsWith(createGitSource({ repository: open.url.replace('://', `://${userinfo}`) + '/registry.git', path: 'registry.json', allowHttp: true }).fetch(testContext()), 'invalid_argument');
      assert.match(e.message, /credentials in the repository URL are not allowed \(host 127\.0\.0\.1\); use authSecret/);
      assert.ok(!/p%40ss|p@ss|secret-pw|carol/.test(JSON.stringify({ message: e.message, where: e.where })), 'no credential in the error');
      assert.equal(open.requests.length, before, 'nothing was sent');
    }
  });

  it('a zlib bomb in the pack is refused from its header before it is inflated → too_large', async () => {
    const bombRoot = mkdtempSync(path.join(tmpdir(), 'mcpreg-gitbomb-'));
    const bombRepo = new TestRepo(bombRoot, 'bomb');
    // 64 MiB of zeros compress to about 64 KB: the transfer stays far under the 1 MiB cap
    bombRepo.commit({ files: { 'registry.json': '{"servers":{}}', 'assets/zeros.bin': Buffer.alloc(64 * 1024 * 1024) } });
    const server = await startGitServer({ root: bombRoot });
    try {
      const bomb = (file: string) =>
        createGitSource({ repository: `${server.url}/bomb.git`, path: file, allowHttp: true }, { tmpDir: scratch }).fetch(testContext({ policy: { maxBytes: 1024 * 1024 } }));
      // isomorphic-git inflates every object of a pack to index it, so the file asked for
      // being small does not make the other one harmless
      const e = await rejectsWith(bomb('registry.json'), 'too_large');
      assert.match(e.message, /is 67108864 bytes inflated, over the limit of 1048576/);
      const direct = await rejectsWith(bomb('assets/zeros.bin'), 'too_large');
      assert.match(direct.message, /67108864 bytes inflated/);
      assert.deepEqual(readdirSync(scratch), []);
    } finally {
      await server.close();
      bombRepo.dispose();
      rmSync(bombRoot, { recursive: true, force: true });
    }
  });

  it('a server slower than MCPREG_FETCH_TIMEOUT → source_timeout, temp dir removed', async () => {
    const slow = await startGitServer({ root, delayMs: 2_000 });
    try {
      const t0 = Date.now();
      const e = await rejectsWith(src({}, slow).fetch(testContext({ policy: { totalTimeoutMs: 300 } })), 'source_timeout');
      assert.ok(Date.now() - t0 < 1_500, `gave up after ${Date.now() - t0} ms`);
      assert.match(e.message, /300 ms/);
      assert.deepEqual(readdirSync(scratch), []);
    } finally {
      await slow.close();
    }
  });

  it('the sync signal aborts a git fetch', async () => {
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(src({}).fetch(testContext({ signal: ac.signal })), 'aborted');
  });

  it('two of branch/tag/commit at once is refused', async () => {
    await rejectsWith(src({ branch: 'main', tag: 'v1.0.0' }).fetch(testContext()), 'invalid_argument');
  });
});
