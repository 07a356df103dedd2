import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HTTP } from 'cloudevents';
import { parse } from 'yaml';
import { collectionPath, pingEvent, REGISTRY_RESOURCES, RESYNC_PING, resourceEvent, subjectOf, WORKLOAD_RESOURCES } from './event-bridge.ts';

const KNATIVE = join(import.meta.dirname, '..', '..', 'knative');

describe('event bridge: events and resources', () => {
  for (const [file, resources] of [['apiserversource.yaml', REGISTRY_RESOURCES], ['apiserversource-workloads.yaml', WORKLOAD_RESOURCES]] as const) {
    test(`watches exactly what knative/${file} watches`, async () => {
      const source = parse(await readFile(join(KNATIVE, file), 'utf8')) as {
        spec: { mode: string; resources: Array<{ apiVersion: string; kind: string; selector?: { matchLabels?: Record<string, string> } }> };
      };
      assert.equal(source.spec.mode, 'Resource');
      const fromYaml = source.spec.resources.map((r) => ({
        apiVersion: r.apiVersion,
        kind: r.kind,
        ...(r.selector?.matchLabels ? { labelSelector: Object.entries(r.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',') } : {}),
      }));
      assert.deepEqual(fromYaml, resources);
    });
  }

  test('ticks like knative/pingsource.yaml', async () => {
    const ping = parse(await readFile(join(KNATIVE, 'pingsource.yaml'), 'utf8')) as { metadata: { name: string; namespace: string }; spec: { data: string; contentType: string } };
    assert.equal(RESYNC_PING.source, `/apis/v1/namespaces/${ping.metadata.namespace}/pingsources/${ping.metadata.name}`);
    assert.deepEqual(RESYNC_PING.data, JSON.parse(ping.spec.data));
    const message = HTTP.binary(pingEvent());
    assert.equal(message.headers['ce-type'], 'dev.knative.sources.ping');
    assert.equal(message.headers['content-type'], ping.spec.contentType);
  });

  test('paths and subjects use the plural Knative derives from the kind', () => {
    assert.equal(collectionPath({ apiVersion: 'toolhive.stacklok.io/v1alpha1', kind: 'MCPRegistry' }), '/apis/toolhive.stacklok.io/v1alpha1/mcpregistries');
    assert.equal(collectionPath({ apiVersion: 'v1', kind: 'ConfigMap' }), '/api/v1/configmaps');
    assert.equal(subjectOf('v1', 'ConfigMap', 'ns', 'cm'), '/apis/v1/namespaces/ns/configmaps/cm');
    assert.equal(subjectOf('example.com/v1', 'Thing', '', 'x'), '/apis/example.com/v1/namespaces//things/x');
  });

  test('an object the event cannot describe is refused with a reason, not a crash later', () => {
    const r = REGISTRY_RESOURCES[0]!;
    assert.throws(() => resourceEvent('add', null, r, 'http://api'), /not an object/);
    assert.throws(() => resourceEvent('add', [1], r, 'http://api'), /not an object/);
    assert.throws(() => resourceEvent('add', { metadata: {} }, r, 'http://api'), /no metadata.name/);
    assert.throws(() => resourceEvent('add', { metadata: { name: 42 } }, r, 'http://api'), /no metadata.name/);
  });

  test('kind and apiVersion fall back to the watched resource; a cluster-scoped object has no namespace extension', () => {
    const event = resourceEvent('delete', { metadata: { name: 'x' } }, REGISTRY_RESOURCES[0]!, 'http://127.0.0.1:6443');
    const message = HTTP.binary(event);
    assert.equal(message.headers['ce-type'], 'dev.knative.apiserver.resource.delete');
    assert.equal(message.headers['ce-kind'], 'MCPRegistry');
    assert.equal(message.headers['ce-apiversion'], 'toolhive.stacklok.io/v1alpha1');
    assert.equal(message.headers['ce-namespace'], undefined);
    assert.equal(message.headers['ce-subject'], '/apis/toolhive.stacklok.io/v1alpha1/namespaces//mcpregistries/x');
    assert.deepEqual(JSON.parse(String(message.body)), { metadata: { name: 'x' } });
  });
});
