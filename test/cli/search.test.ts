/**
 * `mcpreg search` and `mcpreg show` against local mode's pieces (the real query function
 * serving the example registries, found through the kubeconfig), and against a query function
 * with MCPREG_AUTH=kubernetes, where the CLI sends the kubeconfig user's token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { kubeconfigDocument } from '../../lib/local/control-plane/kubeconfig.ts';
import { startAuthFixture, TOKENS, type AuthFixture } from '../api/auth-fixture.ts';
import { startLocalMode, until, type LocalMode } from './local-mode.ts';

let local: LocalMode;

const rowsOf = (stdout: string) =>
  stdout
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [name, registry, score, tier, transport] = l.split(/\s{2,}/);
      return { name: name!, registry: registry!, score: Number(score), tier: tier!, transport: transport! };
    });

before(async () => {
  local = await startLocalMode();
  await until('the five example registries served', async () => {
    const r = await fetch(`${local.dev.queryUrl}/api/v1/registries`);
    return ((await r.json()) as { registries: unknown[] }).registries.length === 5 ? true : undefined;
  });
});
after(async () => {
  await local?.stop();
});

describe('mcpreg search', () => {
  test('an exact name first, then the rest by score, each hit with its registry; the API found through the kubeconfig', async () => {
    const r = await local.mcpreg(['search', 'github']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.split('\n')[0]!, /^NAME +REGISTRY +SCORE +TIER +TRANSPORT +DESCRIPTION$/);
    const rows = rowsOf(r.stdout);
    assert.equal(rows[0]!.name, 'github');
    const exact = rows.filter((x) => x.name === 'github');
    assert.deepEqual(exact.map((x) => x.registry).sort(), ['default/platform', 'default/toolhive', 'default/upstream-mirror'], 'the registries that carry it');
    assert.ok(rows.some((x) => x.name === 'github-remote'));
    assert.deepEqual(rows.map((x) => x.score), rows.map((x) => x.score).sort((a, b) => b - a));
  });

  test('typos and prefixes: postgress and postgre find postgres-mcp-pro first', async () => {
    for (const q of ['postgress', 'postgre']) {
      const r = await local.mcpreg(['search', q]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(rowsOf(r.stdout)[0]!.name, 'postgres-mcp-pro', q);
    }
  });

  test('filters: --registry, --tier, --transport, --tag, --category; several words', async () => {
    const one = rowsOf((await local.mcpreg(['search', 'database', '--registry', 'default/database-servers', '--limit', '100'])).stdout);
    assert.ok(one.length > 3);
    assert.deepEqual([...new Set(one.map((x) => x.registry))], ['default/database-servers']);
    const community = rowsOf((await local.mcpreg(['search', 'server', '--tier', 'Community', '--limit', '100'])).stdout);
    assert.ok(community.length > 0);
    assert.ok(community.every((x) => x.tier === 'Community'));
    assert.ok(!community.some((x) => x.registry === 'default/toolhive'), 'the toolhive registry excludes Community servers');
    const sse = rowsOf((await local.mcpreg(['search', 'data', '--transport', 'sse', '--limit', '100'])).stdout);
    assert.ok(sse.length > 0 && sse.every((x) => x.transport === 'sse'));
    const json = JSON.parse((await local.mcpreg(['search', 'query', '--tag', 'postgres', '--limit', '100', '-o', 'json'])).stdout) as { results: { server: { tags: string[] } }[] };
    assert.ok(json.results.length > 0 && json.results.every((h) => h.server.tags.includes('postgres')));
    const words = rowsOf((await local.mcpreg(['search', 'kubernetes', 'cluster', 'management'])).stdout);
    assert.equal(words[0]!.name, 'k8s');
  });

  test('-o wide shows tags and what matched; -o name the server names; --limit and --offset page', async () => {
    const wide = await local.mcpreg(['search', 'postgres', '-o', 'wide', '--registry', 'default/toolhive']);
    assert.match(wide.stdout.split('\n')[0]!, /TRANSPORT +TAGS +MATCHED +DESCRIPTION$/);
    assert.match(wide.stdout.split('\n')[1]!, /^postgres-mcp-pro .*postgres:names\+tags/);
    const names = await local.mcpreg(['search', 'postgres', '-o', 'name', '--registry', 'default/toolhive']);
    assert.equal(names.stdout.split('\n')[0], 'postgres-mcp-pro');
    const page = await local.mcpreg(['search', 'data', '--limit', '2']);
    assert.equal(rowsOf(page.stdout).length, 2);
    assert.match(page.stderr, /^2 of \d+ hits; --offset 2 for more\n$/);
    const next = await local.mcpreg(['search', 'data', '--limit', '2', '--offset', '2']);
    const all = rowsOf((await local.mcpreg(['search', 'data', '--limit', '4'])).stdout);
    assert.deepEqual([...rowsOf(page.stdout), ...rowsOf(next.stdout)].map((x) => `${x.registry}/${x.name}`), all.map((x) => `${x.registry}/${x.name}`));
    const none = await local.mcpreg(['search', 'qqqqzzzzxxxx']);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, '');
    assert.equal(none.stderr, 'no servers match "qqqqzzzzxxxx"\n');
  });

  test('the API from $MCPREG_API or --api needs no kubeconfig; mistakes are one line', async () => {
    const viaEnv = await local.mcpreg(['search', 'github', '-o', 'name'], { KUBECONFIG: '/nonexistent', MCPREG_API: local.dev.queryUrl });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal(viaEnv.stdout.split('\n')[0], 'github');
    const viaFlag = await local.mcpreg(['search', 'github', '-o', 'name', '--api', local.dev.queryUrl], { KUBECONFIG: '/nonexistent' });
    assert.equal(viaFlag.stdout, viaEnv.stdout);
    for (const [args, code, message] of [
      [['search', 'x', '--limit', '0'], 2, /^mcpreg: search: --limit must be a number from 1 to 100, not "0"\n$/],
      [['search', 'x', '--registry', 'toolhive'], 2, /^mcpreg: search: --registry must be NAMESPACE\/NAME, not "toolhive"\n$/],
      [['search', 'x', '--api', 'not a url'], 2, /^mcpreg: --api: "not a url" is not a URL\n$/],
      [['search', 'x', '--api', 'http://127.0.0.1:9'], 1, /^mcpreg: cannot reach the query API at http:\/\/127\.0\.0\.1:9 \(/],
      [['search'], 2, /^mcpreg: search: Missing required argument 'QUERY'\n$/],
    ] as const) {
      const r = await local.mcpreg([...args]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});

describe('mcpreg show', () => {
  test('the registries that carry it, version, image, transport, env vars as a table, tools', async () => {
    const r = await local.mcpreg(['show', 'postgres-mcp-pro']);
    assert.equal(r.code, 0, r.stderr);
    for (const line of [
      /^Server: +postgres-mcp-pro \(io\.github\.stacklok\/postgres-mcp-pro\)$/m,
      /^Title: +PostgreSQL Pro$/m,
      /^Version: +1\.0\.0 \(latest\), as default\/database-servers has it$/m,
      /^Transport: +sse$/m,
      /^Image: +crystaldba\/postgres-mcp:0\.3\.0$/m,
      /^Registries:\n {2}REGISTRY +LATEST +VERSIONS\n {2}default\/database-servers +1\.0\.0 +1\.0\.0\n {2}default\/platform +1\.0\.0 +1\.0\.0\n {2}default\/remote-servers +1\.0\.0 +1\.0\.0\n {2}default\/toolhive +1\.0\.0 +1\.0\.0\n {2}default\/upstream-mirror +1\.0\.0 +1\.0\.0$/m,
      /^Environment variables \(2\):\n {2}NAME +REQUIRED +SECRET +DEFAULT +DESCRIPTION\n {2}DATABASE_URI +yes +yes +<none> +PostgreSQL connection string/m,
      /^ {2}OPENAI_API_KEY +no +yes +<none> +OpenAI API key/m,
      /^Tools \(9\):\n {2}list_schemas\n/m,
    ]) {
      assert.match(r.stdout, line);
    }
    const withDefault = await local.mcpreg(['show', 'arxiv-mcp-server']);
    assert.match(withDefault.stdout, /^ {2}ARXIV_STORAGE_PATH +no +no +\/arxiv-papers +Directory path/m);
    const remote = await local.mcpreg(['show', 'io.github.stacklok/atlassian-remote', '--registry', 'default/remote-servers']);
    assert.equal(remote.code, 0, remote.stderr);
    assert.match(remote.stdout, /^Remote URL: +https:\/\/mcp\.atlassian\.com\/v1\/sse$/m);
    assert.match(remote.stdout, /^Registries:\n {2}REGISTRY +LATEST +VERSIONS\n {2}default\/remote-servers +1\.0\.0/m);
  });

  test('-o json|yaml|name; unknown servers and versions exit 1', async () => {
    const json = JSON.parse((await local.mcpreg(['show', 'github', '-o', 'json'])).stdout) as { name: string; upstreamName: string; registries: { registry: string }[]; server: { image: string } };
    assert.equal(json.name, 'github');
    assert.equal(json.upstreamName, 'io.github.stacklok/github');
    assert.deepEqual(json.registries.map((x) => x.registry), ['default/platform', 'default/toolhive', 'default/upstream-mirror']);
    assert.match(json.server.image, /github-mcp-server/);
    assert.equal((await local.mcpreg(['show', 'github', '-o', 'name'])).stdout, 'github\n');
    for (const [args, message] of [
      [['show', 'nope'], 'mcpreg: server "nope" is in no registry you may read\n'],
      [['show', 'github', '--registry', 'default/database-servers'], 'mcpreg: server "github" is not in registry default/database-servers\n'],
      [['show', 'github', '--version', '9.9.9'], 'mcpreg: io.github.stacklok/github has no version "9.9.9" in default/platform (it has: 1.0.0)\n'],
    ] as const) {
      const r = await local.mcpreg([...args]);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, message);
    }
  });
});

describe('with MCPREG_AUTH=kubernetes on the API', () => {
  let auth: AuthFixture;
  const kubeconfigs: Record<string, string> = {};
  before(async () => {
    auth = await startAuthFixture();
    for (const user of ['alice', 'bob', 'carol', 'nobody'] as const) {
      kubeconfigs[user] = join(auth.dir, `${user}.kubeconfig`);
      await writeFile(kubeconfigs[user]!, stringify(kubeconfigDocument(auth.cp.url, user, user === 'nobody' ? undefined : TOKENS[user])));
    }
  });
  after(async () => {
    await auth?.stop();
  });
  const as = (user: string, args: string[]) => local.mcpreg([...args, '--api', auth.api.url, '--kubeconfig', kubeconfigs[user]!]);

  test("search sends the kubeconfig user's token: registries the caller may not read are absent", async () => {
    const registries = async (user: string) => {
      const r = await as(user, ['search', 'github', '-o', 'json', '--limit', '100']);
      assert.equal(r.code, 0, `${user}: ${r.stderr}`);
      return [...new Set((JSON.parse(r.stdout) as { results: { registry: string }[] }).results.map((h) => h.registry))].sort();
    };
    assert.deepEqual(await registries('alice'), ['team-a/public']);
    assert.deepEqual(await registries('bob'), ['team-a/private', 'team-a/public', 'team-b/other']);
    assert.deepEqual(await registries('carol'), []);
    const denied = await as('alice', ['search', 'github', '--registry', 'team-b/other']);
    assert.equal(denied.code, 1);
    assert.equal(denied.stderr, 'mcpreg: query API: HTTP 403 Forbidden: Not allowed to read registry team-b/other\n');
    const tokenless = await as('nobody', ['search', 'github']);
    assert.equal(tokenless.code, 1);
    assert.match(tokenless.stderr, /^mcpreg: the query API at \S+ requires a bearer token \(MCPREG_AUTH=kubernetes\); the kubeconfig user of context "mcpreg-local" has none\n$/);
  });

  test('show: only what the caller may read; --version shows an older version', async () => {
    const alice = await as('alice', ['show', 'github', '-o', 'json']);
    assert.equal(alice.code, 0, alice.stderr);
    const view = JSON.parse(alice.stdout) as { registries: { registry: string; versions: { version: string }[] }[] };
    assert.deepEqual(view.registries.map((r) => r.registry), ['team-a/public']);
    assert.ok(view.registries[0]!.versions.map((v) => v.version).includes('0.9.0'));
    const old = await as('bob', ['show', 'github', '--registry', 'team-b/other', '--version', '0.9.0']);
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stdout, /^Version: +0\.9\.0 \(latest: \S+\), as team-b\/other has it$/m);
    assert.equal((await as('carol', ['show', 'github'])).stderr, 'mcpreg: server "github" is in no registry you may read\n');
  });
});
