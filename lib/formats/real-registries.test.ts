import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  REAL,
  REAL_EXAMPLE_UPSTREAM,
  REAL_THV_UPSTREAM,
  REAL_TOOLHIVE,
  officialServerValidator,
  readJson,
  realJsonFiles,
  schemaErrors,
  toolhiveLegacyValidator,
  upstreamFileValidator,
} from '../../test/formats/support.ts';
import { parseRegistryDocument } from './parse.ts';
import { readExtension } from './toolhive-extension.ts';
import { ImageMetadata, RemoteServerMetadata, type ToolhiveRegistry } from './toolhive-schema.ts';
import { imageToServerJson } from './toolhive-to-upstream.ts';
import { toolhiveToUpstream, toolhiveToUpstreamFile, upstreamToToolhive } from './registry-conversion.ts';
import { ServerJson, type UpstreamRegistryFile } from './upstream-schema.ts';

describe('real registries', () => {
  it('every JSON file of the real fixtures parses (registries strictly; converter fixtures as entries)', () => {
    const files = realJsonFiles();
    assert.ok(files.length >= 11, `found ${files.length} files`);
    for (const file of files) {
      const bytes = readFileSync(join(REAL, file));
      if (!file.startsWith('toolhive-converters/')) {
        const doc = parseRegistryDocument(bytes, { file, mode: 'strict' });
        assert.deepEqual(doc.invalid, []);
        assert.ok(doc.servers.length > 0, file);
        continue;
      }
      const value = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
      if ('$schema' in value) {
        // a server.json is also a registry document on its own
        const doc = parseRegistryDocument(bytes, { file, mode: 'strict' });
        assert.equal(doc.shape, 'server', file);
      } else {
        const schema = 'url' in value ? RemoteServerMetadata : ImageMetadata;
        assert.ok(schema.safeParse(value).success, file);
      }
    }
  });

  it('the ToolHive registry: 79 image and 23 remote servers, every one in upstream form', () => {
    const doc = parseRegistryDocument(readFileSync(REAL_TOOLHIVE), { mode: 'strict' });
    assert.equal(doc.format, 'toolhive');
    assert.equal(Object.keys(doc.toolhive?.servers ?? {}).length, 79);
    assert.equal(Object.keys(doc.toolhive?.remote_servers ?? {}).length, 23);
    assert.equal(doc.servers.length, 102);
    assert.equal(doc.version, '1.0.0');
    assert.equal(doc.lastUpdated, '2026-02-20T00:21:11Z');
    const github = doc.servers.find((s) => s.server.name === 'io.github.stacklok/github');
    assert.ok(github);
    assert.equal(github.server.packages?.[0]?.registryType, 'oci');
  });

  it('the upstream files: 12 and 2 servers', () => {
    assert.equal(parseRegistryDocument(readFileSync(REAL_THV_UPSTREAM), { mode: 'strict' }).servers.length, 12);
    const example = parseRegistryDocument(readFileSync(REAL_EXAMPLE_UPSTREAM), { mode: 'strict' });
    assert.equal(example.shape, 'file');
    assert.deepEqual(example.servers.map((s) => s.server.name), ['io.github.stacklok/example-container', 'io.github.stacklok/example-remote']);
  });

  it('every server.json converted from the real ToolHive registry validates against the official schema', () => {
    const validate = officialServerValidator();
    const servers = toolhiveToUpstream(readJson<ToolhiveRegistry>(REAL_TOOLHIVE));
    assert.equal(servers.length, 102);
    for (const s of servers) assert.ok(validate(s), `${s.name}: ${schemaErrors(validate)}`);
  });

  it("the converted file envelope validates against ToolHive's upstream registry schema", () => {
    const validate = upstreamFileValidator();
    const file = toolhiveToUpstreamFile(readJson<ToolhiveRegistry>(REAL_TOOLHIVE));
    assert.ok(validate(file), schemaErrors(validate));
    assert.equal(validate({ ...file, meta: {} }), false, 'the envelope schema rejects a missing last_updated');
    for (const path of [REAL_THV_UPSTREAM, REAL_EXAMPLE_UPSTREAM]) assert.ok(validate(readJson(path)), `${path}: ${schemaErrors(validate)}`);
  });

  it("the ToolHive registry rebuilt from its upstream form validates against ToolHive's legacy schema", () => {
    const validate = toolhiveLegacyValidator();
    const original = readJson<ToolhiveRegistry>(REAL_TOOLHIVE);
    assert.ok(validate(original), schemaErrors(validate));
    const { registry, skipped } = upstreamToToolhive(toolhiveToUpstream(original), { version: original.version, lastUpdated: original.last_updated });
    assert.deepEqual(skipped, []);
    assert.ok(validate(registry), schemaErrors(validate));
  });

  it('the upstream files converted to ToolHive entries are valid entries', () => {
    for (const path of [REAL_THV_UPSTREAM, REAL_EXAMPLE_UPSTREAM]) {
      const doc = parseRegistryDocument(readFileSync(path), { mode: 'strict' });
      const { registry, skipped } = upstreamToToolhive(doc.servers, { lastUpdated: doc.lastUpdated });
      assert.deepEqual(skipped, []);
      for (const [key, entry] of Object.entries(registry.servers ?? {})) assert.ok(ImageMetadata.safeParse(entry).success, key);
      for (const [key, entry] of Object.entries(registry.remote_servers ?? {})) assert.ok(RemoteServerMetadata.safeParse(entry).success, key);
    }
  });
});

