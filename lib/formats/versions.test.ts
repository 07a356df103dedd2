import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, parseSemver, pickLatest, responseCandidate } from './versions.ts';
import type { ServerResponse } from './upstream-schema.ts';

describe('versions', () => {
  it('recognises semver as the registry does: three numeric parts, optional v', () => {
    for (const v of ['1.2.3', 'v1.2.3', '0.0.0', '1.2.3-rc.1', '1.2.3+build.5', '10.20.30-alpha-1.beta+exp.sha.5114f85']) assert.ok(parseSemver(v), v);
    for (const v of ['1.2', '1', '1.2.3.4', '01.2.3', '1.2.3-01', 'latest', '2024-01-15', 'v1.2', '1.2.x']) assert.equal(parseSemver(v), undefined, v);
  });

  it('orders semver by precedence: pre-releases below the release, build metadata ignored', () => {
    const order = ['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', 'v1.0.1', '1.10.0', '2.0.0', '12345678901234567890.0.0'];
    for (let i = 0; i + 1 < order.length; i++) {
      assert.equal(compareVersions({ version: order[i] as string }, { version: order[i + 1] as string }), -1, `${order[i]} < ${order[i + 1]}`);
      assert.equal(compareVersions({ version: order[i + 1] as string }, { version: order[i] as string }), 1);
    }
    assert.equal(compareVersions({ version: '1.0.0+a' }, { version: '1.0.0+b' }), 0);
    assert.equal(compareVersions({ version: 'v1.0.0' }, { version: '1.0.0' }), 0);
  });

  it('neither semver: the more recently published wins; mixed: semver wins', () => {
    assert.equal(compareVersions({ version: '2024-06', publishedAt: '2025-01-02T00:00:00Z' }, { version: '2025-01', publishedAt: '2025-01-01T00:00:00Z' }), 1);
    assert.equal(compareVersions({ version: 'snapshot', publishedAt: '2030-01-01T00:00:00Z' }, { version: '0.0.1', publishedAt: '2020-01-01T00:00:00Z' }), -1);
  });

  const entry = (version: string, publishedAt: string, status = 'active'): ServerResponse => ({
    server: { name: 'io.github.a/b', description: 'd', version },
    _meta: { 'io.modelcontextprotocol.registry/official': { status: status as 'active', publishedAt } },
  });

  it('picks the latest, skipping deleted versions unless every version is deleted', () => {
    const list = [entry('1.0.0', '2025-01-01T00:00:00Z'), entry('1.2.0', '2025-02-01T00:00:00Z'), entry('2.0.0', '2025-03-01T00:00:00Z', 'deleted'), entry('1.1.0', '2025-04-01T00:00:00Z')];
    assert.equal(pickLatest(list, responseCandidate)?.server.version, '1.2.0');
    const deleted = list.map((e) => entry(e.server.version, '2025-01-01T00:00:00Z', 'deleted'));
    assert.equal(pickLatest(deleted, responseCandidate)?.server.version, '2.0.0');
    assert.equal(pickLatest([], responseCandidate), undefined);
  });

  it('on a tie the version published first stays latest', () => {
    const list = [entry('1.0.0+b', '2025-02-01T00:00:00Z'), entry('1.0.0+a', '2025-01-01T00:00:00Z')];
    assert.equal(pickLatest(list, responseCandidate)?.server.version, '1.0.0+a');
    assert.equal(pickLatest(list.slice().reverse(), responseCandidate)?.server.version, '1.0.0+a');
  });
});
