import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { RegistryError } from '../errors.ts';
import { checkPack, packOfResponse } from './git-pack-limits.ts';

/** a pack object's header: type and inflated size, git's variable-length encoding */
function header(type: number, size: number): Buffer {
  const out = [((type & 7) << 4) | (size & 15)];
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    out[out.length - 1]! |= 0x80;
    out.push(rest & 0x7f);
    rest = Math.floor(rest / 128);
  }
  return Buffer.from(out);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

interface Obj {
  type: number;
  data: Buffer;
  /** the size the header states (default: the real one) */
  stated?: number;
  /** bytes between header and zlib data (delta base offset or oid) */
  base?: Buffer;
}

function pack(objects: Obj[]): Buffer {
  const head = Buffer.alloc(12);
  head.write('PACK', 0, 'latin1');
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(objects.length, 8);
  const parts = objects.map((o) => Buffer.concat([header(o.type, o.stated ?? o.data.length), o.base ?? Buffer.alloc(0), zlib.deflateSync(o.data)]));
  return Buffer.concat([head, ...parts, Buffer.alloc(20)]);
}

/** pkt-lines as git-upload-pack answers a fetch with side-band-64k */
function sideBand(p: Buffer): Buffer {
  const lines = [Buffer.from('0008NAK\n')];
  for (let at = 0; at < p.length; at += 1000) {
    const chunk = Buffer.concat([Buffer.from([1]), p.subarray(at, at + 1000)]);
    lines.push(Buffer.from((chunk.length + 4).toString(16).padStart(4, '0')), chunk);
  }
  lines.push(Buffer.from('0000'));
  return Buffer.concat(lines);
}

const limits = { maxObjectBytes: 1000, maxTotalBytes: 2000 };
const where = { source: 'git' as const };
const code = (code: string, pattern: RegExp) => (e: unknown) => e instanceof RegistryError && e.code === code && pattern.test(e.message);

describe('git pack limits', () => {
  it('passes a pack within the limits, found inside side-band pkt-lines', () => {
    const p = pack([{ type: 3, data: Buffer.from('{"servers":{}}') }, { type: 2, data: Buffer.alloc(300, 7) }]);
    const found = packOfResponse(sideBand(p));
    assert.deepEqual(found, p);
    assert.deepEqual(checkPack(found!, limits, where), { objects: 2, inflatedBytes: 314 });
  });

  it('finds a pack sent raw after the pkt-lines (no side-band), and none in a ref listing', () => {
    const p = pack([{ type: 3, data: Buffer.from('x') }]);
    assert.deepEqual(packOfResponse(Buffer.concat([Buffer.from('0008NAK\n'), p])), p);
    assert.equal(packOfResponse(Buffer.from('003f' + 'a'.repeat(40) + ' refs/heads/main\n0000')), undefined);
  });

  it('refuses an object whose header states more than the limit, without inflating it', () => {
    // the stated size is a lie far above the data: refused on the header alone
    const p = pack([{ type: 3, data: Buffer.from('tiny'), stated: 2 ** 40 }]);
    assert.throws(() => checkPack(p, limits, where), code('too_large', /object 1 of the pack \(blob\) is 1099511627776 bytes inflated, over the limit of 1000/));
  });

  it('refuses a delta that produces an object over the limit', () => {
    const delta = Buffer.concat([varint(10), varint(5_000_000), Buffer.from([0x90, 0x7f])]);
    const p = pack([{ type: 3, data: Buffer.alloc(10) }, { type: 6, data: delta, base: Buffer.from([0x0c]) }]);
    assert.throws(() => checkPack(p, limits, where), code('too_large', /object 2 of the pack \(a delta\) produces 5000000 bytes/));
  });

  it('refuses objects that pass the total together, each within the limit', () => {
    const p = pack([0, 1, 2].map(() => ({ type: 3, data: Buffer.alloc(900) })));
    assert.throws(() => checkPack(p, limits, where), code('too_large', /pass 2000 bytes inflated together \(at object 3 of 3\)/));
  });

  it('stops inflating a stream that inflates past its stated size', () => {
    const p = pack([{ type: 3, data: Buffer.alloc(900), stated: 10 }]);
    assert.throws(() => checkPack(p, limits, where), code('source_unavailable', /inflates past its stated 10 bytes/));
  });

  it('refuses a truncated pack', () => {
    const p = pack([{ type: 3, data: Buffer.alloc(10) }, { type: 3, data: Buffer.alloc(10) }]);
    assert.throws(() => checkPack(p.subarray(0, 20), limits, where), code('source_unavailable', /malformed pack/));
  });
});
