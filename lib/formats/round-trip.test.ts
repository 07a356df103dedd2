import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CONVERTERS,
  REAL_EXAMPLE_UPSTREAM,
  REAL_THV_UPSTREAM,
  REAL_TOOLHIVE,
  differences,
  officialServerValidator,
  readJson,
  schemaErrors,
  type Difference,
} from '../../test/formats/support.ts';
import { parseRegistryDocument } from './parse.ts';
import { toolhiveToUpstream, toolhiveToUpstreamFile, upstreamToToolhive } from './registry-conversion.ts';
import { ImageMetadata, RemoteServerMetadata, TOOLHIVE_REGISTRY_SCHEMA_URL, type ToolhiveRegistry } from './toolhive-schema.ts';
import { imageToServerJson, remoteToServerJson } from './toolhive-to-upstream.ts';
import { ServerJson } from './upstream-schema.ts';
import { serverJsonToToolhive } from './upstream-to-toolhive.ts';

// Round trips on every real fixture. Every field with a place in the other format comes back
// equal; the differences asserted here are exactly the lossy fields documented in README.md.

const sortByPath = (d: Difference[]) => d.map((x) => `${x.kind} ${x.path}`).sort();

describe('toolhive → upstream → toolhive', () => {
  it('the real ToolHive registry comes back equal, except the derived `name` each entry gains', () => {
    const original = readJson<ToolhiveRegistry>(REAL_TOOLHIVE);
    const { registry, skipped } = upstreamToToolhive(toolhiveToUpstream(original), { version: original.version, lastUpdated: original.last_updated });
    assert.deepEqual(skipped, []);
    const diffs = differences(original, registry);
    assert.equal(diffs.length, 102);
    for (const d of diffs) {
      const m = /^(servers|remote_servers)\.([^.]+)\.name$/.exec(d.path);
      assert.ok(m && d.kind === 'added', `${d.kind} ${d.path}`);
      const entries = registry[m[1] as 'servers' | 'remote_servers'] as Record<string, { name?: string }>;
      assert.equal(entries[m[2] as string]?.name, `io.github.stacklok/${m[2]}`);
    }
  });

  it('through the file envelope too, keeping version and last_updated', () => {
    const original = readJson<ToolhiveRegistry>(REAL_TOOLHIVE);
    const file = toolhiveToUpstreamFile(original);
    const doc = parseRegistryDocument(JSON.stringify(file), { mode: 'strict' });
    const { registry } = upstreamToToolhive(doc.servers, { version: doc.version, lastUpdated: doc.lastUpdated, groups: doc.groups });
    assert.equal(registry.version, original.version);
    assert.equal(registry.last_updated, original.last_updated);
    assert.ok(differences(original, registry).every((d) => d.kind === 'added' && d.path.endsWith('.name')));
  });

  it("ToolHive's converter inputs: the image gains `name` and the `annotations` ToolHive writes on tool definitions", () => {
    const image = readJson<ImageMetadata>(join(CONVERTERS, 'image_to_server/input_github.json'));
    const back = serverJsonToToolhive(imageToServerJson('github', image)).entry;
    assert.deepEqual(sortByPath(differences(image, back)), ['added name', 'added tool_definitions[0].annotations']);
    const remote = readJson<RemoteServerMetadata>(join(CONVERTERS, 'remote_to_server/input_example.json'));
    const backRemote = serverJsonToToolhive(remoteToServerJson('example-remote', remote)).entry;
    assert.deepEqual(sortByPath(differences(remote, backRemote)), ['added name', 'added tool_definitions[0].annotations']);
  });

  it('fields ToolHive\'s converter would drop survive in the extension (stdio target_port, stateless, unknown fields, long texts, remote proxy_port, a repository that is not a URL)', () => {
    const registry: ToolhiveRegistry = {
      $schema: TOOLHIVE_REGISTRY_SCHEMA_URL,
      version: '1.0.0',
      last_updated: '2026-01-01T00:00:00Z',
      servers: {
        'edge-image': {
          description: `A server whose description is longer than the upstream limit of one hundred characters, ${'x'.repeat(60)}`,
          title: `A title that is also far too long for the official schema, which allows one hundred characters ${'y'.repeat(20)}`,
          tier: 'Community',
          status: 'Deprecated',
          transport: 'stdio',
          target_port: 9000,
          stateless: true,
          tools: ['a', 'b'],
          image: 'ghcr.io/acme/edge:1.2.3',
          env_vars: [
            { name: 'TOKEN', description: 'a token', required: true, secret: true },
            { name: 'MODE', description: 'a mode', required: false, default: 'fast' },
          ],
          args: ['--flag', 'value'],
          repository_url: 'git@github.com:acme/edge.git',
          x_vendor_field: { kept: true },
        },
      },
      remote_servers: {
        'edge-remote': {
          description: 'A remote server',
          tier: 'Official',
          status: 'Active',
          transport: 'streamable-http',
          tools: ['c'],
          url: 'https://mcp.acme.example/mcp',
          proxy_port: 8081,
          headers: [{ name: 'X-Region', description: 'region', required: false, choices: ['eu', 'us'], default: 'eu' }],
          oauth_config: { issuer: 'https://auth.acme.example', scopes: ['openid'], use_pkce: true },
          env_vars: [{ name: 'CLIENT_ID', description: 'client id', required: true }],
          custom_metadata: { category: 'weather' },
        },
      },
    };
    const servers = toolhiveToUpstream(registry);
    const validate = officialServerValidator();
    for (const s of servers) assert.ok(validate(s), `${s.name}: ${schemaErrors(validate)}`);
    assert.equal(servers.find((s) => s.name.endsWith('edge-image'))?.description.length, 100);
    const { registry: back } = upstreamToToolhive(servers, { version: registry.version, lastUpdated: registry.last_updated });
    assert.deepEqual(sortByPath(differences(registry, back)), ['added remote_servers.edge-remote.name', 'added servers.edge-image.name']);
  });
});

