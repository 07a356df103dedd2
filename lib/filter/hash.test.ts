import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterHash, normalizeFilter } from './hash.ts';

describe('filterHash', () => {
  it('is the same for filters that differ only in order, case, duplicates and empty parts', () => {
    const a = filterHash({ include: { names: ['io.github.*', 'fetch'], tags: ['DB', 'search'] }, exclude: { tiers: ['community'] } });
    const b = filterHash({ exclude: { tiers: ['Community', 'community'], tags: [] }, include: { tags: ['search', 'db', 'db'], names: ['fetch', 'IO.GITHUB.*'] } });
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.equal(a, b);
  });
  it('every way of saying "keep everything" hashes alike', () => {
    const h = filterHash(undefined);
    for (const spec of [{}, { include: {} }, { include: { names: [] }, exclude: { tags: [] } }]) assert.equal(filterHash(spec), h);
    assert.deepEqual(normalizeFilter({ include: { names: [] } }), {});
  });
  it('differs when the selection differs', () => {
    const hashes = new Set([
      filterHash({ include: { tags: ['db'] } }),
      filterHash({ exclude: { tags: ['db'] } }),
      filterHash({ include: { categories: ['db'] } }),
      filterHash({ include: { tags: ['db', 'x'] } }),
      filterHash({ include: { names: ['db'] } }),
      filterHash({}),
    ]);
    assert.equal(hashes.size, 6);
  });
});
