import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REAL_TOOLHIVE, readJson } from '../../test/formats/support.ts';
import { toolhiveToUpstream } from '../formats/registry-conversion.ts';
import type { ToolhiveRegistry } from '../formats/toolhive-schema.ts';
import type { ServerResponse } from '../formats/upstream-schema.ts';
import { filterServerJsons, filterServerResponses, filterToolhiveRegistry } from './apply.ts';
import { globToRegExp } from './glob.ts';
import { compileFilter, matchesFilter } from './match.ts';
import type { FilterSpec } from './spec.ts';
import { serverJsonSubject, toolhiveSubject } from './subject.ts';

const real = readJson<ToolhiveRegistry>(REAL_TOOLHIVE);
const keysOf = (r: ToolhiveRegistry) => [...Object.keys(r.servers ?? {}), ...Object.keys(r.remote_servers ?? {})].sort();
const kept = (spec: FilterSpec) => keysOf(filterToolhiveRegistry(real, spec));
const all = keysOf(real);

describe('globs', () => {
  it('* and ? match any characters including /, the rest is literal, the whole name must match', () => {
    const re = globToRegExp('io.github.*/f?tch');
    assert.ok(re.test('io.github.stacklok/fetch'));
    assert.ok(re.test('io.github.a/b/fetch'), '* crosses /');
    assert.ok(!re.test('ioXgithub.stacklok/fetch'), '. is literal');
    assert.ok(!re.test('io.github.stacklok/fetch2'), 'anchored');
    assert.ok(globToRegExp('a?b').test('a/b'), '? matches /');
    assert.ok(globToRegExp('*').test(''));
    assert.ok(globToRegExp('(x)+[y]').test('(x)+[y]'), 'regex characters are literal');
    assert.ok(globToRegExp('GitHub*').test('github-remote'), 'case-insensitive');
  });
});

describe('filters on the real ToolHive registry', () => {
  it('an empty filter keeps everything, in every spelling', () => {
    for (const spec of [{}, { include: {} }, { exclude: {} }, { include: { names: [], tags: [] } }] as FilterSpec[]) {
      assert.deepEqual(kept(spec), all);
      assert.equal(compileFilter(spec).keepsAll, true);
    }
    assert.equal(filterToolhiveRegistry(real, undefined), real);
  });

  it('names: by key or by upstream name, globs across /', () => {
    assert.deepEqual(kept({ include: { names: ['github', 'fetch'] } }), ['fetch', 'github']);
    assert.deepEqual(kept({ include: { names: ['io.github.stacklok/github*'] } }), ['github', 'github-remote']);
    assert.deepEqual(kept({ include: { names: ['io.github.*lok/?it*b'] } }), ['github', 'gitlab']);
    assert.deepEqual(kept({ include: { names: ['*/aws-*'] } }), all.filter((k) => k.startsWith('aws-')));
    assert.ok(kept({ include: { names: ['*/aws-*'] } }).length >= 2);
    assert.deepEqual(kept({ exclude: { names: ['*'] } }), []);
  });

  it('tags, tiers, transports, categories: each one on its own', () => {
    const tagged = kept({ include: { tags: ['database'] } });
    assert.ok(tagged.length > 0 && tagged.length < all.length);
    for (const k of tagged) assert.ok(((real.servers?.[k] ?? real.remote_servers?.[k])?.tags ?? []).includes('database'), k);

    const community = kept({ include: { tiers: ['Community'] } });
    assert.equal(community.length, 26);
    assert.equal(kept({ include: { tiers: ['community'] } }).length, 26, 'case-insensitive');
    assert.equal(kept({ exclude: { tiers: ['community'] } }).length, 76);

    assert.equal(kept({ include: { transports: ['sse'] } }).length, 5 + 4);
    assert.equal(kept({ include: { transports: ['stdio', 'sse'] } }).length, 60 + 5 + 4, 'values within a dimension: any');
    assert.equal(kept({ exclude: { transports: ['streamable-http'] } }).length, 102 - 14 - 19);

    // no entry declares categories, so its tags are its categories
    assert.deepEqual(kept({ include: { categories: ['database'] } }), tagged);
  });

  it('every include dimension that is set must match', () => {
    const both = kept({ include: { tags: ['database'], tiers: ['official'] } });
    const official = new Set(kept({ include: { tiers: ['official'] } }));
    assert.deepEqual(both, kept({ include: { tags: ['database'] } }).filter((k) => official.has(k)));
    assert.ok(both.length > 0);
  });

  it('include and exclude together: exclude wins, any exclude dimension drops', () => {
    const spec: FilterSpec = { include: { tiers: ['official'] }, exclude: { names: ['github*'], tags: ['database'] } };
    const out = kept(spec);
    assert.ok(out.length > 0);
    assert.ok(!out.includes('github') && !out.includes('github-remote'));
    for (const k of out) assert.ok(!(((real.servers?.[k] ?? real.remote_servers?.[k])?.tags ?? []).includes('database')));
    assert.deepEqual(kept({ include: { names: ['github'] }, exclude: { names: ['github'] } }), []);
  });

  it('gives the same answer on the upstream form of the same registry', () => {
    const upstream = toolhiveToUpstream(real);
    const specs: FilterSpec[] = [
      { include: { names: ['io.github.stacklok/g*'] } },
      { include: { names: ['git*'] }, exclude: { transports: ['stdio'] } },
      { include: { tags: ['database', 'search'], tiers: ['Official'] } },
      { exclude: { categories: ['api'], tiers: ['community'] } },
      { include: { transports: ['sse'] } },
    ];
    for (const spec of specs) {
      const a = kept(spec).map((k) => `io.github.stacklok/${k}`);
      const b = filterServerJsons(upstream, spec).map((s) => s.name).sort();
      assert.deepEqual(b, a, JSON.stringify(spec));
    }
  });

  it('filters group members and leaves its input alone', () => {
    const registry: ToolhiveRegistry = { servers: {}, groups: [{ name: 'g', description: 'group', servers: { a: { image: 'x', description: 'd', tags: ['keep'] }, b: { image: 'y', description: 'd' } } }] };
    const out = filterToolhiveRegistry(registry, { include: { tags: ['keep'] } });
    assert.deepEqual(Object.keys(out.groups?.[0]?.servers ?? {}), ['a']);
    assert.deepEqual(Object.keys(registry.groups?.[0]?.servers ?? {}), ['a', 'b']);
  });
});

