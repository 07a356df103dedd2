/**
 * The embedded control plane driven by @kubernetes/client-node: CRUD, optimistic concurrency,
 * custom resources (defaults, validation, status and generation rules), selectors, paging,
 * informers, finalizers, namespaces, garbage collection, patches and server-side apply.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane/index.ts';
import { createWidgetCrd, eventually, raw, statusOf, widget } from '../servers/control-plane.ts';

const NS = 'default';
const W = { group: 'example.com', version: 'v1', plural: 'widgets' };

async function rejects(p: Promise<unknown>, code: number, reason?: string): Promise<ReturnType<typeof statusOf>> {
  try {
    await p;
  } catch (e) {
    const status = statusOf(e);
    assert.equal((e as { code?: number }).code, code, `expected HTTP ${code}, got ${(e as { code?: number }).code}: ${JSON.stringify(status)}`);
    if (reason) assert.equal(status.reason, reason);
    return status;
  }
  assert.fail(`expected HTTP ${code}, but the call succeeded`);
}

describe('control plane through @kubernetes/client-node', () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;

  before(async () => {
    cp = await startControlPlane();
    const kc = cp.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    await createWidgetCrd(cp);
  });
  after(() => cp.stop());

  test('ConfigMap create, get, list, replace, delete', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'crud' }, data: { a: '1' } } });
    assert.match(created.metadata!.uid!, /^[0-9a-f-]{36}$/);
    assert.match(created.metadata!.creationTimestamp!.toISOString(), /^\d{4}-/);
    assert.equal(created.metadata!.generation, undefined, 'ConfigMaps do not track generation');
    const got = await core.readNamespacedConfigMap({ name: 'crud', namespace: NS });
    assert.deepEqual(got.data, { a: '1' });
    got.data = { a: '2' };
    const replaced = await core.replaceNamespacedConfigMap({ name: 'crud', namespace: NS, body: got });
    assert.ok(Number(replaced.metadata!.resourceVersion) > Number(created.metadata!.resourceVersion));
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    assert.ok(list.items.some((c) => c.metadata!.name === 'crud' && c.data!.a === '2'));
    await core.deleteNamespacedConfigMap({ name: 'crud', namespace: NS });
    const status = await rejects(core.readNamespacedConfigMap({ name: 'crud', namespace: NS }), 404, 'NotFound');
    assert.equal(status.message, 'configmaps "crud" not found');
  });

  test('Secrets (stringData folded into data), Leases, Events and ServiceAccounts behave as built-in kinds', async () => {
    const { CoordinationV1Api } = await import('@kubernetes/client-node');
    const secret = await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 's' }, stringData: { password: 'hunter2' } } });
    assert.deepEqual(secret.data, { password: Buffer.from('hunter2').toString('base64') });
    assert.equal(secret.type, 'Opaque');
    assert.equal(secret.stringData, undefined, 'stringData is write-only');
    await rejects(core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 's2' }, data: { k: 'not base64!' } } }), 422);

    const leases = cp.kubeConfig().makeApiClient(CoordinationV1Api);
    const now = new Date();
    const lease = await leases.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15, renewTime: now } } });
    lease.spec!.holderIdentity = 'pod-b';
    const taken = await leases.replaceNamespacedLease({ name: 'leader', namespace: NS, body: lease });
    assert.equal(taken.spec!.holderIdentity, 'pod-b');
    await rejects(leases.replaceNamespacedLease({ name: 'leader', namespace: NS, body: lease }), 409, 'Conflict');

    await core.createNamespacedEvent({
      namespace: NS,
      body: { metadata: { name: 'e1' }, involvedObject: { kind: 'Widget', name: 'w', namespace: NS }, reason: 'Synced', message: 'ok', type: 'Normal' },
    });
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.kind=Widget,reason=Synced' });
    assert.deepEqual(events.items.map((e) => e.metadata!.name), ['e1']);

    await core.createNamespace({ body: { metadata: { name: 'with-sa' } } });
    const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: 'with-sa' });
    assert.equal(sa.metadata!.namespace, 'with-sa', 'each namespace gets a default ServiceAccount');
  });

  test('creating twice is AlreadyExists; a namespace that does not exist is NotFound', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'twice' } } });
    await rejects(core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'twice' } } }), 409, 'AlreadyExists');
    const status = await rejects(core.createNamespacedConfigMap({ namespace: 'nowhere', body: { metadata: { name: 'x' } } }), 404, 'NotFound');
    assert.equal(status.message, 'namespaces "nowhere" not found');
    assert.equal(status.details.kind, 'namespaces');
  });

  test('an update with a stale resourceVersion is a 409 Conflict', async () => {
    const first = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'stale' }, data: { v: '1' } } });
    await core.replaceNamespacedConfigMap({ name: 'stale', namespace: NS, body: { ...first, data: { v: '2' } } });
    const status = await rejects(core.replaceNamespacedConfigMap({ name: 'stale', namespace: NS, body: { ...first, data: { v: '3' } } }), 409, 'Conflict');
    assert.match(status.message!, /the object has been modified/);
    assert.equal((await core.readNamespacedConfigMap({ name: 'stale', namespace: NS })).data!.v, '2');
  });

  test('custom resources are served once the CRD exists, with defaults, generation 1 and no status on create', async () => {
    const created = await custom.createNamespacedCustomObject({ ...W, namespace: NS, body: { ...widget('defaults', { size: 2 }), status: { observedGeneration: 9 } } });
    assert.equal(created.spec.color, 'red', 'default applied');
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.status, undefined, 'status is dropped on create when it is a subresource');
  });

  test('generation changes with the spec only; status and metadata updates leave it alone', async () => {
    let w = await custom.createNamespacedCustomObject({ ...W, namespace: NS, body: widget('gen', { size: 2 }) });
    w = await custom.patchNamespacedCustomObject({ ...W, namespace: NS, name: 'gen', body: { metadata: { labels: { a: 'b' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    assert.equal(w.metadata.generation, 1, 'labels are metadata');
    w = await custom.patchNamespacedCustomObjectStatus({ ...W, namespace: NS, name: 'gen', body: { status: { observedGeneration: 1 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    assert.equal(w.metadata.generation, 1, 'status is not spec');
    assert.equal(w.status.observedGeneration, 1);
    w = await custom.patchNamespacedCustomObject({ ...W, namespace: NS, name: 'gen', body: { spec: { size: 3 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    assert.equal(w.metadata.generation, 2);
    const rv = w.metadata.resourceVersion;
    w = await custom.patchNamespacedCustomObject({ ...W, namespace: NS, name: 'gen', body: { spec: { size: 3 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    assert.equal(w.metadata.resourceVersion, rv, 'a no-op patch writes nothing');
  });

  test('the status subresource: status ignored on the main resource, everything else ignored on /status', async () => {
    const w = await custom.createNamespacedCustomObject({ ...W, namespace: NS, body: widget('sub', { size: 2 }) });
    const viaMain = await custom.replaceNamespacedCustomObject({
      ...W,
      namespace: NS,
      name: 'sub',
      body: { ...w, spec: { ...w.spec, size: 4 }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
    });
    assert.equal(viaMain.spec.size, 4);
    assert.equal(viaMain.status, undefined, 'status written through the main resource is ignored');
    const viaStatus = await custom.replaceNamespacedCustomObjectStatus({
      ...W,
      namespace: NS,
      name: 'sub',
      body: { ...viaMain, spec: { ...viaMain.spec, size: 50 }, metadata: { ...viaMain.metadata, labels: { x: 'y' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
    });
    assert.equal(viaStatus.spec.size, 4, 'spec written through /status is ignored');
    assert.equal(viaStatus.metadata.labels, undefined, 'metadata written through /status is ignored');
    assert.deepEqual(viaStatus.status.conditions, [{ type: 'Ready', status: 'True' }]);
    assert.equal(viaStatus.metadata.generation, viaMain.metadata.generation);
  });

  test('invalid custom resources are rejected with 422 and every field path', async () => {
    const status = await rejects(
      custom.createNamespacedCustomObject({ ...W, namespace: NS, body: widget('bad', { size: 0, color: 'purple', name: 'Bad1', tags: ['a', 'b', 'c', 'd'], port: 1.5 }) }),
      422,
      'Invalid',
    );
    const fields = Object.fromEntries(status.details.causes.map((c: { field: string; reason: string; message: string }) => [c.field, c]));
    assert.equal(fields['spec.size'].reason, 'FieldValueInvalid');
    assert.match(fields['spec.size'].message, /should be greater than or equal to 1/);
    assert.equal(fields['spec.color'].reason, 'FieldValueNotSupported');
    assert.equal(fields['spec.color'].message, 'Unsupported value: "purple": supported values: "red", "green", "blue", "black"');
    assert.match(fields['spec.name'].message, /should match '\^\[a-z\]\+\$'/);
    assert.equal(fields['spec.tags'].reason, 'FieldValueTooMany');
    assert.equal(fields['spec.port'].reason, 'FieldValueTypeInvalid');
    assert.match(status.message!, /^Widget\.example\.com "bad" is invalid: \[/);

    const missing = await rejects(custom.createNamespacedCustomObject({ ...W, namespace: NS, body: widget('bad2', {}) }), 422);
    assert.deepEqual(
      missing.details.causes.map((c: { field: string; message: string }) => [c.field, c.message]),
      [
        ['spec.size', 'Required value'],
        // a required error blocks every CEL rule, as in kube-apiserver
        ['<nil>', 'Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation'],
      ],
    );
    const cel = await rejects(custom.createNamespacedCustomObject({ ...W, namespace: NS, body: widget('bad3', { size: 2, color: 'black' }) }), 422);
    assert.equal(cel.details.causes[0].field, 'spec');
    assert.match(cel.details.causes[0].message, /black widgets must be bigger than 5/);
  });

  test('transition rules (oldSelf) run on updates only', async () => {
    await custom.createNamespacedCustomObject({ ...W, namespace: NS, body: widget('grow', { size: 5 }) });
    const status = await rejects(
      custom.patchNamespacedCustomObject({ ...W, namespace: NS, name: 'grow', body: { spec: { size: 4 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      422,
    );
    assert.match(status.message!, /size may not shrink/);
  });

  test('unknown fields are pruned with a warning, or rejected under fieldValidation=Strict', async () => {
    const res = await raw(cp, 'POST', `/apis/example.com/v1/namespaces/${NS}/widgets`, {
      contentType: 'application/json',
      body: JSON.stringify(widget('pruned', { size: 2, bogus: true, extra: { kept: 1 } })),
    });
    assert.equal(res.status, 201);
    assert.equal(res.json().spec.bogus, undefined);
    assert.deepEqual(res.json().spec.extra, { kept: 1 }, 'x-kubernetes-preserve-unknown-fields keeps unknown fields');
    assert.match(res.headers.get('warning') ?? '', /unknown field \\"spec.bogus\\"/);
    const strict = await raw(cp, 'POST', `/apis/example.com/v1/namespaces/${NS}/widgets?fieldValidation=Strict`, {
      contentType: 'application/json',
      body: JSON.stringify(widget('strict', { size: 2, bogus: true })),
    });
    assert.equal(strict.status, 400);
    assert.match(strict.json().message, /strict decoding error: unknown field "spec.bogus"/);
  });

  test('label selectors (=, !=, in, notin, exists, !exists), field selectors, limit and continue', async () => {
    const labels: Record<string, Record<string, string>> = { s1: { app: 'a', tier: 'web' }, s2: { app: 'b' }, s3: { app: 'c', tier: 'db' }, s4: {} };
    for (const [name, l] of Object.entries(labels)) await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `sel-${name}`, labels: { ...l, sel: 'yes' } } } });
    const names = async (labelSelector: string, fieldSelector?: string) =>
      (await core.listNamespacedConfigMap({ namespace: NS, labelSelector: `sel=yes,${labelSelector}`.replace(/,$/, ''), ...(fieldSelector ? { fieldSelector } : {}) })).items
        .map((c) => c.metadata!.name!.slice(4))
        .sort();
    assert.deepEqual(await names('app=a'), ['s1']);
    assert.deepEqual(await names('app==b'), ['s2']);
    assert.deepEqual(await names('app!=a'), ['s2', 's3', 's4']);
    assert.deepEqual(await names('app in (a, c)'), ['s1', 's3']);
    assert.deepEqual(await names('app notin (a,c)'), ['s2', 's4']);
    assert.deepEqual(await names('tier'), ['s1', 's3']);
    assert.deepEqual(await names('!tier'), ['s2', 's4']);
    assert.deepEqual(await names('', 'metadata.name=sel-s3'), ['s3']);
    assert.deepEqual(await names('', 'metadata.name!=sel-s3,metadata.namespace=default'), ['s1', 's2', 's4']);
    await rejects(core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'app in (a' }), 400, 'BadRequest');
    await rejects(core.listNamespacedConfigMap({ namespace: NS, fieldSelector: 'spec.size=1' }), 400, 'BadRequest');

    const page1 = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'sel=yes', limit: 3 });
    assert.equal(page1.items.length, 3);
    assert.equal(page1.metadata!.remainingItemCount, 1);
    const page2 = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'sel=yes', limit: 3, _continue: page1.metadata!._continue! });
    assert.deepEqual(page2.items.map((c) => c.metadata!.name), ['sel-s4']);
    assert.equal(page2.metadata!._continue, undefined);
  });

  test('an informer sees add, update and delete', async () => {
    const kc = cp.kubeConfig();
    const path = `/apis/example.com/v1/namespaces/${NS}/widgets`;
    const informer = makeInformer<KubernetesObject & { spec?: { size?: number } }>(kc, path, () => custom.listNamespacedCustomObject({ ...W, namespace: NS, labelSelector: 'informer=yes' }) as never, 'informer=yes');
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata!.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata!.name} ${o.spec?.size}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata!.name}`));
    await custom.createNamespacedCustomObject({ ...W, namespace: NS, body: widget('inf-before', { size: 1 }, { labels: { informer: 'yes' } }) });
    await informer.start();
    try {
      await eventually(() => seen.includes('add inf-before'), 3000, 'initial list');
      await custom.createNamespacedCustomObject({ ...W, namespace: NS, body: widget('inf', { size: 1 }, { labels: { informer: 'yes' } }) });
      await custom.createNamespacedCustomObject({ ...W, namespace: NS, body: widget('inf-other', { size: 1 }) });
      await custom.patchNamespacedCustomObject({ ...W, namespace: NS, name: 'inf', body: { spec: { size: 7 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await custom.deleteNamespacedCustomObject({ ...W, namespace: NS, name: 'inf' });
      await eventually(() => seen.includes('delete inf'), 3000, 'delete event');
      assert.deepEqual(seen, ['add inf-before', 'add inf', 'update inf 7', 'delete inf']);
      assert.deepEqual(informer.list().map((o) => o.metadata!.name), ['inf-before']);
    } finally {
      await informer.stop();
    }
  });

  test('finalizers hold a deleted object (deletionTimestamp) until the last one is removed', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
    await core.deleteNamespacedConfigMap({ name: 'held', namespace: NS });
    const held = await core.readNamespacedConfigMap({ name: 'held', namespace: NS });
    assert.ok(held.metadata!.deletionTimestamp, 'marked for deletion');
    await rejects(
      core.patchNamespacedConfigMap({ name: 'held', namespace: NS, body: { metadata: { finalizers: ['example.com/hold', 'example.com/more'] } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      422,
    );
    await core.patchNamespacedConfigMap({ name: 'held', namespace: NS, body: [{ op: 'remove', path: '/metadata/finalizers' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await rejects(core.readNamespacedConfigMap({ name: 'held', namespace: NS }), 404);
  });

  test('deleting a namespace deletes what is in it; dependents are garbage-collected through ownerReferences', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    const owner = await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'owner' } } });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! };
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'dependent', ownerReferences: [ref] } } });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'bystander' } } });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace: 'doomed' });
    assert.deepEqual((await core.listNamespacedConfigMap({ namespace: 'doomed' })).items.map((c) => c.metadata!.name), ['bystander']);

    await core.deleteNamespace({ name: 'doomed' });
    await rejects(core.readNamespace({ name: 'doomed' }), 404);
    assert.equal((await core.listNamespacedConfigMap({ namespace: 'doomed' })).items.length, 0);
    await rejects(core.deleteNamespace({ name: 'default' }), 403, 'Forbidden');
  });

  test('JSON patch, strategic merge patch on built-ins, 415 for strategic merge patch on custom resources', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'patched', finalizers: ['a.io/x'] }, data: { a: '1', b: '2' } } });
    let cm = await core.patchNamespacedConfigMap({ name: 'patched', namespace: NS, body: [{ op: 'replace', path: '/data/a', value: '9' }, { op: 'remove', path: '/data/b' }] });
    assert.deepEqual(cm.data, { a: '9' });
    cm = await core.patchNamespacedConfigMap(
      { name: 'patched', namespace: NS, body: { metadata: { finalizers: ['a.io/y'] }, data: { c: '3' } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(cm.metadata!.finalizers, ['a.io/x', 'a.io/y'], 'finalizers merge as a set in a strategic merge patch');
    assert.deepEqual(cm.data, { a: '9', c: '3' });
    await rejects(core.patchNamespacedConfigMap({ name: 'patched', namespace: NS, body: [{ op: 'test', path: '/data/a', value: 'nope' }] }), 422);
    await custom.createNamespacedCustomObject({ ...W, namespace: NS, body: widget('smp', { size: 1 }) });
    await rejects(
      custom.patchNamespacedCustomObject({ ...W, namespace: NS, name: 'smp', body: { spec: { size: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)),
      415,
    );
    await core.patchNamespacedConfigMap({ name: 'patched', namespace: NS, body: [{ op: 'remove', path: '/metadata/finalizers' }] });
  });

  test('server-side apply creates, owns fields, removes what it stops applying, and conflicts with other managers', async () => {
    const apply = (body: object, manager: string, force = false) =>
      custom.patchNamespacedCustomObject({ ...W, namespace: NS, name: 'ssa', body, fieldManager: manager, force }, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply));
    let w = await apply(widget('ssa', { size: 3, tags: ['a'] }), 'tool-a');
    assert.equal(w.spec.size, 3);
    assert.ok(w.metadata.managedFields.some((e: { manager: string; operation: string }) => e.manager === 'tool-a' && e.operation === 'Apply'));
    w = await apply(widget('ssa', { size: 3 }), 'tool-a');
    assert.equal(w.spec.tags, undefined, 'a field no longer applied is removed');
    const status = await rejects(apply(widget('ssa', { size: 4 }), 'tool-b'), 409, 'Conflict');
    assert.match(status.message!, /conflict with "tool-a": \.spec\.size/);
    w = await apply(widget('ssa', { size: 4 }), 'tool-b', true);
    assert.equal(w.spec.size, 4);
    w = await apply(widget('ssa', { size: 4, name: 'shared' }), 'tool-a');
    assert.equal(w.spec.name, 'shared', 'same value: co-ownership, no conflict');
  });

  test('a uid in an apply configuration is a precondition: no create of a missing object, no change of a replaced one', async () => {
    const apply = (name: string, uid: string) =>
      custom.patchNamespacedCustomObject({ ...W, namespace: NS, name, body: { ...widget(name, { size: 5 }), metadata: { name, uid } }, fieldManager: 'tool-u', force: true }, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply));
    const missing = await rejects(apply('ssa-uid', '88e00824-7f0e-11e8-94a1-c8d3ffb15800'), 409, 'Conflict');
    assert.match(missing.message!, /Precondition failed: UID in precondition: 88e00824/);
    await rejects(custom.getNamespacedCustomObject({ ...W, namespace: NS, name: 'ssa-uid' }), 404, 'NotFound');
    const created = await custom.createNamespacedCustomObject({ ...W, namespace: NS, body: widget('ssa-uid', { size: 2 }) });
    const other = await rejects(apply('ssa-uid', '88e00824-7f0e-11e8-94a1-c8d3ffb15800'), 409, 'Conflict');
    assert.match(other.message!, new RegExp(`UID in object meta: ${created.metadata.uid}`));
    const w = await apply('ssa-uid', created.metadata.uid);
    assert.equal(w.spec.size, 5, 'the uid it has: applied');
  });
});

describe('control plane RBAC, TokenReview and SubjectAccessReview', () => {
  let cp: ControlPlane;

  before(async () => {
    cp = await startControlPlane({
      tokens: [
        { token: 'alice-token', user: 'alice', groups: ['devs'] },
        { token: 'sa-token', user: 'system:serviceaccount:tools:sync', groups: ['system:serviceaccounts', 'system:serviceaccounts:tools'] },
      ],
    });
  });
  after(() => cp.stop());

  test('requests without or with an unknown token are 401', async () => {
    assert.equal((await raw(cp, 'GET', '/api/v1/namespaces', { token: null })).status, 401);
    const res = await raw(cp, 'GET', '/api/v1/namespaces', { token: 'nope' });
    assert.equal(res.status, 401);
    assert.equal(res.json().reason, 'Unauthorized');
  });

  test('TokenReview tells who a token belongs to', async () => {
    const { AuthenticationV1Api } = await import('@kubernetes/client-node');
    const api = cp.kubeConfig().makeApiClient(AuthenticationV1Api);
    const ok = await api.createTokenReview({ body: { spec: { token: 'alice-token' } } });
    assert.equal(ok.status!.authenticated, true);
    assert.equal(ok.status!.user!.username, 'alice');
    assert.deepEqual(ok.status!.user!.groups, ['devs', 'system:authenticated']);
    const bad = await api.createTokenReview({ body: { spec: { token: 'forged' } } });
    assert.equal(bad.status!.authenticated, false);
  });

  test('every request is authorized from stored RBAC; SubjectAccessReview agrees', async () => {
    const { AuthorizationV1Api, RbacAuthorizationV1Api } = await import('@kubernetes/client-node');
    const admin = cp.kubeConfig();
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const authz = admin.makeApiClient(AuthorizationV1Api);
    const aliceCore = cp.kubeConfig('alice').makeApiClient(CoreV1Api);
    const sar = async (spec: object) => (await authz.createSubjectAccessReview({ body: { spec } as never })).status!;
    const alice = { user: 'alice', groups: ['devs', 'system:authenticated'] };

    const denied = await rejects(aliceCore.listNamespacedConfigMap({ namespace: NS }), 403, 'Forbidden');
    assert.equal(denied.message, 'configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" in the namespace "default"');
    assert.equal((await sar({ ...alice, resourceAttributes: { namespace: NS, verb: 'list', resource: 'configmaps' } })).allowed, false);

    await rbac.createNamespacedRole({
      namespace: NS,
      body: {
        metadata: { name: 'cm-reader' },
        rules: [
          { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['secrets'], resourceNames: ['only-this'], verbs: ['get'] },
          { apiGroups: ['example.com'], resources: ['widgets/status'], verbs: ['patch'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: NS,
      body: { metadata: { name: 'devs-read' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' }, subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' }] },
    });

    assert.ok(Array.isArray((await aliceCore.listNamespacedConfigMap({ namespace: NS })).items));
    await rejects(aliceCore.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'x' } } }), 403);
    await rejects(aliceCore.listNamespacedConfigMap({ namespace: 'kube-system' }), 403);
    const allowed = await sar({ ...alice, resourceAttributes: { namespace: NS, verb: 'list', resource: 'configmaps' } });
    assert.equal(allowed.allowed, true);
    assert.match(allowed.reason!, /RoleBinding "devs-read\/default" of Role "cm-reader" to Group "devs"/);
    assert.equal((await sar({ ...alice, resourceAttributes: { namespace: NS, verb: 'get', resource: 'secrets', name: 'only-this' } })).allowed, true);
    assert.equal((await sar({ ...alice, resourceAttributes: { namespace: NS, verb: 'get', resource: 'secrets', name: 'other' } })).allowed, false);
    assert.equal((await sar({ ...alice, resourceAttributes: { namespace: NS, verb: 'patch', group: 'example.com', resource: 'widgets', subresource: 'status' } })).allowed, true);
    assert.equal((await sar({ ...alice, resourceAttributes: { namespace: NS, verb: 'patch', group: 'example.com', resource: 'widgets' } })).allowed, false);
    assert.equal((await sar({ user: 'mallory', resourceAttributes: { namespace: NS, verb: 'list', resource: 'configmaps' } })).allowed, false);
  });

  test('service accounts are matched as ServiceAccount subjects and through their groups', async () => {
    const { AuthorizationV1Api, RbacAuthorizationV1Api } = await import('@kubernetes/client-node');
    const admin = cp.kubeConfig();
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const authz = admin.makeApiClient(AuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: 'widget-writer' }, rules: [{ apiGroups: ['example.com'], resources: ['*'], verbs: ['*'] }] } });
    await rbac.createClusterRoleBinding({
      body: { metadata: { name: 'sa-widgets' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'widget-writer' }, subjects: [{ kind: 'ServiceAccount', name: 'sync', namespace: 'tools' }] },
    });
    await rbac.createClusterRole({ body: { metadata: { name: 'ns-reader' }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'] }] } });
    await rbac.createClusterRoleBinding({
      body: { metadata: { name: 'all-sas' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ns-reader' }, subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:serviceaccounts:tools' }] },
    });
    const sa = cp.kubeConfig('system:serviceaccount:tools:sync');
    assert.equal((await sa.makeApiClient(CoreV1Api).readNamespace({ name: 'default' })).metadata!.name, 'default');
    const can = async (user: string, groups: string[], verb: string, resource: string, group = '') =>
      (await authz.createSubjectAccessReview({ body: { spec: { user, groups, resourceAttributes: { verb, resource, group, namespace: 'any' } } } })).status!.allowed;
    assert.equal(await can('system:serviceaccount:tools:sync', [], 'delete', 'widgets', 'example.com'), true);
    assert.equal(await can('system:serviceaccount:other:sync', [], 'delete', 'widgets', 'example.com'), false);
    assert.equal(await can('someone', ['system:serviceaccounts:tools'], 'get', 'namespaces'), true);
    assert.equal(await can('someone', ['system:serviceaccounts:other'], 'get', 'namespaces'), false);
    assert.equal(await can('anyone', ['system:masters'], 'delete', 'anything', 'any.group'), true);
  });
});

describe('control plane watches and persistence', () => {
  test('a watch from a version older than the history gets a 410 Expired ERROR event', async () => {
    const cp = await startControlPlane({ historyLimit: 5 });
    try {
      const core = cp.kubeConfig().makeApiClient(CoreV1Api);
      const first = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'hist' }, data: { n: '0' } } });
      for (let i = 1; i <= 8; i++) await core.replaceNamespacedConfigMap({ name: 'hist', namespace: NS, body: { metadata: { name: 'hist' }, data: { n: String(i) } } as V1ConfigMap });
      const res = await raw(cp, 'GET', `/api/v1/namespaces/${NS}/configmaps?watch=1&resourceVersion=${first.metadata!.resourceVersion}`);
      const event = JSON.parse(res.text.trim().split('\n')[0]!);
      assert.equal(event.type, 'ERROR');
      assert.equal(event.object.code, 410);
      assert.equal(event.object.reason, 'Expired');
      const recent = await core.listNamespacedConfigMap({ namespace: NS });
      const ac = new AbortController();
      const stream = await fetch(`${cp.url}/api/v1/namespaces/${NS}/configmaps?watch=1&resourceVersion=${recent.metadata!.resourceVersion}`, {
        headers: { authorization: `Bearer ${cp.tokenFor()}` },
        signal: ac.signal,
      });
      const reader = stream.body!.getReader();
      await core.replaceNamespacedConfigMap({ name: 'hist', namespace: NS, body: { metadata: { name: 'hist' }, data: { n: 'live' } } as V1ConfigMap });
      const { value } = await reader.read();
      const live = JSON.parse(new TextDecoder().decode(value).split('\n')[0]!);
      assert.equal(live.type, 'MODIFIED');
      assert.equal(live.object.data.n, 'live');
      ac.abort();
      await reader.cancel().catch(() => {});
    } finally {
      await cp.stop();
    }
  });

  test('a watch with a label selector sees objects enter (ADDED) and leave (DELETED) the selection', async () => {
    const cp = await startControlPlane();
    const ac = new AbortController();
    try {
      const core = cp.kubeConfig().makeApiClient(CoreV1Api);
      const list = await core.listNamespacedConfigMap({ namespace: NS });
      const res = await fetch(`${cp.url}/api/v1/namespaces/${NS}/configmaps?watch=1&labelSelector=team%3Dblue&resourceVersion=${list.metadata!.resourceVersion}`, {
        headers: { authorization: `Bearer ${cp.tokenFor()}` },
        signal: ac.signal,
      });
      const reader = res.body!.getReader();
      let buffer = '';
      const events: string[] = [];
      const next = async () => {
        while (!buffer.includes('\n')) buffer += new TextDecoder().decode((await reader.read()).value);
        const line = buffer.slice(0, buffer.indexOf('\n'));
        buffer = buffer.slice(line.length + 1);
        const e = JSON.parse(line);
        events.push(`${e.type} ${e.object.metadata.name} ${e.object.metadata.labels?.team ?? '-'}`);
      };
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'red', labels: { team: 'red' } } } });
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'blue', labels: { team: 'blue' } } } });
      await next();
      const patch = (name: string, team: string) =>
        core.patchNamespacedConfigMap({ name, namespace: NS, body: { metadata: { labels: { team } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await patch('red', 'blue');
      await next();
      await patch('blue', 'green');
      await next();
      assert.deepEqual(events, ['ADDED blue blue', 'ADDED red blue', 'DELETED blue green']);
      await reader.cancel().catch(() => {});
    } finally {
      ac.abort();
      await cp.stop();
    }
  });

  test('an unreadable state file stops the start with an error naming the file', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'cp-corrupt-'));
    try {
      await writeFile(join(dir, 'state.json'), '{"version":1,"savedAt":"x","resourceVersion":"not a number"');
      await assert.rejects(startControlPlane({ dataDir: dir }), (e: { code: string; describe(): string }) => e.code === 'invalid_json' && e.describe().startsWith(join(dir, 'state.json')));
      await writeFile(join(dir, 'state.json'), '{"version":1,"savedAt":"x","resourceVersion":-1,"collections":{}}');
      await assert.rejects(startControlPlane({ dataDir: dir }), (e: { code: string; describe(): string }) => e.code === 'invalid_document' && e.describe().includes('resourceVersion'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('state survives a restart from the data directory', async () => {
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'cp-persist-'));
    try {
      let cp = await startControlPlane({ dataDir: dir });
      const kubeconfig = await readFile(join(dir, 'kubeconfig'), 'utf8');
      assert.ok(kubeconfig.includes(cp.url), 'the kubeconfig points at the server');
      let kc = cp.kubeConfig();
      await createWidgetCrd(cp);
      await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...W, namespace: NS, body: widget('kept', { size: 3 }) });
      const before = await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'kept' }, data: { a: 'b' } } });
      await cp.stop();

      cp = await startControlPlane({ dataDir: dir });
      try {
        kc = cp.kubeConfig();
        const cm = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'kept', namespace: NS });
        assert.equal(cm.metadata!.uid, before.metadata!.uid);
        const w = await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...W, namespace: NS, name: 'kept' });
        assert.equal(w.spec.size, 3, 'custom resources are served again after a restart');
        const next = await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'after' } } });
        assert.ok(Number(next.metadata!.resourceVersion) > Number(before.metadata!.resourceVersion), 'resourceVersions keep increasing');
      } finally {
        await cp.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
