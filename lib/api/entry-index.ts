import { EntryError, OFFICIAL_KEYS, OFFICIAL_META, STATUSES, type Status } from './entry.ts';
import { INCOMPLETE, isWs, stringEnd, valueEnd } from './envelope-scanner.ts';

/**
 * The fields the endpoints filter and sort on, read from one framed `{server, _meta}` element
 * without materialising the document: the element's members are framed with
 * envelope-scanner's primitives and only `server.name`, `server.version` and the members of
 * the official `_meta` block are decoded. For a 30k-version snapshot this is several times
 * faster than parsing every document, and it allocates almost nothing besides the strings it
 * keeps (the query function's peak RSS). The whole document is checked with JSON.parse when
 * it is first served (UpstreamView.valid).
 *
 * `clean` is false when the element cannot be served byte for byte (keys other than server
 * and _meta, undocumented keys in the official block, formatting whitespace); the view then
 * re-serialises that one entry from a full parse.
 */

export interface IndexedFields {
  name: string;
  version: string;
  status: Status;
  isLatest: boolean;
  /** RFC 3339 as stored ('' when absent); turned into instant keys when a query needs them */
  publishedAt: string;
  updatedAt: string;
  clean: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
const KEY_SERVER = encoder.encode('server');
const KEY_META = encoder.encode('_meta');
const KEY_NAME = encoder.encode('name');
const KEY_VERSION = encoder.encode('version');
const KEY_OFFICIAL = encoder.encode(OFFICIAL_META);
const OFFICIAL_BYTES = OFFICIAL_KEYS.map((k) => [k, encoder.encode(k)] as const);
const TRUE = encoder.encode('true');
const FALSE = encoder.encode('false');

function bad(what: string, server?: string): never {
  throw new EntryError(`not a valid ServerResponse: ${what}`, server);
}

/** [keyStart, keyEnd, valueStart, valueEnd] of the member framed last (keys with quotes) */
const M = [0, 0, 0, 0];

function skipWs(b: Uint8Array, pos: number, end: number): number {
  while (pos < end && isWs(b[pos])) pos++;
  return pos;
}

/** the first key of the object at `start`, or -1 when it is empty */
function firstMember(b: Uint8Array, start: number, end: number, what: string): number {
  if (b[start] !== 0x7b) bad(`${what} is not an object`);
  const pos = skipWs(b, start + 1, end);
  return b[pos] === 0x7d ? -1 : pos;
}

/** frames the member whose key starts at `pos` into M; returns the index after its value */
function frameMember(b: Uint8Array, pos: number, end: number, what: string): number {
  if (b[pos] !== 0x22) bad(`a key expected in ${what}`);
  const k1 = stringEnd(b, pos, end);
  if (k1 === INCOMPLETE) bad(`unterminated key in ${what}`);
  let p = skipWs(b, k1, end);
  if (b[p] !== 0x3a) bad(`':' expected in ${what}`);
  p = skipWs(b, p + 1, end);
  const v1 = valueEnd(b, p, end, true);
  if (v1 === INCOMPLETE || v1 === p) bad(`a value expected in ${what}`);
  M[0] = pos;
  M[1] = k1;
  M[2] = p;
  M[3] = v1;
  return v1;
}

/** the next key after a member ending at `pos`, or -1 at the object's end */
function nextMember(b: Uint8Array, pos: number, end: number, what: string): number {
  const p = skipWs(b, pos, end);
  if (b[p] === 0x2c) return skipWs(b, p + 1, end);
  if (b[p] === 0x7d) return -1;
  return bad(`',' or '}' expected in ${what}`);
}

function same(b: Uint8Array, start: number, end: number, text: Uint8Array): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[start + i] !== text[i]) return false;
  return true;
}

/** does the quoted key framed in M equal `key`? (escaped keys are decoded) */
function keyIs(b: Uint8Array, key: Uint8Array): boolean {
  if (same(b, M[0]! + 1, M[1]! - 1, key)) return true;
  let escaped = false;
  for (let i = M[0]! + 1; i < M[1]! - 1; i++) if (b[i] === 0x5c) escaped = true;
  return escaped && (JSON.parse(decoder.decode(b.subarray(M[0]!, M[1]!))) as string) === decoder.decode(key);
}

