import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRegistryError } from '../errors.ts';
import { decodeUtf8, firstInvalidUtf8Offset, lineColumn, parseJsonText, scanStructure, type DuplicateKey } from './json-text.ts';

const fails = (fn: () => unknown, code: string, message: RegExp) =>
  assert.throws(fn, (e: unknown) => isRegistryError(e) && e.code === code && message.test(e.message));

describe('decodeUtf8', () => {
  it('decodes UTF-8 and drops a byte order mark', () => {
    assert.equal(decodeUtf8(Buffer.from('\ufeff{"a":"é🎉"}', 'utf8')), '{"a":"é🎉"}');
  });
  it('names the offset of the first bad byte', () => {
    const bytes = Buffer.concat([Buffer.from('{"a":"ok é', 'utf8'), Buffer.from([0xe2, 0x28, 0xa1]), Buffer.from('"}')]);
    fails(() => decodeUtf8(bytes, 'x.json'), 'invalid_json', /invalid byte 0xe2 at byte offset 11/);
  });
  it('finds overlong encodings, surrogates and truncated sequences', () => {
    assert.equal(firstInvalidUtf8Offset(Buffer.from([0x41, 0xc0, 0x80])), 1); // overlong NUL
    assert.equal(firstInvalidUtf8Offset(Buffer.from([0x41, 0xed, 0xa0, 0x80])), 1); // UTF-16 surrogate
    assert.equal(firstInvalidUtf8Offset(Buffer.from([0x41, 0x42, 0xf0, 0x9f])), 2); // cut short
    assert.equal(firstInvalidUtf8Offset(Buffer.from('ok 🎉', 'utf8')), 7); // valid: the length
  });
});

describe('parseJsonText', () => {
  it('parses valid JSON', () => {
    assert.deepEqual(parseJsonText(Buffer.from('{"servers":{"a":{"x":[1,2,{"y":null}]}}}')), { servers: { a: { x: [1, 2, { y: null }] } } });
  });
  it('reports syntax errors with line and column', () => {
    fails(() => parseJsonText('{\n  "a": 1,\n  "b" 2\n}'), 'invalid_json', /Expected ':' after property name at line 3 column 7/);
  });
  it('checks the byte size before decoding', () => {
    fails(() => parseJsonText(Buffer.from('[1, 2, 3]'), { maxBytes: 4 }), 'too_large', /9 bytes, over the limit of 4 bytes/);
  });
});

describe('scanStructure', () => {
  it('accepts nesting up to the limit and refuses one more level, naming where', () => {
    scanStructure(`${'['.repeat(64)}${']'.repeat(64)}`, 64);
    fails(() => scanStructure(`{"a":${'['.repeat(64)}${']'.repeat(64)}}`, 64), 'too_deep', /deeper than 64 levels at line 1 column 69/);
  });
  it('is not fooled by brackets, quotes and escapes inside strings', () => {
    scanStructure(JSON.stringify({ a: '[[[[{{{{', b: 'quote \\" and \\\\', c: ['"]'] }), 2);
  });
  it('finds duplicate keys in the two top levels, with the path of the object', () => {
    const found: DuplicateKey[] = [];
    scanStructure('{"servers": {"a": 1, "b": {"x": 1, "x": 2}, "a": 3}, "v": 1}', 64, undefined, found);
    assert.deepEqual(found, [{ parent: ['servers'], key: 'a', at: 'line 1 column 45' }]); // level 3 is not checked
    fails(() => scanStructure('{"v": 1, "\\u0076": 2}', 64), 'duplicate_name', /key "v" appears twice/);
  });
  it('below the checked levels: strings with brackets, unterminated text, and a too-deep value after duplicates', () => {
    // deep values are skipped quickly; what they hold must not change the verdict
    scanStructure(JSON.stringify({ servers: [{ a: [{ b: '}}]]"[[{{', c: ['\\', '\\"]'] }] }, { d: {} }] }), 6);
    fails(() => scanStructure(JSON.stringify({ servers: [{ a: [{ b: [] }] }] }), 5), 'too_deep', /deeper than 5 levels/);
    scanStructure('{"servers": [{"a": [1, 2', 64); // ends early: JSON.parse says so
    scanStructure('{"servers": [{"a": "unterminated', 64);
    const deep = `{"servers": {"a": 1, "a": 2, "x": [${'['.repeat(70)}${']'.repeat(70)}]}}`;
    const found: DuplicateKey[] = [];
    fails(() => scanStructure(deep, 64, undefined, found), 'too_deep', /deeper than 64 levels at line 1 column 97/);
    assert.deepEqual(found, [{ parent: ['servers'], key: 'a', at: 'line 1 column 22' }], 'each duplicate once');
    assert.throws(
      () => scanStructure(`{"servers": [{"a": {"b": [${'{"c":'.repeat(70)}1${'}'.repeat(70)}]}}]}`, 64),
      (e: unknown) => isRegistryError(e) && e.code === 'too_deep' && /^servers\[0\]\.a\.b\[0\](\.c){59}$/.test(e.where.path ?? ''),
    );
    fails(() => scanStructure(deep, 64), 'duplicate_name', /key "a" appears twice/);
  });
  it('line and column count characters', () => {
    assert.equal(lineColumn('ab\ncd\né', 7), 'line 3 column 2');
  });
  it('scans a 10 MB string quickly', () => {
    const text = JSON.stringify({ a: 'x'.repeat(10 * 1024 * 1024) });
    const t = performance.now();
    scanStructure(text, 64);
    assert.ok(performance.now() - t < 2000);
  });
});
