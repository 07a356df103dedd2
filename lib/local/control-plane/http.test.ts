import assert from 'node:assert/strict';
import { test } from 'node:test';
import { negotiate, requestInfo } from './http.ts';

const info = (method: string, path: string) => requestInfo(method, new URL(`http://x${path}`));

test('request info follows kube-apiserver: namespaces, subresources, collections, watches', () => {
  assert.deepEqual(info('GET', '/api/v1/namespaces/ns/configmaps/cm'), { resourceRequest: true, path: '/api/v1/namespaces/ns/configmaps/cm', verb: 'get', apiPrefix: 'api', group: '', version: 'v1', namespace: 'ns', resource: 'configmaps', name: 'cm' });
  assert.equal(info('GET', '/apis/x.io/v1/widgets').verb, 'list');
  assert.equal(info('GET', '/apis/x.io/v1/widgets?watch=true').verb, 'watch');
  assert.equal(info('DELETE', '/api/v1/namespaces/ns/configmaps').verb, 'deletecollection');
  const ns = info('PUT', '/api/v1/namespaces/ns/status');
  assert.deepEqual([ns.resource, ns.name, ns.subresource, ns.namespace], ['namespaces', 'ns', 'status', 'ns']);
  const sub = info('PATCH', '/apis/x.io/v1/namespaces/ns/widgets/w/status');
  assert.deepEqual([sub.verb, sub.group, sub.resource, sub.name, sub.subresource], ['patch', 'x.io', 'widgets', 'w', 'status']);
  assert.equal(info('GET', '/apis/x.io/v1').resourceRequest, false);
  assert.equal(info('GET', '/version').resourceRequest, false);
});

test('content negotiation picks the first representation the server can produce', () => {
  assert.deepEqual(negotiate('application/json;as=Table;v=v1;g=meta.k8s.io,application/json', { table: true }), { kind: 'table', version: 'v1' });
  assert.deepEqual(negotiate('application/json;as=Table;v=v1;g=meta.k8s.io,application/json', {}), { kind: 'json' });
  assert.deepEqual(negotiate('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json', { discovery: true }), { kind: 'discovery', version: 'v2' });
  assert.deepEqual(negotiate(undefined, {}), { kind: 'json' });
  assert.deepEqual(negotiate('application/vnd.kubernetes.protobuf,application/json', {}), { kind: 'json' });
  assert.throws(() => negotiate('application/vnd.kubernetes.protobuf', {}), (e: { code: number }) => e.code === 406);
});
