import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentHash, parseRegistryDocument, toolhiveToUpstream, upstreamToToolhive } from '../../lib/formats/index.ts';
import { generateServerList } from './generate.ts';
import { officialServerValidator, schemaErrors } from './support.ts';

// Generated upstream data (varied package types, remotes, extensions, several versions per
// name) through the whole chain: what we emit stays valid, nothing is lost silently.
describe('generated upstream registry', () => {
  const list = generateServerList({ count: 3000, seed: 7 });
  const bytes = Buffer.from(JSON.stringify(list));

  it('parses strictly, converts to ToolHive (reporting what has no ToolHive form) and back to valid server.json', () => {
    const doc = parseRegistryDocument(bytes, { mode: 'strict' });
    assert.equal(doc.servers.length, 3000);
    const names = new Set(doc.servers.map((s) => s.server.name));
    const { registry, skipped } = upstreamToToolhive(doc.servers, { lastUpdated: '2026-01-01T00:00:00Z' });
    const entries = Object.keys(registry.servers ?? {}).length + Object.keys(registry.remote_servers ?? {}).length;
    assert.equal(entries + skipped.length, names.size, 'every name is either converted or reported');
    for (const s of skipped) assert.match(s.message, /has only mcpb packages/);
    const validate = officialServerValidator();
    for (const server of toolhiveToUpstream(registry)) assert.ok(validate(server), `${server.name}: ${schemaErrors(validate)}`);
  });

  it('the content hash does not depend on key order or timestamps', () => {
    const shuffled = JSON.parse(JSON.stringify(list), (_key, value: unknown) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      return Object.fromEntries(Object.entries(value).reverse());
    }) as typeof list;
    for (const s of shuffled.servers) {
      const official = s._meta?.['io.modelcontextprotocol.registry/official'];
      if (official) official.updatedAt = '2030-01-01T00:00:00Z';
    }
    assert.equal(contentHash(shuffled), contentHash(list));
    const changed = structuredClone(list);
    (changed.servers[1234] as (typeof list.servers)[number]).server.description = 'changed';
    assert.notEqual(contentHash(changed), contentHash(list));
  });
});
