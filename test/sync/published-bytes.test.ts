/**
 * The published bytes, pinned: for fixed inputs and a fixed clock, the SHA-256 of each
 * snapshot file and the content hash are the ones the pipeline wrote when this test was
 * written. Speed work on the pipeline (parse, validation, conversion, serialisation) must not
 * change a byte of what readers get; the other tests check that the files are right, this one
 * that they did not move. An intended change of the output updates the table below (and says
 * why in its commit).
 *
 * Inputs: the real fixtures, and generated upstream lists as a registry API lists them and as a
 * hand-written file would (shuffled, some entries without the official block or with several
 * isLatest flags, duplicates), with and without a filter, in both validation modes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsStore } from '../../lib/snapshots/fs-store.ts';
import { readPointer, readSnapshotFile } from '../../lib/snapshots/read.ts';
import { createSource } from '../../lib/sources/index.ts';
import { createMemorySecretReader } from '../../lib/kube/secrets.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { MCPRegistrySpec } from '../../lib/kube/mcpregistry-spec.ts';
import { runSync } from '../../lib/sync/pipeline.ts';
import { startHttpServer, type TestHttpServer } from '../servers/http.ts';
import { generateUpstreamServers, Rng } from '../bench/generate.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/real');
const OFFICIAL = 'io.modelcontextprotocol.registry/official';
const NOW = new Date('2026-03-01T12:00:00.000Z');

/** a generated list as a hand-written file would have it: out of order, partly without registry metadata */
function untidyList(): string {
  const rng = new Rng(7);
  const servers = generateUpstreamServers(1_500, { seed: 11 }) as unknown as { server: { name: string }; _meta?: Record<string, Record<string, unknown>> }[];
  for (let i = servers.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [servers[i], servers[j]] = [servers[j]!, servers[i]!];
  }
  servers.forEach((e, i) => {
    if (i % 3 === 0) delete e._meta;
    else if (i % 7 === 0 && e._meta?.[OFFICIAL]) e._meta[OFFICIAL].isLatest = true;
    else if (i % 11 === 0 && e._meta?.[OFFICIAL]) delete e._meta[OFFICIAL].publishedAt;
  });
  // a duplicated version (left out, both copies, in lenient mode) and an invalid entry
  servers.push(JSON.parse(JSON.stringify(servers[5])), { server: { name: 'not a name' } });
  return JSON.stringify({ servers, metadata: { count: servers.length } });
}

const ROUTES: Record<string, () => Promise<string>> = {
  '/toolhive.json': async () => (await readFile(join(FIXTURES, 'toolhive-registry.2026-02-20.json'))).toString('utf8'),
  '/thv-upstream.json': async () => (await readFile(join(FIXTURES, 'thv-registry-server-upstream-registry.json'))).toString('utf8'),
  '/with-remotes.json': async () => (await readFile(join(FIXTURES, 'toolhive-example-upstream-with-remotes.json'))).toString('utf8'),
  '/listed.json': async () => JSON.stringify({ servers: generateUpstreamServers(2_000, { seed: 3 }), metadata: { count: 2_000 } }),
  '/untidy.json': async () => untidyList(),
};

const UNTIDY_PROBLEMS = [
  { path: 'servers[1501].server.name', message: 'must be a reverse-DNS namespace and a name separated by one "/" (e.g. io.github.user/weather) (found "not a name")', code: 'invalid_document', server: 'not a name' },
  { path: 'servers[1501].server.description', message: 'required field is missing (expected string)', code: 'invalid_document', server: 'not a name' },
  { path: 'servers[1501].server.version', message: 'required field is missing (expected string)', code: 'invalid_document', server: 'not a name' },
  { path: 'servers[5]', server: 'io.github.rivet/notion-mcp-39', code: 'duplicate_name', message: 'version "0.1.8" of "io.github.rivet/notion-mcp-39" appears 2 times (servers[5], servers[1500]); none of them is used' },
  { path: 'servers[1500]', server: 'io.github.rivet/notion-mcp-39', code: 'duplicate_name', message: 'version "0.1.8" of "io.github.rivet/notion-mcp-39" appears 2 times (servers[5], servers[1500]); none of them is used' },
];

