import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignToolhiveKeys, buildReverseDnsName, extractSimpleName } from './names.ts';

describe('names', () => {
  it('builds and extracts names the way ToolHive does', () => {
    assert.equal(buildReverseDnsName('fetch'), 'io.github.stacklok/fetch');
    assert.equal(buildReverseDnsName('com.acme/fetch'), 'com.acme/fetch');
    assert.equal(extractSimpleName('io.github.stacklok/fetch'), 'fetch');
    assert.equal(extractSimpleName('a/b/c'), 'a/b/c');
    assert.equal(extractSimpleName('plain'), 'plain');
  });

  it('gives unique keys: the simple name, ToolHive\'s own namespace first on a collision, else the smallest name', () => {
    const keys = assignToolhiveKeys(['com.zeta/fetch', 'io.github.stacklok/fetch', 'com.alpha/fetch', 'io.github.x/git', 'com.b/time', 'com.a/time']);
    assert.deepEqual(Object.fromEntries(keys), {
      'com.zeta/fetch': 'com.zeta/fetch',
      'io.github.stacklok/fetch': 'fetch',
      'com.alpha/fetch': 'com.alpha/fetch',
      'io.github.x/git': 'git',
      'com.b/time': 'com.b/time',
      'com.a/time': 'time',
    });
    // deterministic whatever the order
    const reversed = assignToolhiveKeys(['com.a/time', 'com.b/time']);
    assert.equal(reversed.get('com.a/time'), 'time');
    assert.equal(new Set(keys.values()).size, keys.size);
  });
});