describe('upstream → toolhive → upstream', () => {
  for (const path of [REAL_THV_UPSTREAM, REAL_EXAMPLE_UPSTREAM]) {
    it(`${path.split('/').pop()}: every server comes back equal`, () => {
      const doc = parseRegistryDocument(readFileSync(path), { mode: 'strict' });
      const { registry, skipped } = upstreamToToolhive(doc.servers, { lastUpdated: doc.lastUpdated });
      assert.deepEqual(skipped, []);
      const original = doc.servers.map((r) => r.server).sort((a, b) => (a.name < b.name ? -1 : 1));
      assert.deepEqual(differences(original, toolhiveToUpstream(registry)), []);
    });
  }

  it("ToolHive's converter inputs: only the extension's copy of `transport` (its place is the package / remote) is dropped", () => {
    for (const file of ['server_to_image/input_github.json', 'server_to_remote/input_example.json']) {
      const server = ServerJson.parse(readJson(join(CONVERTERS, file)));
      const { registry } = upstreamToToolhive([server]);
      const [back] = toolhiveToUpstream(registry);
      const ext = Object.keys(server._meta?.['io.modelcontextprotocol.registry/publisher-provided']?.['io.github.stacklok'] as object)[0] as string;
      const extPath = `_meta.io.modelcontextprotocol.registry/publisher-provided.io.github.stacklok.${ext}`;
      // tool definitions gain `annotations`, as ToolHive writes them
      assert.deepEqual(sortByPath(differences(server, back)), [`added ${extPath}.tool_definitions[0].annotations`, `removed ${extPath}.transport`], file);
    }
  });

  it('a server using every upstream feature loses exactly the documented fields', () => {
    const server = ServerJson.parse({
      $schema: 'https://static.modelcontextprotocol.io/schemas/2025-10-17/server.schema.json',
      name: 'io.github.acme/weather',
      title: 'Weather',
      description: 'Weather forecasts',
      version: '2.3.1',
      websiteUrl: 'https://acme.example/weather',
      icons: [{ src: 'https://acme.example/icon.png', mimeType: 'image/png' }],
      repository: { url: 'https://gitlab.com/acme/weather', source: 'gitlab', subfolder: 'server', id: '42' },
      packages: [
        {
          registryType: 'oci',
          registryBaseUrl: 'https://ghcr.io',
          identifier: 'ghcr.io/acme/weather:2.3.1',
          runtimeHint: 'docker',
          transport: { type: 'streamable-http', url: 'http://0.0.0.0:8080/mcp' },
          environmentVariables: [{ name: 'API_KEY', description: 'key', isRequired: true, isSecret: true, format: 'string', placeholder: 'sk-...' }],
          runtimeArguments: [{ type: 'named', name: '-e', value: 'REGION={region}', description: 'region', variables: { region: { default: 'eu', isRequired: true } } }],
          packageArguments: [{ type: 'named', name: '--verbose' }, { type: 'positional', value: 'serve' }],
        },
        { registryType: 'npm', identifier: '@acme/weather', version: '2.3.1', transport: { type: 'stdio' } },
      ],
      remotes: [{ type: 'sse', url: 'https://acme.example/sse' }],
      _meta: {
        'io.modelcontextprotocol.registry/publisher-provided': {
          'com.acme': { build: 7 },
          'io.github.stacklok': { 'ghcr.io/acme/weather:2.3.1': { status: 'active', tier: 'Community', tags: ['weather'], tools: ['forecast'], transport: 'sse' } },
        },
        'com.example/other': { x: 1 },
      },
    });
    const { registry } = upstreamToToolhive([server]);
    const [back] = toolhiveToUpstream(registry);
    assert.ok(back);
    const ext = '_meta.io.modelcontextprotocol.registry/publisher-provided.io.github.stacklok.ghcr.io/acme/weather:2.3.1';
    assert.deepEqual(sortByPath(differences(server, back)), [
      `added ${ext}.args`, // package arguments, flattened, travel as ToolHive args
      'added packages[0].environmentVariables[1]', // the -e runtime argument became an environment variable
      'changed $schema', // always the current schema
      'changed packages[0].transport.url', // only the port survives (http://localhost:8080)
      'changed repository.source', // ToolHive assumes github
      'changed version', // ToolHive has no version: always 1.0.0
      'removed _meta.com.example/other', // _meta keys other than publisher-provided
      'removed _meta.io.modelcontextprotocol.registry/publisher-provided.com.acme', // other publishers' extensions
      `removed ${ext}.transport`, // its place is the package transport
      'removed icons',
      'removed packages[0].environmentVariables[0].format',
      'removed packages[0].environmentVariables[0].placeholder',
      'removed packages[0].packageArguments',
      'removed packages[0].registryBaseUrl',
      'removed packages[0].runtimeArguments',
      'removed packages[0].runtimeHint',
      'removed packages[1]', // only one package becomes the ToolHive entry
      'removed remotes', // an image entry has no remotes
      'removed repository.id',
      'removed repository.subfolder',
      'removed websiteUrl',
    ]);
  });

  it('npm, pypi and nuget packages become protocol-scheme images and come back as oci packages of that image', () => {
    for (const [registryType, scheme] of [['npm', 'npx://'], ['pypi', 'uvx://'], ['nuget', 'dnx://']] as const) {
      const server = ServerJson.parse({ name: 'io.github.acme/tool', description: 'd', version: '1.0.0', packages: [{ registryType, identifier: '@acme/tool', version: '0.4.0', transport: { type: 'stdio' } }] });
      const converted = serverJsonToToolhive(server);
      assert.equal(converted.kind, 'image');
      assert.equal((converted.entry as ImageMetadata).image, `${scheme}@acme/tool@0.4.0`);
      const [back] = toolhiveToUpstream(upstreamToToolhive([server]).registry);
      assert.deepEqual(back?.packages, [{ registryType: 'oci', identifier: `${scheme}@acme/tool@0.4.0`, transport: { type: 'stdio' } }]);
    }
  });
});
