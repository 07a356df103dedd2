import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ruleAllows, subjectMatches, type Attributes } from './rbac.ts';

const user = { username: 'alice', groups: ['devs'] };
const attrs = (a: Partial<Attributes>): Attributes => ({ user, verb: 'get', resourceRequest: true, apiGroup: '', resource: 'configmaps', ...a });

test('rule matching: wildcards, subresources, resource names, non-resource URLs', () => {
  assert.equal(ruleAllows({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, attrs({ verb: 'delete', apiGroup: 'x.io', resource: 'things' })), true);
  assert.equal(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }, attrs({ verb: 'list' })), false);
  assert.equal(ruleAllows({ verbs: ['get'], apiGroups: ['apps'], resources: ['configmaps'] }, attrs({})), false);
  assert.equal(ruleAllows({ verbs: ['patch'], apiGroups: ['x.io'], resources: ['widgets/status'] }, attrs({ verb: 'patch', apiGroup: 'x.io', resource: 'widgets', subresource: 'status' })), true);
  assert.equal(ruleAllows({ verbs: ['patch'], apiGroups: ['x.io'], resources: ['widgets/status'] }, attrs({ verb: 'patch', apiGroup: 'x.io', resource: 'widgets' })), false);
  assert.equal(ruleAllows({ verbs: ['patch'], apiGroups: ['x.io'], resources: ['*/status'] }, attrs({ verb: 'patch', apiGroup: 'x.io', resource: 'gadgets', subresource: 'status' })), true);
  assert.equal(ruleAllows({ verbs: ['patch'], apiGroups: ['x.io'], resources: ['widgets'] }, attrs({ verb: 'patch', apiGroup: 'x.io', resource: 'widgets', subresource: 'status' })), false);
  assert.equal(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['one'] }, attrs({ name: 'one' })), true);
  assert.equal(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['one'] }, attrs({ name: 'two' })), false);
  assert.equal(ruleAllows({ verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['one'] }, attrs({ verb: 'list' })), false);
  const nonResource = { user, verb: 'get', resourceRequest: false, path: '/apis/x.io/v1' };
  assert.equal(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, nonResource), true);
  assert.equal(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/api'] }, nonResource), false);
});

test('subjects: users, groups and service accounts (namespace defaults to the binding)', () => {
  assert.equal(subjectMatches({ kind: 'User', name: 'alice' }, user, undefined), true);
  assert.equal(subjectMatches({ kind: 'Group', name: 'devs' }, user, undefined), true);
  assert.equal(subjectMatches({ kind: 'Group', name: 'ops' }, user, undefined), false);
  const sa = { username: 'system:serviceaccount:tools:sync', groups: [] };
  assert.equal(subjectMatches({ kind: 'ServiceAccount', name: 'sync', namespace: 'tools' }, sa, undefined), true);
  assert.equal(subjectMatches({ kind: 'ServiceAccount', name: 'sync' }, sa, 'tools'), true);
  assert.equal(subjectMatches({ kind: 'ServiceAccount', name: 'sync' }, sa, 'other'), false);
});
