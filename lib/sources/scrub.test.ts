import { test } from 'node:test';
import assert from 'node:assert/strict';
import { excerpt, scrub } from './scrub.ts';

const secret = 'Tok.en/Secret+Value=42';

test('scrub removes a secret inside longer base64 text at every alignment', () => {
  for (const prefix of ['', 'a', 'ab', 'abc', 'Bearer ']) {
    const b64 = Buffer.from(`${prefix}${secret}!tail`).toString('base64');
    const out = scrub(`x ${b64} y`, [secret]);
    // whatever is left cannot decode back to the secret
    assert.ok(!Buffer.from(out.replace(/\[redacted\]/g, ''), 'base64').toString('latin1').includes(secret), `prefix ${JSON.stringify(prefix)}: ${out}`);
    assert.match(out, /\[redacted\]/);
  }
});

test('scrub matches case-insensitively and URL-, form- and hex-encoded', () => {
  const text = [secret.toUpperCase(), secret.toLowerCase(), encodeURIComponent(secret), encodeURIComponent(secret).toLowerCase(), new URLSearchParams({ v: 'a b' + secret }).toString(), Buffer.from(secret).toString('hex').toUpperCase()].join(' | ');
  const out = scrub(text, [secret]);
  assert.equal(out.match(/\[redacted\]/g)?.length, 6, out);
});

test('excerpt: withheld with a secret too short to scrub, cut after scrubbing, a truncated tail dropped', () => {
  assert.match(excerpt('hello Zq! there', ['Zq!']), /withheld/);
  assert.equal(excerpt(`${'x'.repeat(10)} ${secret}`, [secret], { maxChars: 15 }), 'xxxxxxxxxx [red…');
  assert.doesNotMatch(excerpt(`error: ${secret.slice(0, 10)}`, [secret], { truncated: true }), /Tok\.en/);
});
