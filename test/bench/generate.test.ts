import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRegistryDocument } from '../../lib/formats/parse.ts';
import { ServerResponse } from '../../lib/formats/upstream-schema.ts';
import { ToolhiveRegistry } from '../../lib/formats/toolhive-schema.ts';
import { generateToolhiveRegistry, generateUpstreamServers, toolhiveRegistryJson, upstreamListJson } from './generate.ts';

const OFFICIAL = 'io.modelcontextprotocol.registry/official';

function semverCompare(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

describe('benchmark data generators', () => {
  it('are deterministic per seed', () => {
    assert.deepEqual(upstreamListJson(300, { seed: 7 }), upstreamListJson(300, { seed: 7 }));
    assert.notDeepEqual(upstreamListJson(300, { seed: 7 }), upstreamListJson(300, { seed: 8 }));
    assert.deepEqual(toolhiveRegistryJson(60, { seed: 3 }), toolhiveRegistryJson(60, { seed: 3 }));
    assert.notDeepEqual(toolhiveRegistryJson(60, { seed: 3 }), toolhiveRegistryJson(60, { seed: 4 }));
  });

  it('produce n upstream versions: valid entries, unique (name, version), ascending versions, exactly one isLatest per name', () => {
    const n = 2000;
    const entries = generateUpstreamServers(n, { versionsPerServer: 3 });
    assert.equal(entries.length, n);
    const byName = new Map<string, { version: string; publishedAt: string; updatedAt: string; isLatest: boolean }[]>();
    for (const entry of entries) {
      const checked = ServerResponse.safeParse(entry);
      assert.ok(checked.success, checked.success ? '' : checked.error.message);
      const official = entry._meta?.[OFFICIAL];
      assert.ok(official?.publishedAt && official.updatedAt && official.isLatest !== undefined);
      assert.ok(official.publishedAt <= official.updatedAt, 'updatedAt never precedes publishedAt');
      assert.match(official.publishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      const list = byName.get(entry.server.name) ?? [];
      list.push({ version: entry.server.version, publishedAt: official.publishedAt, updatedAt: official.updatedAt, isLatest: official.isLatest });
      byName.set(entry.server.name, list);
    }
    assert.ok(byName.size > n / 4 && byName.size < n / 2, `about n/3 names, got ${byName.size}`);
    let multi = 0;
    for (const [name, versions] of byName) {
      assert.equal(versions.filter((v) => v.isLatest).length, 1, `${name}: one isLatest`);
      assert.equal(versions.at(-1)!.isLatest, true, `${name}: the newest is latest`);
      for (let i = 1; i < versions.length; i++) {
        assert.ok(semverCompare(versions[i - 1]!.version, versions[i]!.version) < 0, `${name}: versions ascend`);
        assert.ok(versions[i - 1]!.publishedAt < versions[i]!.publishedAt, `${name}: published in order`);
      }
      if (versions.length > 1) multi++;
    }
    assert.ok(multi > byName.size / 2, 'most names have several versions');
    // the mix the docs promise: packages, remotes, both, and the ToolHive extension
    const withPackages = entries.filter((e) => e.server.packages?.length).length;
    const withRemotes = entries.filter((e) => e.server.remotes?.length).length;
    const withExtension = entries.filter((e) => e.server._meta?.['io.modelcontextprotocol.registry/publisher-provided']).length;
    assert.ok(withPackages > n * 0.6 && withRemotes > n * 0.15 && withExtension > n * 0.2, JSON.stringify({ withPackages, withRemotes, withExtension }));
  });

  it('serialise the upstream list as the API envelope, accepted by the strict parser', () => {
    const bytes = upstreamListJson(500, { seed: 5 });
    const parsed = JSON.parse(bytes.toString('utf8')) as { servers: unknown[]; metadata: { count: number } };
    assert.equal(parsed.metadata.count, 500);
    assert.deepEqual(parsed.servers, generateUpstreamServers(500, { seed: 5 }));
    const doc = parseRegistryDocument(bytes, { mode: 'strict', file: 'generated-upstream.json' });
    assert.equal(doc.format, 'upstream');
    assert.equal(doc.servers.length, 500);
    const perEntry = bytes.length / 500;
    assert.ok(perEntry > 700 && perEntry < 3000, `realistic entry size (${perEntry.toFixed(0)} B)`);
  });

  it('produce a ToolHive registry of n unique, valid image and remote entries of realistic size', () => {
    const n = 400;
    const registry = generateToolhiveRegistry(n, { seed: 11 });
    const checked = ToolhiveRegistry.safeParse(registry);
    assert.ok(checked.success, checked.success ? '' : checked.error.message);
    const images = Object.keys(registry.servers ?? {});
    const remotes = Object.keys(registry.remote_servers ?? {});
    assert.equal(images.length + remotes.length, n);
    assert.equal(new Set([...images, ...remotes]).size, n, 'keys unique across both maps');
    assert.ok(remotes.length > n * 0.1 && remotes.length < n * 0.3, `about 20 % remote, got ${remotes.length}`);
    const imageBytes = images.map((k) => JSON.stringify(registry.servers![k]).length);
    const average = imageBytes.reduce((a, b) => a + b, 0) / images.length;
    assert.ok(average > 6_000 && average < 20_000, `image entries average ${average.toFixed(0)} B (real registry: ≈12 KB)`);
    for (const key of images) {
      const entry = registry.servers![key]!;
      assert.equal(entry.tools?.length, new Set(entry.tools).size, `${key}: tool names unique`);
      if (entry.tool_definitions) assert.deepEqual(entry.tool_definitions.map((t) => t.name), entry.tools);
      if (entry.transport !== 'stdio') assert.ok(entry.target_port, `${key}: http transports have a port`);
    }

    const bytes = toolhiveRegistryJson(n, { seed: 11 });
    assert.deepEqual(JSON.parse(bytes.toString('utf8')), registry);
    const doc = parseRegistryDocument(bytes, { mode: 'strict', file: 'generated-registry.json' });
    assert.equal(doc.format, 'toolhive');
    assert.equal(doc.servers.length, n);
  });

  it('generate 100k upstream versions in seconds', (t) => {
    const started = performance.now();
    const bytes = upstreamListJson(100_000);
    const ms = performance.now() - started;
    t.diagnostic(`100k versions: ${(bytes.length / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms`);
    assert.ok(ms < 15_000, `took ${ms.toFixed(0)} ms`);
  });
});
