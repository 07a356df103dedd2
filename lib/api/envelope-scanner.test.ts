import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnvelopeError, EnvelopeScanner } from './envelope-scanner.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const texts = (doc: string, ranges: Array<[number, number]>) => ranges.map(([a, b]) => doc.slice(a, b));

test('frames the servers elements, skipping other keys and tricky strings', () => {
  const items = ['{"server":{"name":"a/b","d":"quote \\" brace } bracket ] \\\\"}}', '{"x":[1,{"y":"}"}],"z":null}', '{}'];
  const doc = `{ "metadata" : {"count":3,"s":"]\\"["}, "servers" : [ ${items.join(' ,\n ')} ] , "tail": true }`;
  const s = new EnvelopeScanner();
  const ranges = s.next(enc(doc), true);
  assert.deepEqual(texts(doc, ranges), items);
  assert.ok(s.done);
  assert.equal(s.count, 3);
});

test('resumes across growing prefixes and yields each element once', () => {
  const items = Array.from({ length: 50 }, (_, i) => JSON.stringify({ server: { name: `n/${i}`, text: 'é'.repeat(i) + '\\"' }, _meta: {} }));
  const doc = enc(`{"servers":[${items.join(',')}],"metadata":{"count":50}}`);
  const s = new EnvelopeScanner();
  const got: string[] = [];
  for (let n = 1; n <= doc.length; n += 37) {
    const prefix = doc.subarray(0, n);
    for (const [a, b] of s.next(prefix, false)) got.push(new TextDecoder().decode(prefix.subarray(a, b)));
  }
  for (const [a, b] of s.next(doc, true)) got.push(new TextDecoder().decode(doc.subarray(a, b)));
  assert.deepEqual(got, items);
});

test('max bounds the elements per call', () => {
  const doc = enc(`{"servers":[{},{},{},{},{}]}`);
  const s = new EnvelopeScanner();
  assert.equal(s.next(doc, true, 2).length, 2);
  assert.equal(s.next(doc, true, 2).length, 2);
  assert.equal(s.next(doc, true, 2).length, 1);
  assert.ok(s.done);
});

test('an empty servers array is complete', () => {
  const s = new EnvelopeScanner();
  assert.deepEqual(s.next(enc('{"servers":[],"metadata":{"count":0}}'), true), []);
  assert.ok(s.done);
});

test('not an envelope: precise errors with an offset', () => {
  for (const [doc, pattern] of [
    ['[1,2]', /expected '\{'/],
    ['{"metadata":{}}', /servers/],
    ['{"servers":{}}', /an array as the value of "servers"/],
    ['{"servers":[1]}', /an object as servers\[0\]/],
    ['{"servers":[{},]}', /an object as servers\[1\]/],
    ['{"servers":[{"a":1}', /unexpected end/],
    ['{"servers":[{"a":"x}]}', /unexpected end/],
    ['', /unexpected end/],
  ] as const) {
    assert.throws(() => new EnvelopeScanner().next(enc(doc), true), (e: unknown) => e instanceof EnvelopeError && pattern.test(e.message), doc);
  }
});