const FILTER = { include: { names: ['*a*'] }, exclude: { names: ['*z*'] } };

/** case → [sha256 of upstream.json, of toolhive.json, content hash] (first 16 hex digits) */
const PINNED: Record<string, [string, string, string]> = {
  'toolhive fixture': ['af118f51c97611ee', 'cc5e5bf7949ee4b2', '2bb8ac1fea6d703f'],
  'toolhive fixture, filtered': ['317840e573ff4c5d', '2fbe76888fa2a7c9', 'c770da3643562bda'],
  'thv upstream fixture': ['c4ca00328d9c5f1d', 'ca741fb06605358b', '3b23b9cfa3e6d164'],
  'upstream fixture with remotes': ['ff8669025991fedc', 'fb9b071dd6cd1f1f', 'bf46e51f6047ddb8'],
  'generated list': ['87323020c70eb7a1', 'e7d3395436045b7e', '2a62d2d1ef715331'],
  'generated list, filtered': ['0d87a86c84a1de36', '55c99cbd68e5ce4a', '9ccf3bcb0c1e8955'],
  'untidy list, lenient': ['88749a879dd4fc20', '8f9291bbb0bd0da5', '3ac91c8002ec6877'],
  'untidy list, lenient, filtered': ['2068d569b0333079', '28a168a848eae77a', '25ab0db250f0de0e'],
};

const CASES: { name: string; path: string; extra?: object }[] = [
  { name: 'toolhive fixture', path: '/toolhive.json' },
  { name: 'toolhive fixture, filtered', path: '/toolhive.json', extra: { filter: FILTER } },
  { name: 'thv upstream fixture', path: '/thv-upstream.json' },
  { name: 'upstream fixture with remotes', path: '/with-remotes.json' },
  { name: 'generated list', path: '/listed.json' },
  { name: 'generated list, filtered', path: '/listed.json', extra: { filter: FILTER } },
  { name: 'untidy list, lenient', path: '/untidy.json', extra: { validation: 'lenient' } },
  { name: 'untidy list, lenient, filtered', path: '/untidy.json', extra: { validation: 'lenient', filter: FILTER } },
];

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 16);

describe('published bytes', () => {
  let http: TestHttpServer;
  let dir: string;
  before(async () => {
    const routes: Record<string, { body: string }> = {};
    for (const [path, make] of Object.entries(ROUTES)) routes[path] = { body: await make() };
    http = await startHttpServer(routes);
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-pinned-'));
  });
  after(async () => {
    await http.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [i, c] of CASES.entries()) {
    test(`${c.name}: the same bytes as before`, async () => {
      const store = createFsStore({ dir: join(dir, String(i)), durable: false });
      const spec = MCPRegistrySpec.parse({ source: { type: 'url', url: { url: `${http.url}${c.path}`, allowHttp: true } }, ...c.extra });
      const ref = { namespace: 'pinned', name: `case-${i}` };
      const context = { secrets: createMemorySecretReader({}), policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], totalTimeoutMs: 20_000 }) };
      const result = await runSync({ ref, spec, store, source: createSource(spec.source), context, now: () => NOW });
      assert.equal(result.outcome, 'published', result.error?.describe());
      // the untidy list's invalid entry and duplicated version (both copies) are left out, so reported
      if (c.path === '/untidy.json') assert.deepEqual(result.invalid, UNTIDY_PROBLEMS);
      const pointer = (await readPointer(store, ref))!.pointer;
      const upstream = (await readSnapshotFile(store, pointer, 'upstream')).body;
      const toolhive = (await readSnapshotFile(store, pointer, 'toolhive')).body;
      const actual: [string, string, string] = [sha(upstream), sha(toolhive), result.hash!.slice(0, 16)];
      assert.deepEqual(actual, PINNED[c.name], `${c.name}: published ${JSON.stringify(actual)}`);
    });
  }
});
