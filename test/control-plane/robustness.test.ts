/**
 * Hostile and malformed requests get a precise Status (400, 404, 405, 406, 413, 415, 422) and
 * never bring the server down: after each one it still answers and still stores objects.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane/index.ts';
import { createWidgetCrd, raw, widget } from '../servers/control-plane.ts';

const CMS = '/api/v1/namespaces/default/configmaps';

describe('control plane robustness', () => {
  let cp: ControlPlane;
  let counter = 0;

  before(async () => {
    cp = await startControlPlane({ maxBodyBytes: 256 * 1024 });
    await createWidgetCrd(cp);
  });
  after(() => cp.stop());

  /** the server still serves and stores after whatever the previous request did */
  async function stillHealthy(): Promise<void> {
    const name = `alive-${++counter}`;
    const created = await raw(cp, 'POST', CMS, { contentType: 'application/json', body: JSON.stringify({ metadata: { name }, data: { ok: 'yes' } }) });
    assert.equal(created.status, 201, created.text);
    assert.equal((await raw(cp, 'GET', '/version')).status, 200);
  }

  function assertStatus(res: Awaited<ReturnType<typeof raw>>, code: number, reason: string, message?: RegExp): void {
    assert.equal(res.status, code, res.text);
    const body = res.json();
    assert.equal(body.kind, 'Status');
    assert.equal(body.status, 'Failure');
    assert.equal(body.code, code);
    assert.equal(body.reason, reason);
    if (message) assert.match(body.message, message);
  }

  test('malformed JSON, non-object bodies and invalid UTF-8 are 400 BadRequest', async () => {
    for (const body of ['{"metadata":', 'not json at all', '', '[1,2,3]', '"a string"', 'null']) {
      const res = await raw(cp, 'POST', CMS, { contentType: 'application/json', body });
      assertStatus(res, 400, 'BadRequest');
    }
    const res = await raw(cp, 'POST', CMS, { contentType: 'application/json', body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) });
    assertStatus(res, 400, 'BadRequest', /UTF-8/);
    await stillHealthy();
  });

  test('hostile documents: deep nesting, __proto__ keys, YAML alias bombs', async () => {
    const deep = '{"metadata":{"name":"deep"},"data":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
    assertStatus(await raw(cp, 'POST', CMS, { contentType: 'application/json', body: deep }), 400, 'BadRequest', /nested deeper/);
    const proto = '{"metadata":{"name":"proto"},"data":{"__proto__":{"polluted":"yes"}}}';
    assertStatus(await raw(cp, 'POST', CMS, { contentType: 'application/json', body: proto }), 400, 'BadRequest', /__proto__/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
    const res = await raw(cp, 'POST', CMS, { contentType: 'application/yaml', body: bomb });
    assertStatus(res, 400, 'BadRequest', /YAML/);
    await stillHealthy();
  });

  test('wrong content types are 415; unacceptable Accept headers 406', async () => {
    const body = JSON.stringify({ metadata: { name: 'ct' } });
    assertStatus(await raw(cp, 'POST', CMS, { contentType: 'text/plain', body }), 415, 'UnsupportedMediaType');
    assertStatus(await raw(cp, 'POST', CMS, { contentType: 'application/x-www-form-urlencoded', body: 'a=b' }), 415, 'UnsupportedMediaType');
    assertStatus(await raw(cp, 'PATCH', `${CMS}/alive-1`, { contentType: 'application/json', body: '{}' }), 415, 'UnsupportedMediaType', /merge-patch/);
    assertStatus(await raw(cp, 'PATCH', `${CMS}/alive-1`, { contentType: 'application/merge-patch+json', body: '[]' }), 400, 'BadRequest');
    assertStatus(await raw(cp, 'PATCH', `${CMS}/alive-1`, { contentType: 'application/json-patch+json', body: '{"op":"add"}' }), 400, 'BadRequest');
    assertStatus(await raw(cp, 'PATCH', `${CMS}/alive-1`, { contentType: 'application/json-patch+json', body: '[{"op":"move","from":"/nope","path":"/data/x"}]' }), 422, 'Invalid');
    assertStatus(await raw(cp, 'GET', CMS, { accept: 'application/vnd.kubernetes.protobuf' }), 406, 'NotAcceptable');
    assertStatus(await raw(cp, 'POST', CMS, { contentType: 'application/vnd.kubernetes.protobuf', body: new Uint8Array([1, 2, 3, 4, 5]) }), 400, 'BadRequest', /protobuf/);
    await stillHealthy();
  });

  test('oversized payloads are 413, announced or streamed, and the connection is closed', async () => {
    const big = JSON.stringify({ metadata: { name: 'big' }, data: { blob: 'x'.repeat(300 * 1024) } });
    assertStatus(await raw(cp, 'POST', CMS, { contentType: 'application/json', body: big }), 413, 'RequestEntityTooLarge', /limit is 262144/);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(10_000)));
        controller.close();
      },
    });
    const res = await fetch(cp.url + CMS, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${cp.tokenFor()}` },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413, 'the client reads the 413, not a connection reset');
    assert.equal(res.headers.get('connection'), 'close');
    assert.equal(((await res.json()) as { reason: string }).reason, 'RequestEntityTooLarge');
    await stillHealthy();
  });

  test('objects that do not fit the endpoint are 400; unknown paths 404; wrong methods 405', async () => {
    const post = (path: string, body: object) => raw(cp, 'POST', path, { contentType: 'application/json', body: JSON.stringify(body) });
    assertStatus(await post(CMS, { apiVersion: 'v2', kind: 'ConfigMap', metadata: { name: 'v' } }), 400, 'BadRequest', /API version in the data \(v2\)/);
    assertStatus(await post(CMS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'k' } }), 400, 'BadRequest', /kind in the data \(Secret\)/);
    assertStatus(await post(CMS, { metadata: { name: 'n', namespace: 'other' } }), 400, 'BadRequest', /namespace of the provided object/);
    assertStatus(await post(CMS, { metadata: { name: 'Not_A_Name' } }), 422, 'Invalid', /metadata.name: Invalid value: "Not_A_Name"/);
    assertStatus(await post(CMS, { metadata: { name: 'lbl', labels: { 'bad key!': 'x' } } }), 422, 'Invalid', /metadata.labels/);
    assertStatus(await post('/apis/example.com/v1/namespaces/default/widgets', { ...widget('nokind', { size: 1 }), kind: undefined }), 400, 'BadRequest', /Kind' is missing/);
    assertStatus(await post('/apis/example.com/v1/namespaces/default/widgets', { ...widget('wrongver', { size: 1 }), apiVersion: 'example.com/v9' }), 400, 'BadRequest');
    assertStatus(await raw(cp, 'GET', '/apis/example.com/v9/widgets'), 404, 'NotFound');
    assertStatus(await raw(cp, 'GET', '/api/v1/nonsense'), 404, 'NotFound');
    assertStatus(await raw(cp, 'GET', '/api/v1/namespaces/default/configmaps/a/b/c/d'), 404, 'NotFound');
    assertStatus(await raw(cp, 'GET', '/no/such/path'), 404, 'NotFound');
    assertStatus(await raw(cp, 'PUT', CMS, { contentType: 'application/json', body: '{}' }), 405, 'MethodNotAllowed');
    assertStatus(await raw(cp, 'POST', '/version', { contentType: 'application/json', body: '{}' }), 405, 'MethodNotAllowed');
    assertStatus(await raw(cp, 'GET', `${CMS}?labelSelector=${encodeURIComponent('a in (')}`), 400, 'BadRequest', /unable to parse requirement/);
    assertStatus(await raw(cp, 'GET', `${CMS}?watch=1&resourceVersion=abc`), 400, 'BadRequest');
    assertStatus(await raw(cp, 'GET', `${CMS}?limit=-3`), 400, 'BadRequest');
    assertStatus(await raw(cp, 'GET', `${CMS}?limit=1&continue=garbage`), 400, 'BadRequest', /continue/);
    assertStatus(await raw(cp, 'POST', `${CMS}?dryRun=Sometimes`, { contentType: 'application/json', body: '{"metadata":{"name":"dry"}}' }), 400, 'BadRequest');
    await stillHealthy();
  });

  test('garbage on the socket gets 400 and the server keeps answering', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(cp.url).port), '127.0.0.1');
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.write('\x00\x01GARBAGE / HTTP/9.9\r\n\r\n\r\n');
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    await stillHealthy();
  });

  test('concurrent writers get distinct, increasing resourceVersions', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => raw(cp, 'POST', CMS, { contentType: 'application/json', body: JSON.stringify({ metadata: { name: `par-${i}` } }) })),
    );
    const versions = results.map((r) => {
      assert.equal(r.status, 201);
      return Number(r.json().metadata.resourceVersion);
    });
    assert.equal(new Set(versions).size, versions.length);
    await stillHealthy();
  });
});
