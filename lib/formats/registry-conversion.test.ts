import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { toServerList, toolhiveToUpstream, toolhiveToUpstreamFile, upstreamToToolhive } from './registry-conversion.ts';
import { ImageMetadata, RemoteServerMetadata, ToolhiveRegistry } from './toolhive-schema.ts';
import { ServerJson, ServerList, ServerResponse, UpstreamRegistryFile } from './upstream-schema.ts';
import { targetPort } from './upstream-to-toolhive.ts';

const response = (name: string, version: string, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): ServerResponse => ({
  server: { name, description: 'd', version, packages: [{ registryType: 'oci', identifier: `ghcr.io/${name}:${version}`, transport: { type: 'stdio' } }], ...extra },
  _meta: { 'io.modelcontextprotocol.registry/official': { status: 'active', publishedAt: '2025-10-01T00:00:00Z', ...meta } },
});

describe('upstreamToToolhive', () => {
  it('uses the version flagged isLatest, else the latest by the registry rule', () => {
    const flagged = upstreamToToolhive([response('io.github.a/x', '2.0.0', {}, { isLatest: false }), response('io.github.a/x', '1.0.0', {}, { isLatest: true })]).registry;
    assert.equal(flagged.servers?.x?.image, 'ghcr.io/io.github.a/x:1.0.0');
    const computed = upstreamToToolhive([response('io.github.a/x', '1.9.0'), response('io.github.a/x', '1.10.0'), response('io.github.a/x', '1.10.0-rc.1')]).registry;
    assert.equal(computed.servers?.x?.image, 'ghcr.io/io.github.a/x:1.10.0');
  });

  it('derives keys from names, resolving collisions deterministically', () => {
    const { registry } = upstreamToToolhive([response('com.b/fetch', '1.0.0'), response('io.github.stacklok/fetch', '1.0.0'), response('com.a/fetch', '1.0.0')]);
    assert.deepEqual(Object.keys(registry.servers ?? {}), ['com.a/fetch', 'com.b/fetch', 'fetch']);
    assert.equal(registry.servers?.fetch?.name, 'io.github.stacklok/fetch');
    assert.equal(registry.servers?.['com.a/fetch']?.name, 'com.a/fetch');
  });

  it('prefers an oci package, then a remote, then npm/pypi/nuget; lists what it cannot express', () => {
    const remote = { type: 'streamable-http', url: 'https://x.example/mcp' };
    const { registry, skipped } = upstreamToToolhive([
      { server: { name: 'io.github.a/both', description: 'd', version: '1.0.0', packages: [{ registryType: 'npm', identifier: 'both', transport: { type: 'stdio' } }], remotes: [remote] } },
      { server: { name: 'io.github.a/mcpb', description: 'd', version: '3.0.0', packages: [{ registryType: 'mcpb', identifier: 'https://github.com/a/b/releases/x.mcpb', transport: { type: 'stdio' } }] } },
      { server: { name: 'io.github.a/empty', description: 'd', version: '1.0.0' } },
    ] as ServerResponse[]);
    assert.equal(registry.remote_servers?.both?.url, 'https://x.example/mcp');
    assert.deepEqual(skipped, [
      { server: 'io.github.a/mcpb', version: '3.0.0', message: 'has only mcpb packages; a ToolHive entry needs an oci, npm, pypi or nuget package or a remote' },
      { server: 'io.github.a/empty', version: '1.0.0', message: 'has no packages and no remotes; a ToolHive entry needs an oci, npm, pypi or nuget package or a remote' },
    ]);
    assert.ok(ToolhiveRegistry.safeParse(registry).success);
  });

  it('reads env vars from -e runtime arguments and the target port from the transport URL', () => {
    const { registry } = upstreamToToolhive([
      {
        server: {
          name: 'io.github.a/t',
          description: 'd',
          version: '1',
          packages: [
            {
              registryType: 'oci',
              identifier: 'img',
              transport: { type: 'sse', url: 'http://localhost:3001/sse' },
              runtimeArguments: [
                { type: 'named', name: '-e', value: 'TOKEN={token}', isRequired: true, variables: { token: { isSecret: true, isRequired: true } } },
                { type: 'named', name: '--env', value: 'MODE=fast', description: 'mode' },
                { type: 'named', name: '-v', value: '/a:/b' },
              ],
            },
          ],
        },
      },
    ]);
    assert.deepEqual(registry.servers?.t?.env_vars, [
      { name: 'TOKEN', description: '', required: true, secret: true },
      { name: 'MODE', description: 'mode', required: false, default: 'fast' },
    ]);
    assert.equal(registry.servers?.t?.target_port, 3001);
    assert.equal(targetPort('http://{host}:8080/mcp'), 8080);
    assert.equal(targetPort('https://[::1]:9443'), 9443);
    assert.equal(targetPort('http://localhost'), undefined);
    assert.equal(targetPort('http://localhost:99999'), undefined);
  });
});

describe('envelopes', () => {
  it('the file envelope and the list envelope validate against their own schemas', () => {
    const registry = { version: '2.0.0', last_updated: '2026-01-01T00:00:00Z', servers: { a: { image: 'x', description: 'd' } }, groups: [{ name: 'g', description: 'group', remote_servers: { r: { url: 'https://r.example', description: 'd' } } }] };
    const file = toolhiveToUpstreamFile(registry);
    assert.ok(UpstreamRegistryFile.safeParse(file).success);
    assert.equal(file.version, '2.0.0');
    assert.equal(file.meta.last_updated, '2026-01-01T00:00:00Z');
    assert.deepEqual(Object.keys(file.data), ['servers'], 'no data.groups: ToolHive reads none; groups stay in the ToolHive format');
    assert.deepEqual(file.data.servers.map((s) => s.name), ['io.github.stacklok/a']);
    const list = toServerList(toolhiveToUpstream(registry).map((server) => ({ server })));
    assert.ok(ServerList.safeParse(list).success);
    assert.deepEqual(list.metadata, { count: 1 });
  });
});

describe('schemas', () => {
  it('every entry schema compiles to the fast path (no silent fallback)', () => {
    for (const schema of [ServerJson, ServerResponse, ImageMetadata, RemoteServerMetadata]) {
      assert.doesNotThrow(() => z.compile(schema, { strict: true }));
    }
  });
});