/** the value framed in M as a string, or undefined when it is not one */
function stringValue(b: Buffer): string | undefined {
  const v0 = M[2]!;
  const v1 = M[3]!;
  if (b[v0] !== 0x22) return undefined;
  for (let i = v0 + 1; i < v1 - 1; i++) {
    const c = b[i]!;
    if (c === 0x5c || c >= 0x80) return JSON.parse(decoder.decode(b.subarray(v0, v1))) as string;
  }
  return b.toString('latin1', v0 + 1, v1 - 1);
}

/**
 * `b` is a Buffer view of the document bytes; [start, end) one framed element.
 * `mayHaveNewlines` false when the caller knows `b` holds no CR or LF (then no element is
 * pretty-printed and the per-element check is skipped).
 */
export function indexEntry(b: Buffer, start: number, end: number, mayHaveNewlines = true): IndexedFields {
  let clean = b[start + 1] === 0x22;
  let s0 = -1;
  let s1 = -1;
  let m0 = -1;
  let m1 = -1;
  for (let pos = firstMember(b, start, end, 'the entry'); pos >= 0; ) {
    const after = frameMember(b, pos, end, 'the entry');
    if (keyIs(b, KEY_SERVER)) {
      s0 = M[2]!;
      s1 = M[3]!;
    } else if (keyIs(b, KEY_META)) {
      m0 = M[2]!;
      m1 = M[3]!;
    }
    else clean = false;
    pos = nextMember(b, after, end, 'the entry');
  }
  if (s0 < 0) bad('"server" is missing');
  let name: string | undefined;
  let version: string | undefined;
  // only as far as name and version: the rest of the document need not be framed here
  for (let pos = firstMember(b, s0, s1, '"server"'); pos >= 0 && (name === undefined || version === undefined); ) {
    const after = frameMember(b, pos, s1, '"server"');
    if (keyIs(b, KEY_NAME)) name = stringValue(b) ?? bad('"server.name" is not a string');
    else if (keyIs(b, KEY_VERSION)) version = stringValue(b) ?? bad('"server.version" is not a string', name);
    pos = nextMember(b, after, s1, '"server"');
  }
  if (!name) bad('"server.name" is missing or empty');
  if (!version) bad('"server.version" is missing or empty', name);
  if (m0 < 0) bad('"_meta" is missing', name);
  let o0 = -1;
  let o1 = -1;
  for (let pos = firstMember(b, m0, m1, '"_meta"'); pos >= 0; ) {
    const after = frameMember(b, pos, m1, '"_meta"');
    if (keyIs(b, KEY_OFFICIAL)) {
      o0 = M[2]!;
      o1 = M[3]!;
    }
    pos = nextMember(b, after, m1, '"_meta"');
  }
  if (o0 < 0) bad(`"_meta.${OFFICIAL_META}" is missing`, name);
  const where = `"_meta.${OFFICIAL_META}"`;
  let status: string | undefined;
  let isLatest: boolean | undefined;
  let publishedAt = '';
  let updatedAt = '';
  for (let pos = firstMember(b, o0, o1, where); pos >= 0; ) {
    const after = frameMember(b, pos, o1, where);
    let key: string | undefined;
    for (const [k, bytes] of OFFICIAL_BYTES) {
      if (keyIs(b, bytes)) {
        key = k;
        break;
      }
    }
    if (key === 'status') status = stringValue(b);
    else if (key === 'isLatest') isLatest = same(b, M[2]!, M[3]!, TRUE) ? true : same(b, M[2]!, M[3]!, FALSE) ? false : undefined;
    else if (key === 'publishedAt') publishedAt = stringValue(b) ?? '';
    else if (key === 'updatedAt') updatedAt = stringValue(b) ?? '';
    else if (key === undefined) clean = false;
    pos = nextMember(b, after, o1, where);
  }
  if (status === undefined || !(STATUSES as readonly string[]).includes(status)) bad(`${where}.status must be one of ${STATUSES.join(', ')}`, name);
  if (isLatest === undefined) bad(`${where}.isLatest must be a boolean`, name);
  if (clean && mayHaveNewlines) {
    const element = b.subarray(start, end);
    clean = element.indexOf(0x0a) < 0 && element.indexOf(0x0d) < 0;
  }
  return { name, version, status: status as Status, isLatest, publishedAt, updatedAt, clean };
}
