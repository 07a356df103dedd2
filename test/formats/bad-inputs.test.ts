import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRegistryError, RegistryError } from '../../lib/errors.ts';
import { parseRegistryDocument } from '../../lib/formats/index.ts';
import { badInputs } from './bad-inputs.ts';

// Every bad input gives a precise RegistryError (code, where, message), never a crash, a hang
// or a stack overflow; lenient mode keeps every valid entry where the document can be read.
describe('bad inputs', () => {
  for (const c of badInputs()) {
    it(`${c.name}: ${c.code}${c.path ? ` at ${c.path}` : ''}`, () => {
      const started = performance.now();
      let error: unknown;
      try {
        parseRegistryDocument(c.bytes, { file: 'bad.json', mode: 'strict' });
      } catch (e) {
        error = e;
      }
      assert.ok(isRegistryError(error), `expected a RegistryError, got ${String(error)}`);
      const e = error as RegistryError;
      assert.equal(e.code, c.code, e.message);
      assert.match(e.message, c.message);
      assert.equal(e.where.file, 'bad.json');
      assert.equal(e.where.path, c.path);
      assert.equal(e.where.server, c.server);
      assert.ok(!e.message.includes('\n'), 'one line');
      assert.ok(e.message.length < 400, `short message (${e.message.length} characters)`);
      assert.ok(performance.now() - started < 5000, 'fast');

      if (c.lenientValid === undefined) {
        assert.throws(() => parseRegistryDocument(c.bytes, { mode: 'lenient' }), (x: unknown) => isRegistryError(x) && x.code === c.code);
      } else {
        const doc = parseRegistryDocument(c.bytes, { mode: 'lenient' });
        assert.equal(doc.servers.length, c.lenientValid);
        assert.ok(doc.invalid.some((p) => p.path === c.path && p.code === c.code && c.message.test(p.message)), JSON.stringify(doc.invalid));
      }
    });
  }

  it('a document over the size limit is refused before it is decoded', () => {
    const bytes = Buffer.alloc(2048, 0x20);
    assert.throws(
      () => parseRegistryDocument(bytes, { mode: 'strict', maxBytes: 1024, file: 'big.json' }),
      (e: unknown) => isRegistryError(e) && e.code === 'too_large' && /2048 bytes, over the limit of 1024/.test(e.message) && e.where.file === 'big.json',
    );
  });
});