describe('subjects', () => {
  it('categories come from custom_metadata.category / categories, else tags', () => {
    const s = toolhiveSubject('x', { image: 'i', description: 'd', tags: ['t1'], custom_metadata: { category: 'Databases', categories: ['Search', 7] } }, 'image');
    assert.deepEqual(s.categories, ['databases', 'search']);
    assert.deepEqual(toolhiveSubject('x', { image: 'i', description: 'd', tags: ['T1'] }, 'image').categories, ['t1']);
    const f = compileFilter({ include: { categories: ['SEARCH'] } });
    assert.ok(matchesFilter(f, s));
  });

  it('an upstream server has every transport of its packages and remotes; names include the simple name', () => {
    const s = serverJsonSubject({
      name: 'io.github.acme/Weather',
      description: 'd',
      version: '1',
      packages: [{ registryType: 'npm', identifier: 'w', transport: { type: 'stdio' } }],
      remotes: [{ type: 'sse', url: 'https://w.example/sse' }],
    });
    assert.deepEqual(s.names, ['io.github.acme/weather', 'weather']);
    assert.deepEqual(s.transports, ['stdio', 'sse']);
    assert.deepEqual(s.tiers, []);
    assert.equal(matchesFilter(compileFilter({ include: { tiers: ['official'] } }), s), false, 'no tier: an include on tiers drops it');
  });

  it('registry API entries are kept or dropped per server, on their latest version', () => {
    const entry = (version: string, isLatest: boolean, tags: string[]): ServerResponse => ({
      server: {
        name: 'io.github.acme/db',
        description: 'd',
        version,
        packages: [{ registryType: 'oci', identifier: `img:${version}`, transport: { type: 'stdio' } }],
        _meta: { 'io.modelcontextprotocol.registry/publisher-provided': { 'io.github.stacklok': { [`img:${version}`]: { status: 'active', tags } } } },
      },
      _meta: { 'io.modelcontextprotocol.registry/official': { status: 'active', isLatest } },
    });
    const versions = [entry('1.0.0', false, ['legacy']), entry('2.0.0', true, ['database'])];
    assert.equal(filterServerResponses(versions, { include: { tags: ['database'] } }).length, 2);
    assert.equal(filterServerResponses(versions, { include: { tags: ['legacy'] } }).length, 0);
    assert.equal(filterServerResponses(versions, {}).length, 2);
  });
});
