import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdvertisementScanner } from './git-ssh.ts';

const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;

test('the advertisement ends at its flush-pkt, however the stream is cut into chunks', () => {
  const ad = pkt('0123456789012345678901234567890123456789 HEAD\0side-band-64k shallow\n') + pkt('0123456789012345678901234567890123456789 refs/heads/main\n') + '0000';
  const rest = 'whatever follows';
  const bytes = Buffer.from(ad + rest);
  for (const size of [1, 2, 3, 5, 64, bytes.length]) {
    const s = new AdvertisementScanner();
    for (let at = 0; at < bytes.length; at += size) s.feed(bytes.subarray(at, at + size));
    assert.equal(s.end, ad.length, `chunks of ${size}`);
    assert.equal(s.bad, false);
  }
  const v2 = new AdvertisementScanner();
  v2.feed(Buffer.from(pkt('version 2\n') + pkt('ls-refs=unborn\n') + '0000'));
  assert.equal(v2.end, 4 + 10 + 4 + 15 + 4);
});

test('incomplete and non-pkt-line streams', () => {
  const partial = new AdvertisementScanner();
  partial.feed(Buffer.from(pkt('abc\n') + '00'));
  assert.equal(partial.end, -1);
  assert.equal(partial.bad, false);
  const html = new AdvertisementScanner();
  html.feed(Buffer.from('<html>'));
  assert.equal(html.bad, true);
  const delim = new AdvertisementScanner();
  delim.feed(Buffer.from('0001'));
  assert.equal(delim.bad, true);
});
