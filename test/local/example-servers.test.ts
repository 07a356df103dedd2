/**
 * The data and servers behind local mode's url, git and registry-API examples, talked to by
 * real clients: HTTP with validators, `git ls-remote`/`git clone`/`git push` against the
 * git http-backend server (and the push notices it gives), the official-API list endpoint.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { prepareExampleFiles, type ExampleFiles } from '../../lib/local/example-data.ts';
import { startExampleServers, type ExampleServers } from '../../lib/local/example-servers.ts';
import type { GitPushNotice } from '../../lib/local/git-http-server.ts';
import { findCrdsDir } from '../../lib/local/project-files.ts';

const run = promisify(execFile);
const EXAMPLES = join(findCrdsDir(), 'examples');
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };

describe('local example data and servers', () => {
  let dir: string;
  let files: ExampleFiles;
  let servers: ExampleServers;
  const pushes: GitPushNotice[] = [];
  /** the oldest push notice not yet looked at (notices follow the push's answer closely) */
  async function nextPush(): Promise<GitPushNotice> {
    const deadline = Date.now() + 10_000;
    while (pushes.length === 0) {
      if (Date.now() > deadline) throw new Error('no push notice within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    return pushes.shift()!;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-examples-'));
    files = await prepareExampleFiles(join(dir, 'data'), EXAMPLES);
    servers = await startExampleServers(files, undefined, {}, { onGitPush: (n) => pushes.push(n) });
  });
  after(async () => {
    await servers?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the data: the real ToolHive registry, as a file, in git, and as upstream rows', async () => {
    const registry = JSON.parse(await readFile(files.registryFile, 'utf8')) as { servers: object; remote_servers: object };
    assert.equal(Object.keys(registry.servers).length, 79);
    assert.equal(Object.keys(registry.remote_servers).length, 23);
    const upstream = JSON.parse(await readFile(files.upstreamFile, 'utf8')) as { servers: Array<{ server: { name: string }; _meta: Record<string, { isLatest: boolean; status: string }> }> };
    assert.equal(upstream.servers.length, 102);
    assert.ok(upstream.servers.every((s) => s.server.name.startsWith('io.github.stacklok/') && s._meta['io.modelcontextprotocol.registry/official']!.isLatest));
  });

  test('the git repository is the same commit on every machine, and files that exist are kept', async () => {
    const other = await prepareExampleFiles(join(dir, 'other'), EXAMPLES);
    const head = async (f: ExampleFiles) => (await run('git', ['--git-dir', join(f.gitRoot!, 'registry.git'), 'rev-parse', 'main'], { env: GIT_ENV })).stdout.trim();
    assert.equal(await head(other), await head(files));
    await writeFile(other.registryFile, '{"servers":{}}');
    await prepareExampleFiles(join(dir, 'other'), EXAMPLES);
    assert.equal(await readFile(other.registryFile, 'utf8'), '{"servers":{}}', 'an edited file survives a restart');
  });

  test('url server: the file with validators; edits show at once', async () => {
    const url = `${servers.addresses.url}/registry.json`;
    const first = await fetch(url);
    assert.equal(first.status, 200);
    const etag = first.headers.get('etag')!;
    assert.ok(etag);
    assert.equal(Object.keys(((await first.json()) as { servers: object }).servers).length, 79);
    const again = await fetch(url, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    await again.body?.cancel();
    assert.equal((await fetch(`${servers.addresses.url}/other.json`).then(async (r) => (await r.body?.cancel(), r.status))), 404);

    const original = await readFile(files.registryFile, 'utf8');
    await writeFile(files.registryFile, JSON.stringify({ version: '1.0.0', last_updated: '2026-03-01T00:00:00Z', servers: {} }));
    const changed = await fetch(url, { headers: { 'if-none-match': etag } });
    assert.equal(changed.status, 200, 'a changed file is not "not modified"');
    assert.deepEqual(((await changed.json()) as { servers: object }).servers, {});
    await writeFile(files.registryFile, original);
  });

  test('git server: fetches and pushes work; each push reports the refs it changed', async () => {
    const repo = `${servers.addresses.git}/registry.git`;
    const refs = (await run('git', ['ls-remote', repo], { env: GIT_ENV })).stdout;
    assert.match(refs, /^[0-9a-f]{40}\trefs\/heads\/main$/m);
    const before = /^([0-9a-f]{40})\trefs\/heads\/main$/m.exec(refs)![1]!;
    const clone = join(dir, 'clone');
    await run('git', ['clone', '--quiet', repo, clone], { env: GIT_ENV });
    const cloned = JSON.parse(await readFile(join(clone, 'registry.json'), 'utf8')) as { remote_servers: object };
    assert.equal(Object.keys(cloned.remote_servers).length, 23);
    await writeFile(join(clone, 'registry.json'), '{}');
    await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-am', 'change'], { cwd: clone, env: GIT_ENV });
    const after = (await run('git', ['rev-parse', 'HEAD'], { cwd: clone, env: GIT_ENV })).stdout.trim();

    await run('git', ['push', '--quiet', 'origin', 'main', 'main:refs/heads/other'], { cwd: clone, env: GIT_ENV });
    const notice = await nextPush();
    assert.deepEqual(notice, {
      repositoryUrl: repo,
      updates: [
        { ref: 'refs/heads/main', before, after },
        { ref: 'refs/heads/other', before: '0'.repeat(40), after },
      ],
    });
    assert.match((await run('git', ['ls-remote', repo, 'main'], { env: GIT_ENV })).stdout, new RegExp(`^${after}\\trefs/heads/main$`, 'm'));

    // a push that changes nothing (up to date) reports nothing; the next real one is reported alone
    await run('git', ['push', '--quiet', 'origin', 'main'], { cwd: clone, env: GIT_ENV });
    await run('git', ['push', '--quiet', 'origin', ':refs/heads/other'], { cwd: clone, env: GIT_ENV });
    assert.deepEqual(await nextPush(), { repositoryUrl: repo, updates: [{ ref: 'refs/heads/other', before: after, after: '0'.repeat(40) }] });
    assert.equal(pushes.length, 0, 'nothing else was reported');
  });

  test('git server: a repository whose http.receivepack is off refuses pushes and reports none', async () => {
    const bare = join(files.gitRoot!, 'registry.git');
    await run('git', ['--git-dir', bare, 'config', 'http.receivepack', 'false'], { env: GIT_ENV });
    try {
      const clone = join(dir, 'clone');
      await writeFile(join(clone, 'registry.json'), '{"servers":{}}');
      await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-am', 'refused'], { cwd: clone, env: GIT_ENV });
      await assert.rejects(run('git', ['push', '--quiet', 'origin', 'main'], { cwd: clone, env: GIT_ENV }), /403|denied|error/i);
      assert.equal(pushes.length, 0);
    } finally {
      await run('git', ['--git-dir', bare, 'config', 'http.receivepack', 'true'], { env: GIT_ENV });
    }
  });

  test('registry API server: the rows, paged like the official registry', async () => {
    const res = await fetch(`${servers.addresses.registryApi}/v0.1/servers?limit=100`);
    const body = (await res.json()) as { servers: Array<{ server: { name: string } }>; metadata: { count: number; nextCursor?: string } };
    assert.equal(body.metadata.count, 100);
    assert.equal(body.metadata.nextCursor, `${body.servers.at(-1)!.server.name}:1.0.0`);
    const rest = (await (await fetch(`${servers.addresses.registryApi}/v0.1/servers?limit=100&cursor=${encodeURIComponent(body.metadata.nextCursor!)}`)).json()) as { metadata: { count: number; nextCursor?: string } };
    assert.deepEqual(rest.metadata, { count: 2 });
  });

  test('servers come back on the ports asked for, or on others when those are taken', async () => {
    const again = await startExampleServers(files, undefined, { url: Number(new URL(servers.addresses.url).port) });
    try {
      assert.notEqual(again.addresses.url, servers.addresses.url, 'the port is in use: another one');
      await servers.close();
      const back = await startExampleServers(files, undefined, { url: Number(new URL(servers.addresses.url).port), git: Number(new URL(servers.addresses.git!).port) });
      assert.equal(back.addresses.url, servers.addresses.url);
      assert.equal(back.addresses.git, servers.addresses.git);
      servers = back;
    } finally {
      await again.close();
    }
  });
});
