import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RegistryError } from '../errors.ts';
import type { ToolhiveRegistry } from '../formats/toolhive-schema.ts';
import type { ServerJson } from '../formats/upstream-schema.ts';
import { ANNOTATIONS, LABELS } from './labels.ts';
import { fromToolhive, fromUpstream, planWorkload, PROFILE_KEY, workloadNameFor } from './workload.ts';

const real = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'real', 'toolhive-registry.2026-02-20.json'), 'utf8')) as ToolhiveRegistry;
const upstreamExample = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'real', 'toolhive-example-upstream-with-remotes.json'), 'utf8')) as { data: { servers: ServerJson[] } };
const weather = JSON.parse(readFileSync(join(import.meta.dirname, 'testdata', 'upstream-oci.json'), 'utf8')) as ServerJson;
const registry = { namespace: 'team-a', name: 'toolhive' };

describe('registry entry → workload', () => {
  it('maps a ToolHive image entry to an MCPServer: image, transport, env, secrets, labels, annotations and the permission profile', () => {
    const github = fromToolhive('github', 'image', real.servers!.github!);
    const plan = planWorkload(github, { registry, namespace: 'team-a', snapshot: 'a'.repeat(64), secrets: { GITHUB_PERSONAL_ACCESS_TOKEN: { name: 'github-token', key: 'token' } }, env: { GITHUB_READ_ONLY: '1' } });
    const w = plan.workload;
    assert.equal(w.apiVersion, 'toolhive.stacklok.dev/v1beta1');
    assert.equal(w.kind, 'MCPServer');
    assert.equal(w.metadata.name, 'github');
    assert.deepEqual(w.spec, {
      image: 'ghcr.io/github/github-mcp-server:v0.31.0',
      transport: 'stdio',
      env: [{ name: 'GITHUB_READ_ONLY', value: '1' }],
      secrets: [{ name: 'github-token', key: 'token', targetEnvName: 'GITHUB_PERSONAL_ACCESS_TOKEN' }],
      permissionProfile: { type: 'configmap', name: 'github-permissions', key: PROFILE_KEY },
    });
    assert.deepEqual(w.metadata.labels, {
      [LABELS.registryName]: 'toolhive',
      [LABELS.registryNamespace]: 'team-a',
      [LABELS.serverName]: 'github',
      [LABELS.tier]: 'Official',
      [LABELS.category]: 'api',
    });
    assert.equal(w.metadata.annotations?.[ANNOTATIONS.upstreamName], 'io.github.stacklok/github');
    assert.equal(w.metadata.annotations?.[ANNOTATIONS.snapshot], 'a'.repeat(64));
    assert.match(w.metadata.annotations?.[ANNOTATIONS.managedFields] ?? '', /spec\.image,spec\.transport/);
    assert.match(w.metadata.annotations?.[ANNOTATIONS.entryHash] ?? '', /^[0-9a-f]{16}$/);
    // the profile in the operator's camelCase shape
    assert.equal(plan.configMap?.metadata.name, 'github-permissions');
    assert.deepEqual(JSON.parse(plan.configMap!.data![PROFILE_KEY]!), {
      read: [],
      write: [],
      network: { outbound: { insecureAllowAll: false, allowHost: ['.github.com', '.githubusercontent.com'], allowPort: [443] } },
    });
  });

  it('maps an upstream OCI package: image, transport, mcpPort from the transport URL, args, env defaults, version', () => {
    const entry = fromUpstream(weather);
    assert.equal(entry.name, 'weather');
    const plan = planWorkload(entry, { registry, namespace: 'apps', env: { REGION: 'eu' }, secrets: { WEATHER_API_KEY: { name: 'weather', key: 'api-key' } } });
    assert.equal(plan.workload.kind, 'MCPServer');
    assert.equal(plan.workload.metadata.namespace, 'apps');
    assert.deepEqual(plan.workload.spec, {
      image: 'ghcr.io/example/weather-mcp:2.1.0',
      transport: 'streamable-http',
      mcpPort: 9000,
      args: ['--units', 'metric'],
      env: [
        { name: 'LOG_LEVEL', value: 'info' },
        { name: 'REGION', value: 'eu' },
      ],
      secrets: [{ name: 'weather', key: 'api-key', targetEnvName: 'WEATHER_API_KEY' }],
      permissionProfile: { type: 'configmap', name: 'weather-permissions', key: PROFILE_KEY },
    });
    assert.equal(plan.workload.metadata.annotations?.[ANNOTATIONS.version], '2.1.0');
    assert.equal(plan.workload.metadata.labels?.[LABELS.tier], 'Community');
    assert.equal(plan.workload.metadata.labels?.[LABELS.category], 'weather');
    assert.deepEqual(JSON.parse(plan.configMap!.data![PROFILE_KEY]!).network.outbound.allowHost, ['api.weather.example']);
  });

  it('maps a remote entry to an MCPRemoteProxy with remoteUrl, transport and headerForward from a Secret', () => {
    const remote = upstreamExample.data.servers.find((s) => s.name === 'io.github.stacklok/example-remote')!;
    const plan = planWorkload(fromUpstream(remote), { registry, namespace: 'team-a', secrets: { 'X-API-Key': { name: 'example', key: 'key' } } });
    assert.equal(plan.workload.kind, 'MCPRemoteProxy');
    assert.deepEqual(plan.workload.spec, {
      remoteUrl: 'https://api.example.com/mcp',
      transport: 'sse',
      headerForward: { addHeadersFromSecret: [{ headerName: 'X-API-Key', valueSecretRef: { name: 'example', key: 'key' } }] },
    });
    assert.equal(plan.configMap, undefined);
    // a ToolHive remote entry maps alike
    const ctx = fromToolhive('context7-remote', 'remote', real.remote_servers!['context7-remote']!);
    const p2 = planWorkload(ctx, { registry, namespace: 'team-a' });
    assert.equal(p2.workload.kind, 'MCPRemoteProxy');
    assert.equal(p2.workload.spec?.remoteUrl, real.remote_servers!['context7-remote']!.url);
  });

  it('refuses a required variable without a value, and a plain value for a secret one, naming the variable', () => {
    const entry = fromUpstream(weather);
    assert.throws(
      () => planWorkload(entry, { registry, namespace: 'apps', secrets: { WEATHER_API_KEY: { name: 's', key: 'k' } } }),
      (e: unknown) => e instanceof RegistryError && e.code === 'invalid_argument' && /variable REGION is required/.test(e.message) && e.where.server === 'weather',
    );
    assert.throws(() => planWorkload(entry, { registry, namespace: 'apps', env: { REGION: 'eu' } }), /secret variable WEATHER_API_KEY is required/);
    assert.throws(() => planWorkload(entry, { registry, namespace: 'apps', env: { REGION: 'eu', WEATHER_API_KEY: 'plain' } }), /WEATHER_API_KEY is secret: give it from a Secret/);
    const remote = fromUpstream(upstreamExample.data.servers.find((s) => s.name === 'io.github.stacklok/example-remote')!);
    assert.throws(() => planWorkload(remote, { registry, namespace: 'apps' }), /secret header X-API-Key is required/);
  });

  it('refuses an upstream server with neither an OCI package nor a remote', () => {
    const npm: ServerJson = { name: 'io.example/npm-only', description: 'x', version: '1.0.0', packages: [{ registryType: 'npm', identifier: '@x/y', version: '1.0.0', transport: { type: 'stdio' } }] };
    assert.throws(() => fromUpstream(npm), (e: unknown) => e instanceof RegistryError && e.code === 'unsupported' && e.where.server === 'io.example/npm-only');
  });

  it('gives the same entry hash for the same managed fields, and another when one changes', () => {
    const a = planWorkload(fromToolhive('github', 'image', real.servers!.github!), { registry, namespace: 'x', secrets: { GITHUB_PERSONAL_ACCESS_TOKEN: { name: 's', key: 'k' } }, snapshot: '1' });
    const b = planWorkload(fromToolhive('github', 'image', real.servers!.github!), { registry, namespace: 'x', secrets: { GITHUB_PERSONAL_ACCESS_TOKEN: { name: 's', key: 'k' } }, snapshot: '2' });
    const c = planWorkload(fromToolhive('github', 'image', { ...real.servers!.github!, image: 'ghcr.io/github/github-mcp-server:v0.32.0' }), { registry, namespace: 'x', secrets: { GITHUB_PERSONAL_ACCESS_TOKEN: { name: 's', key: 'k' } } });
    assert.equal(a.entryHash, b.entryHash);
    assert.notEqual(a.entryHash, c.entryHash);
  });

  it('names workloads as DNS labels', () => {
    assert.equal(workloadNameFor('github'), 'github');
    assert.match(workloadNameFor('io.github.stacklok/GitHub_Server'), /^io-github-stacklok-github-server-[0-9a-f]{8}$/);
    assert.ok(workloadNameFor('x'.repeat(100)).length <= 63);
    assert.match(workloadNameFor('データ'), /^mcp-[0-9a-f]{8}$/);
  });
});
