import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '../errors.ts';
import { SourceSpec } from '../kube/mcpregistry-spec.ts';
import { createSource } from './index.ts';

describe('createSource', () => {
  it('builds the source of each type from a parsed spec', () => {
    const cases = [
      [{ type: 'configmap', configMap: { name: 'reg' } }, 'configmap'],
      [{ type: 'url', url: { url: 'https://example.com/registry.json' } }, 'url'],
      [{ type: 'git', git: { repository: 'https://example.com/org/repo.git' } }, 'git'],
      [{ type: 'registry', registry: { url: 'https://registry.example.com' } }, 'registry'],
    ] as const;
    for (const [raw, type] of cases) {
      const source = createSource(SourceSpec.parse(raw));
      assert.equal(source.type, type);
      assert.equal(typeof source.fetch, 'function');
    }
  });
  it('refuses a type without its block, naming the field', () => {
    assert.throws(
      // the schema refuses this too; createSource must not trust that it ran
      () => createSource({ type: 'git', url: { url: 'https://example.com/x.json', allowHttp: false } } as SourceSpec),
      (e: unknown) => e instanceof RegistryError && e.code === 'invalid_argument' && e.where.path === 'spec.source.git',
    );
  });
});
