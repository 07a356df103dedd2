import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudEvent, HTTP } from 'cloudevents';
import { decodeEvent, EVENT_TYPES, PoisonEvent } from './decode.ts';

const registry = {
  apiVersion: 'toolhive.stacklok.io/v1alpha1',
  kind: 'MCPRegistry',
  metadata: { name: 'public', namespace: 'mcp', generation: 2, resourceVersion: '17' },
  spec: { source: { type: 'url', url: { url: 'https://example.com/r.json' } } },
};

// What Knative's ApiServerSource sends: binary mode, application/json, kind/name/namespace extensions.
function apiServerEvent(type: string, data: unknown) {
  return new CloudEvent({
    type,
    source: 'https://10.96.0.1:443',
    subject: '/apis/toolhive.stacklok.io/v1alpha1/namespaces/mcp/mcpregistries/public',
    datacontenttype: 'application/json',
    data,
    kind: 'MCPRegistry',
    name: 'public',
    namespace: 'mcp',
  });
}

function asMessage(m: { headers: Record<string, unknown>; body: unknown }) {
  return { headers: m.headers as Record<string, string>, body: String(m.body) };
}

test('binary-mode ApiServerSource update decodes to a resource event with the object', () => {
  const decoded = decodeEvent(asMessage(HTTP.binary(apiServerEvent(EVENT_TYPES.update, registry))));
  assert.equal(decoded.type, 'resource');
  assert.ok(decoded.type === 'resource');
  assert.equal(decoded.action, 'update');
  assert.equal(decoded.kind, 'MCPRegistry');
  assert.equal(decoded.object.metadata.generation, 2);
});

test('structured-mode delete decodes too', () => {
  const decoded = decodeEvent(asMessage(HTTP.structured(apiServerEvent(EVENT_TYPES.delete, registry))));
  assert.ok(decoded.type === 'resource' && decoded.action === 'delete');
});

test('charset=UTF-8 spelled in upper case still yields parsed JSON data', () => {
  const m = asMessage(HTTP.binary(apiServerEvent(EVENT_TYPES.add, registry)));
  m.headers['content-type'] = 'application/json; charset=UTF-8';
  const decoded = decodeEvent(m);
  assert.ok(decoded.type === 'resource' && decoded.object.metadata.name === 'public');
});

test('a PingSource tick decodes to ping', () => {
  const ping = new CloudEvent({ type: EVENT_TYPES.ping, source: '/apis/v1/namespaces/mcp/pingsources/resync', datacontenttype: 'application/json', data: { reason: 'resync' } });
  const decoded = decodeEvent(asMessage(HTTP.binary(ping)));
  assert.equal(decoded.type, 'ping');
  assert.ok(decoded.type === 'ping');
  assert.deepEqual(decoded.data, { reason: 'resync' });
});

test('poison: not a CloudEvent, missing type, unknown type, wrong kind, non-object data', () => {
  const cases: Array<[string, { headers: Record<string, string>; body: string }, number]> = [
    ['plain JSON', { headers: { 'content-type': 'application/json' }, body: '{"a":1}' }, 400],
    ['garbage structured', { headers: { 'content-type': 'application/cloudevents+json' }, body: '{not json' }, 400],
    ['missing type', { headers: { 'ce-id': '1', 'ce-source': '/x', 'ce-specversion': '1.0', 'content-type': 'application/json' }, body: '{}' }, 400],
    ['unknown type', asMessage(HTTP.binary(new CloudEvent({ type: 'com.example.other', source: '/x', data: {} }))), 400],
    ['wrong kind', asMessage(HTTP.binary(apiServerEvent(EVENT_TYPES.add, { ...registry, kind: 'Pod' }))), 422],
    ['data not an object', asMessage(HTTP.binary(apiServerEvent(EVENT_TYPES.add, 'hello'))), 422],
  ];
  for (const [name, message, status] of cases) {
    assert.throws(() => decodeEvent(message), (e: unknown) => e instanceof PoisonEvent && e.status === status, name);
  }
});
