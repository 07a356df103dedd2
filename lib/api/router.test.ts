import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSegment, matchRoute, parseRegistryRef } from './router.ts';

test('upstream routes on the default registry and per registry, v0 and v0.1', () => {
  assert.deepEqual(matchRoute('/v0.1/servers'), { kind: 'up-list', registry: 'default', api: 'v0.1' });
  assert.deepEqual(matchRoute('/v0/servers'), { kind: 'up-list', registry: 'default', api: 'v0' });
  assert.deepEqual(matchRoute('/registries/team-a/public/v0.1/servers'), { kind: 'up-list', registry: { namespace: 'team-a', name: 'public' }, api: 'v0.1' });
  assert.deepEqual(matchRoute('/v0.1/servers/io.github.x%2Fweather/versions'), { kind: 'up-versions', registry: 'default', api: 'v0.1', server: 'io.github.x/weather' });
  assert.deepEqual(matchRoute('/registries/a/b/v0/servers/io.github.x%2Fw/versions/1.0.0%2Bbuild.1'), {
    kind: 'up-version',
    registry: { namespace: 'a', name: 'b' },
    api: 'v0',
    server: 'io.github.x/w',
    version: '1.0.0+build.1',
  });
  assert.equal(matchRoute('/v0.1/servers/io.github.x%252Fw/versions/latest').kind, 'up-version', 'double encoding tolerated');
  assert.equal((matchRoute('/v0.1/servers/io.github.x%252Fw/versions/latest') as { server: string }).server, 'io.github.x/w');
});

test('the official status-update paths are routes (every method 405), not unknown paths', () => {
  assert.deepEqual(matchRoute('/v0.1/servers/io.x%2Fw/status'), { kind: 'up-status', registry: 'default', api: 'v0.1', of: 'server' });
  assert.deepEqual(matchRoute('/registries/a/b/v0/servers/io.x%2Fw/versions/1.0.0/status'), { kind: 'up-status', registry: { namespace: 'a', name: 'b' }, api: 'v0', of: 'version' });
  for (const p of ['/v0.1/servers//status', '/v0.1/servers/x/versions//status', '/v0.1/servers/x/status/more', '/v0.1/servers/x/versions/1/status/more']) assert.equal(matchRoute(p).kind, 'not-found', p);
});

test('an unencoded slash, trailing slashes and unknown paths do not match', () => {
  for (const p of ['/v0.1/servers/io.github.x/weather/versions', '/v0.1/servers/', '/v0.1/servers/x%2Fy/versions/', '/v1/servers', '/', '/registries/a/v0.1/servers', '/api/v1/servers/a/b']) {
    assert.equal(matchRoute(p).kind, 'not-found', p);
  }
  assert.equal(matchRoute('/registries/Bad_NS/x/v0.1/servers').kind, 'bad-registry');
  assert.deepEqual(matchRoute('/v0.1/servers/%E0%A4%A/versions'), { kind: 'bad-encoding', location: 'path.serverName', value: '%E0%A4%A' });
});

test('ToolHive routes and the function endpoints', () => {
  assert.deepEqual(matchRoute('/api/v1/registries'), { kind: 'th-registries' });
  assert.deepEqual(matchRoute('/api/v1/registries/ns/name'), { kind: 'th-registry', registry: { namespace: 'ns', name: 'name' } });
  assert.deepEqual(matchRoute('/api/v1/servers'), { kind: 'th-servers' });
  assert.deepEqual(matchRoute('/api/v1/servers/io.github.x%2Fw'), { kind: 'th-server', name: 'io.github.x/w' });
  for (const k of ['healthz', 'readyz', 'events'] as const) assert.deepEqual(matchRoute(`/${k}`), { kind: k });
  assert.deepEqual(matchRoute('/openapi.json'), { kind: 'openapi' });
});

test('registry refs are Kubernetes names', () => {
  assert.deepEqual(parseRegistryRef('ns/my.reg-1'), { namespace: 'ns', name: 'my.reg-1' });
  for (const bad of ['ns', 'ns/', '/x', 'NS/x', 'ns/x/y', 'n.s/x', `${'a'.repeat(64)}/x`]) assert.equal(parseRegistryRef(bad), undefined, bad);
  assert.equal(decodeSegment('a%2Fb'), 'a/b');
  assert.equal(decodeSegment('%zz'), undefined);
});
