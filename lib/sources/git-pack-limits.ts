/**
 * Size limits on a git packfile, checked before isomorphic-git sees it. isomorphic-git inflates
 * every object of a fetched pack to index it (and again to read a blob), so a small pack of
 * highly compressible objects (a "zlib bomb") would otherwise be inflated in full before any
 * size check. The pack header of every object states its inflated size, and a delta's data
 * starts with the size of the object it produces: both are checked against the limit before
 * the object is inflated, and the inflation itself stops at the stated size.
 *
 * The input is an upload-pack response body (pkt-lines, side-band or not); pure function.
 */
import zlib from 'node:zlib';
import { RegistryError, type ErrorWhere } from '../errors.ts';

export interface PackLimits {
  /** the largest inflated size of one object (and of the object a delta produces) */
  maxObjectBytes: number;
  /** the largest inflated size of all objects of the pack together */
  maxTotalBytes: number;
}

const OBJ_OFS_DELTA = 6;
const OBJ_REF_DELTA = 7;
const TYPE_NAMES: Record<number, string> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag', 6: 'ofs-delta', 7: 'ref-delta' };

/** The pack data inside an upload-pack response: side-band channel 1, or raw after the pkt-lines. */
export function packOfResponse(body: Uint8Array): Uint8Array | undefined {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 4 <= buf.length) {
    const head = buf.toString('latin1', at, at + 4);
    if (head === 'PACK') return Buffer.concat([...parts, buf.subarray(at)]);
    if (!/^[0-9a-f]{4}$/i.test(head)) break;
    const len = parseInt(head, 16);
    if (len < 4) {
      at += 4; // flush, delimiter, response-end
      continue;
    }
    const payload = buf.subarray(at + 4, Math.min(at + len, buf.length));
    if (payload[0] === 1) parts.push(payload.subarray(1));
    at += len;
  }
  return parts.length > 0 ? Buffer.concat(parts) : undefined;
}

function tooLarge(message: string, where: ErrorWhere): RegistryError {
  return new RegistryError('too_large', `${message} (MCPREG_FETCH_MAX_BYTES)`, { where });
}

function corrupt(message: string, where: ErrorWhere): RegistryError {
  return new RegistryError('source_unavailable', `the git server sent a malformed pack: ${message}`, { where });
}

/** A delta's data starts with two size varints: the base's size and the result's. */
function deltaResultSize(delta: Buffer): number {
  let at = 0;
  const varint = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = delta[at++];
      if (b === undefined) return -1;
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) return value;
    }
  };
  varint();
  return varint();
}

/**
 * Walks every object of the pack and throws `too_large` on the first one over the limits,
 * before inflating it. Returns the number of objects and their total inflated size.
 */
export function checkPack(pack: Uint8Array, limits: PackLimits, where: ErrorWhere): { objects: number; inflatedBytes: number } {
  const buf = Buffer.from(pack.buffer, pack.byteOffset, pack.byteLength);
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'PACK') throw corrupt('no PACK header', where);
  const count = buf.readUInt32BE(8);
  let at = 12;
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (at >= buf.length) throw corrupt(`it ends before object ${i + 1} of ${count}`, where);
    let b = buf[at++]!;
    const type = (b >> 4) & 7;
    let size = b & 15;
    let shift = 4;
    while (b & 0x80) {
      if (at >= buf.length || shift > 53) throw corrupt(`object ${i + 1} has a bad header`, where);
      b = buf[at++]!;
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
    }
    if (type === OBJ_OFS_DELTA) {
      do b = buf[at++] ?? 0;
      while (b & 0x80 && at < buf.length);
    } else if (type === OBJ_REF_DELTA) at += 20;
    const name = TYPE_NAMES[type] ?? `type ${type}`;
    if (size > limits.maxObjectBytes) {
      throw tooLarge(`object ${i + 1} of the pack (${name}) is ${size} bytes inflated, over the limit of ${limits.maxObjectBytes}`, where);
    }
    total += size;
    if (total > limits.maxTotalBytes) {
      throw tooLarge(`the pack's objects pass ${limits.maxTotalBytes} bytes inflated together (at object ${i + 1} of ${count})`, where);
    }
    let inflated: { buffer: Buffer; engine: zlib.Inflate };
    try {
      // the stated size bounds the inflation itself: a stream that inflates further is refused
      inflated = zlib.inflateSync(buf.subarray(at), { info: true, maxOutputLength: Math.max(size, 1) }) as unknown as { buffer: Buffer; engine: zlib.Inflate };
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw corrupt(`object ${i + 1} inflates past its stated ${size} bytes`, where);
      throw corrupt(`object ${i + 1} does not inflate (${(e as Error).message})`, where);
    }
    if (inflated.buffer.length !== size) throw corrupt(`object ${i + 1} inflates to ${inflated.buffer.length} bytes, not its stated ${size}`, where);
    if (type === OBJ_OFS_DELTA || type === OBJ_REF_DELTA) {
      const result = deltaResultSize(inflated.buffer);
      if (result > limits.maxObjectBytes) {
        throw tooLarge(`object ${i + 1} of the pack (a delta) produces ${result} bytes, over the limit of ${limits.maxObjectBytes}`, where);
      }
      total += Math.max(result, 0);
      if (total > limits.maxTotalBytes) {
        throw tooLarge(`the pack's objects pass ${limits.maxTotalBytes} bytes inflated together (at object ${i + 1} of ${count})`, where);
      }
    }
    at += (inflated.engine as unknown as { bytesWritten: number }).bytesWritten;
  }
  return { objects: count, inflatedBytes: total };
}
