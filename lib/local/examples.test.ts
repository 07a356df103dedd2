import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EXAMPLE_ANNOTATION, exampleServerPort, PLACEHOLDERS, readManifests, repointedUrl, rewritePlaceholders, type ExampleServer } from './examples.ts';
import { findCrdsDir } from './project-files.ts';

const addresses = { url: 'http://127.0.0.1:40001', git: 'http://127.0.0.1:40002', registryApi: 'http://127.0.0.1:40003' };

function registry(server: ExampleServer | undefined, url: string) {
  const [block, key] = server ? PLACEHOLDERS[server].field : ['url', 'url'];
  return {
    apiVersion: 'toolhive.stacklok.io/v1alpha1',
    kind: 'MCPRegistry',
    metadata: { name: 'r', namespace: 'default', ...(server ? { annotations: { [EXAMPLE_ANNOTATION]: server } } : {}) },
    spec: { source: { type: block, [block]: { [key]: url, allowHttp: true } } },
  };
}

describe('local mode examples', () => {
  test('the project files are found from the sources (and from dist/chunks by the same walk)', () => {
    const dir = findCrdsDir();
    assert.equal(dir, join(import.meta.dirname, '..', '..', 'crds'));
    assert.equal(findCrdsDir(join(import.meta.dirname, '..', '..', 'dist', 'chunks')), dir);
    assert.throws(() => findCrdsDir('/'), /cannot find the crds\/ directory/);
  });

  test('every network example of crds/examples/ is rewritten to a local server and annotated', async () => {
    const { crds, examples } = await readManifests(findCrdsDir());
    assert.equal(crds.length, 4);
    assert.deepEqual(
      examples.map((e) => `${e.kind}/${e.metadata?.name}`),
      ['ConfigMap/toolhive-registry', 'MCPRegistry/upstream-mirror', 'MCPRegistry/toolhive', 'MCPRegistry/database-servers', 'MCPRegistry/remote-servers', 'MCPRegistry/platform'],
      'ConfigMaps first, aggregates last; the jobs are not applied',
    );
    const rewritten = examples.map((e) => rewritePlaceholders(e as Parameters<typeof rewritePlaceholders>[0], addresses));
    const sources = Object.fromEntries(rewritten.filter((e) => e.kind === 'MCPRegistry').map((e) => [e.metadata!.name, { source: e.spec!.source, example: e.metadata!.annotations?.[EXAMPLE_ANNOTATION] }]));
    assert.deepEqual(sources['remote-servers']!.source!.url, { url: 'http://127.0.0.1:40001/registry.json', allowHttp: true });
    assert.equal(sources['remote-servers']!.example, 'url');
    assert.equal((sources['database-servers']!.source!.git as { repository: string }).repository, 'http://127.0.0.1:40002/registry.git');
    assert.equal(sources['database-servers']!.example, 'git');
    assert.equal((sources['upstream-mirror']!.source!.registry as { url: string }).url, 'http://127.0.0.1:40003');
    assert.equal(sources['upstream-mirror']!.example, 'registry-api');
    assert.equal(sources.toolhive!.example, undefined, 'a ConfigMap source needs no server');
    assert.deepEqual(rewritten[0], examples[0], 'the ConfigMap is applied as it is');
    const registries = JSON.stringify(rewritten.filter((e) => e.kind === 'MCPRegistry'));
    for (const { origin } of Object.values(PLACEHOLDERS)) assert.ok(!registries.includes(origin), `no ${origin} left`);
  });

  test('a placeholder whose server is not running stays as it is', () => {
    const r = registry(undefined, 'http://127.0.0.1:8082/registry.git');
    const git = { ...r, spec: { source: { type: 'git', git: { repository: 'http://127.0.0.1:8082/registry.git' } } } };
    assert.deepEqual(rewritePlaceholders(git, { url: addresses.url, registryApi: addresses.registryApi }), git);
    const other = registry(undefined, 'http://127.0.0.1:80810/registry.json');
    assert.deepEqual(rewritePlaceholders(other, addresses), other, 'only the exact origin is a placeholder');
  });

  test('re-pointing: only annotated registries still on their server (loopback, same path)', () => {
    assert.equal(repointedUrl(registry('url', 'http://127.0.0.1:39999/registry.json'), addresses), 'http://127.0.0.1:40001/registry.json');
    assert.equal(repointedUrl(registry('url', 'http://localhost:39999/registry.json'), addresses), 'http://127.0.0.1:40001/registry.json');
    assert.equal(repointedUrl(registry('registry-api', 'http://127.0.0.1:39999'), addresses), 'http://127.0.0.1:40003');
    assert.equal(repointedUrl(registry('git', 'http://127.0.0.1:39999/registry.git/'), addresses), 'http://127.0.0.1:40002/registry.git/');
    assert.equal(repointedUrl(registry('url', 'http://127.0.0.1:40001/registry.json'), addresses), undefined, 'already right');
    assert.equal(repointedUrl(registry('url', 'https://example.com/registry.json'), addresses), undefined, 'moved elsewhere by the user');
    assert.equal(repointedUrl(registry('url', 'http://127.0.0.1:39999/mine.json'), addresses), undefined, 'another file');
    assert.equal(repointedUrl(registry(undefined, 'http://127.0.0.1:39999/registry.json'), addresses), undefined, 'not annotated');
    assert.equal(repointedUrl(registry('git', 'http://127.0.0.1:39999/registry.git'), { url: addresses.url, registryApi: addresses.registryApi }), undefined, 'no git server');
    const odd = registry('url', 'http://127.0.0.1:39999/registry.json');
    odd.metadata.annotations = { [EXAMPLE_ANNOTATION]: 'ftp' } as never;
    assert.equal(repointedUrl(odd, addresses), undefined, 'unknown annotation value');
  });

  test('the port an example registry points at, for its server to come back on', () => {
    assert.deepEqual(exampleServerPort(registry('git', 'http://127.0.0.1:41234/registry.git')), { server: 'git', port: 41234 });
    assert.equal(exampleServerPort(registry('git', 'http://10.0.0.1:41234/registry.git')), undefined);
    assert.equal(exampleServerPort(registry('url', 'http://127.0.0.1/registry.json')), undefined, 'no explicit port');
    assert.equal(exampleServerPort(registry('url', 'not a url')), undefined);
  });
});
