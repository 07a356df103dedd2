/**
 * What schemathesis found between /openapi.json and the server (npm run test:conformance), each
 * fixed on one side and checked here against the real query function: /api/v1/search's `q` is
 * required, must hold a character that trim() keeps, and is at most 256 characters counted as
 * JSON Schema counts them (code points of the value as sent); an empty `updated_since` is no
 * filter and the spec says so; POST /events documents its body.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureEntries, publishEntries, publishRealToolhive } from './fixture.ts';
import { startQuery, tempStore, type Running } from './harness.ts';

let api: Running;
let cleanup: () => Promise<void>;
let doc: { paths: Record<string, Record<string, { parameters?: Array<{ name: string; required: boolean; schema: Record<string, unknown> }>; requestBody?: { required: boolean; content: Record<string, { schema: { required: string[]; properties: Record<string, { const?: string }> } }> } }>> };

before(async () => {
  const t = await tempStore();
  cleanup = t.cleanup;
  await publishEntries(t.store, { namespace: 'mcp', name: 'upstream' }, fixtureEntries());
  await publishRealToolhive(t.store, { namespace: 'team', name: 'toolhive' });
  api = await startQuery({ store: t.store, env: { MCPREG_DEFAULT_REGISTRY: 'mcp/upstream' } });
  doc = (await api.get('/openapi.json')).json();
});
after(async () => {
  await api?.close();
  await cleanup?.();
});

const search = (q: string | undefined) => api.get(`/api/v1/search${q === undefined ? '' : `?q=${encodeURIComponent(q)}`}`);

test('/api/v1/search: q is documented as required, with a character trim() keeps, at most 256 characters', () => {
  const params = doc.paths['/api/v1/search']!.get!.parameters!;
  const q = params.find((p) => p.name === 'q')!;
  assert.equal(q.required, true);
  assert.equal(q.schema.maxLength, 256);
  const pattern = new RegExp(q.schema.pattern as string, 'u');
  // every character String.prototype.trim removes, alone and together, fails the pattern
  const trimmed = '\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
  for (const c of trimmed) {
    assert.equal(c.trim(), '', `U+${c.codePointAt(0)!.toString(16)} is one trim() removes`);
    assert.ok(!pattern.test(c), `U+${c.codePointAt(0)!.toString(16)} alone must not match`);
  }
  assert.ok(!pattern.test(trimmed));
  // what trim() keeps matches, \x1c included (Python's \s counts it as space, JavaScript's not)
  for (const s of ['x', ' x ', '\u001c', '\u200b']) assert.ok(pattern.test(s) && s.trim() !== '', JSON.stringify(s));
  // the other parameters stay optional
  assert.deepEqual(params.filter((p) => p.required).map((p) => p.name), ['q']);
  assert.deepEqual(doc.paths['/v0.1/servers']!.get!.parameters!.filter((p) => p.required), []);
});

test('/api/v1/search: the server refuses what the spec refuses and takes what it allows', async () => {
  for (const q of [undefined, '', '   ', '\u3000\u00a0\ufeff', 'x'.repeat(257), `${' '.repeat(10)}${'x'.repeat(250)}`]) {
    const res = await search(q);
    assert.equal(res.status, 400, JSON.stringify(q));
    assert.equal(res.json().errors[0].location, 'query.q');
  }
  // 256 characters of two UTF-16 units each: within maxLength, which counts characters
  for (const q of ['x', '\u001c', '🔍'.repeat(256), `${'x'.repeat(255)} `]) assert.equal((await search(q)).status, 200, JSON.stringify(q).slice(0, 40));
});

test('updated_since: documented as a date-time or empty; empty is no filter, on every list route', async () => {
  for (const path of ['/v0.1/servers', '/registries/{namespace}/{name}/v0.1/servers', '/v0/servers']) {
    const since = doc.paths[path]!.get!.parameters!.find((p) => p.name === 'updated_since')!;
    assert.deepEqual(since.schema.anyOf, [{ type: 'string', format: 'date-time' }, { type: 'string', const: '' }], path);
  }
  for (const base of ['', '/registries/mcp/upstream']) {
    const without = await api.get(`${base}/v0.1/servers?limit=100`);
    const empty = await api.get(`${base}/v0.1/servers?limit=100&updated_since=`);
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.json(), without.json());
    // and an empty value does not turn include_deleted on, as a real updated_since does
    assert.equal((await api.get(`${base}/v0.1/servers?updated_since=&include_deleted=false`)).status, 200);
    assert.equal((await api.get(`${base}/v0.1/servers?updated_since=2020-01-01T00:00:00Z&include_deleted=false`)).status, 400);
  }
});

test('POST /events documents its body: a structured CloudEvent of the published type, subject namespace/name', () => {
  const body = doc.paths['/events']!.post!.requestBody!;
  assert.equal(body.required, true);
  const schema = body.content['application/cloudevents+json']!.schema;
  assert.deepEqual(schema.required, ['specversion', 'id', 'source', 'type', 'subject']);
  assert.equal(schema.properties.type!.const, 'io.toolhive.registry.snapshot.published');
});

test('registry: the server takes exactly what the documented pattern allows (no empty value or item, no spaces)', async () => {
  const param = doc.paths['/api/v1/servers']!.get!.parameters!.find((p) => p.name === 'registry')!;
  const pattern = new RegExp(param.schema.pattern as string);
  for (const value of ['', ',', 'team/toolhive,', ' team/toolhive', 'team/toolhive, mcp/upstream', 'team/toolhive,,mcp/upstream']) {
    assert.ok(!pattern.test(value), JSON.stringify(value));
    for (const path of ['/api/v1/servers', '/api/v1/search?q=git&']) {
      const res = await api.get(`${path}${path.includes('?') ? '' : '?'}registry=${encodeURIComponent(value)}`);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(value)}`);
      assert.equal(res.json().errors[0].location, 'query.registry');
    }
  }
  for (const value of ['team/toolhive', 'team/toolhive,mcp/upstream']) {
    assert.ok(pattern.test(value));
    assert.equal((await api.get(`/api/v1/servers?registry=${encodeURIComponent(value)}`)).status, 200);
  }
  // repeating the parameter is the other documented way to name several
  assert.equal((await api.get('/api/v1/servers?registry=team/toolhive&registry=mcp/upstream')).status, 200);
});