// thv-registry-server-upstream-registry.json is ToolHive's own converter output (2025-11) for
// servers that are also in the real ToolHive registry (2026-02). Values may differ between the
// two snapshots; where each field is placed must not.
describe("placement of fields matches ToolHive's converter output", () => {
  const toolhive = readJson<ToolhiveRegistry>(REAL_TOOLHIVE);
  const theirs = readJson<UpstreamRegistryFile>(REAL_THV_UPSTREAM).data.servers;
  const keysOf = (v: unknown) => Object.keys((v ?? {}) as object).sort();

  it('the real registry holds every server of the converter output', () => {
    assert.equal(theirs.length, 12);
    for (const s of theirs) assert.ok(toolhive.servers?.[s.name.split('/')[1] as string], s.name);
  });

  for (const their of theirs) {
    const key = their.name.split('/')[1] as string;
    it(`${key}: same keys at the top, in the package, transport, env vars and the extension`, () => {
      const entry = toolhive.servers?.[key] as ImageMetadata;
      const ours = imageToServerJson(key, entry);
      assert.ok(ServerJson.safeParse(ours).success);
      assert.equal(ours.name, their.name);
      assert.deepEqual(keysOf(ours), keysOf(their));
      const [op, tp] = [ours.packages?.[0], their.packages?.[0]];
      assert.deepEqual(keysOf(op), keysOf(tp));
      assert.deepEqual(keysOf(op?.transport), keysOf(tp?.transport));
      for (const env of tp?.environmentVariables ?? []) {
        const mine = op?.environmentVariables?.find((e) => e.name === env.name);
        assert.ok(mine, `env var ${env.name}`);
        assert.deepEqual(keysOf(mine), keysOf(env), `env var ${env.name}`);
      }
      // the extension is keyed by the image reference in both
      const theirExt = readExtension(their, tp?.identifier);
      const ourExt = readExtension(ours, op?.identifier);
      assert.ok(theirExt && ourExt);
      assert.deepEqual(Object.keys(ours._meta?.['io.modelcontextprotocol.registry/publisher-provided']?.['io.github.stacklok'] as object), [entry.image]);
      for (const field of Object.keys(theirExt)) assert.ok(field in ourExt, `extension field ${field}`);
      // fields the 2025-11 registry did not have yet (tool_definitions) are the only extra ones
      for (const field of Object.keys(ourExt)) if (!(field in theirExt)) assert.equal(field, 'tool_definitions');
      // metadata: ToolHive dropped `pulls` from its metadata type after 2025-11
      for (const field of keysOf(ourExt.metadata)) assert.ok(keysOf(theirExt.metadata).includes(field), `metadata.${field}`);
    });
  }

  it('the reverse: their server.json becomes entries with the fields in the places the real registry has them', () => {
    const { registry } = upstreamToToolhive(theirs, { lastUpdated: '2025-11-26T00:27:46Z' });
    for (const [key, entry] of Object.entries(registry.servers ?? {})) {
      const real = toolhive.servers?.[key];
      assert.ok(real, key);
      const ours = new Set(Object.keys(entry));
      for (const field of Object.keys(real)) if (!ours.has(field)) assert.equal(field, 'tool_definitions', `${key}.${field}`);
      for (const field of ours) if (!(field in real)) assert.equal(field, 'name', `${key}.${field}`);
    }
  });
});
