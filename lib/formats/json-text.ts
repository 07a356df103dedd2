import { isUtf8 } from 'node:buffer';
import { RegistryError, type ErrorWhere } from '../errors.ts';
import { formatPath, type PathSegment } from './json-path.ts';

/**
 * From raw bytes to a JSON value, with precise errors: size limit, strict UTF-8 (the offset of
 * the first bad byte), a nesting-depth limit checked on the text before anything recursive runs,
 * duplicate keys in the top two levels (where registry entries are named), and JSON syntax
 * errors with line and column. Never throws anything but RegistryError.
 */

export const DEFAULT_MAX_BYTES = 128 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 64;
/** objects nested up to this depth are checked for duplicate keys (1 = the top level) */
const DUPLICATE_KEY_DEPTH = 2;

export interface JsonTextOptions {
  file?: string | undefined;
  maxBytes?: number | undefined;
  maxDepth?: number | undefined;
  /** collect duplicate keys here instead of throwing on the first one */
  duplicates?: DuplicateKey[] | undefined;
}

/** A key that appears twice in one object (JSON.parse keeps only the last value). */
export interface DuplicateKey {
  /** path of the object holding the key */
  parent: PathSegment[];
  key: string;
  /** `line L column C` of the second occurrence */
  at: string;
}

export function decodeUtf8(bytes: Uint8Array, file?: string): string {
  if (!isUtf8(bytes)) {
    const offset = firstInvalidUtf8Offset(bytes);
    throw new RegistryError('invalid_json', `not UTF-8: invalid byte 0x${hex(bytes[offset] ?? 0)} at byte offset ${offset}`, { where: whereFile(file) });
  }
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text;
}

/** Decode (when given bytes), check limits and structure, and parse. */
export function parseJsonText(input: Uint8Array | string, options: JsonTextOptions = {}): unknown {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  // a string's UTF-8 size is at most three bytes per UTF-16 unit: only count when it matters
  const size = typeof input === 'string' ? (input.length * 3 <= maxBytes ? input.length : Buffer.byteLength(input, 'utf8')) : input.byteLength;
  if (size > maxBytes) {
    throw new RegistryError('too_large', `document is ${size} bytes, over the limit of ${maxBytes} bytes`, { where: whereFile(options.file) });
  }
  const text = typeof input === 'string' ? input : decodeUtf8(input, options.file);
  if (text.trim() === '') throw new RegistryError('invalid_json', 'empty document: expected a JSON value', { where: whereFile(options.file) });
  scanStructure(text, options.maxDepth ?? DEFAULT_MAX_DEPTH, options.file, options.duplicates);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw syntaxError(text, e, options.file);
  }
}

/**
 * One pass over the text: nesting depth, and duplicate keys of objects in the top levels.
 * Runs before JSON.parse so that a hostile document is refused before it is built. On malformed
 * text it simply stops early or passes; JSON.parse reports the syntax error afterwards.
 */
export function scanStructure(text: string, maxDepth: number, file?: string, duplicates?: DuplicateKey[]): void {
  scan(text, maxDepth, file, duplicates, false);
}

/**
 * Below the levels whose keys are checked only nesting and strings matter, and that part is
 * almost all of a document: unless `precise`, it is walked by a lean loop (skipDeep), and only a
 * document found too deep there is walked again with every position tracked, for the path of
 * its error (the second walk meets, and reports, everything the first one did before that).
 */
function scan(text: string, maxDepth: number, file: string | undefined, duplicates: DuplicateKey[] | undefined, precise: boolean): void {
  const n = text.length;
  const before = duplicates?.length ?? 0;
  // per depth: 1 = object, 0 = array; the position of the current key or the element index
  const isObject: number[] = [];
  const keyStart: number[] = [];
  const keyEnd: number[] = [];
  const index: number[] = [];
  const keySets: (Set<string> | undefined)[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (end < 0) return; // unterminated; JSON.parse will say so
      if (expectKey && depth > 0) {
        keyStart[depth] = i;
        keyEnd[depth] = end;
        const keys = keySets[depth];
        if (keys !== undefined) {
          const key = decodeKey(text, i, end);
          if (keys.has(key)) {
            const parent = segmentsAt(text, depth - 1, isObject, keyStart, keyEnd, index);
            if (duplicates) duplicates.push({ parent, key, at: lineColumn(text, i) });
            else {
              throw new RegistryError(
                'duplicate_name',
                `key ${JSON.stringify(key)} appears twice in the same object (second at ${lineColumn(text, i)}); JSON keeps only the last, so the document is ambiguous`,
                { where: { ...whereFile(file), path: formatPath([...parent, key]), ...(depth === 2 && isServerMap(text, keyStart[1], keyEnd[1]) ? { server: key } : {}) } },
              );
            }
          }
          keys.add(key);
        }
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > maxDepth) {
        const path = pathAt(text, depth - 1, isObject, keyStart, keyEnd, index);
        throw new RegistryError('too_deep', `nesting deeper than ${maxDepth} levels at ${lineColumn(text, i)}`, {
          where: { ...whereFile(file), ...(path ? { path } : {}) },
        });
      }
      if (depth > DUPLICATE_KEY_DEPTH && !precise) {
        const end = skipDeep(text, i + 1, depth, maxDepth);
        if (end === TOO_DEEP) {
          if (duplicates) duplicates.length = before; // the second walk finds them again
          return scan(text, maxDepth, file, duplicates, true);
        }
        if (end === UNTERMINATED) return;
        // back at DUPLICATE_KEY_DEPTH, after the bracket that closed this value
        i = end;
        depth--;
        expectKey = false;
        continue;
      }
      const obj = c === 0x7b ? 1 : 0;
      isObject[depth] = obj;
      index[depth] = 0;
      keyStart[depth] = -1;
      keySets[depth] = obj === 1 && depth <= DUPLICATE_KEY_DEPTH ? new Set() : undefined;
      expectKey = obj === 1;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      keySets[depth] = undefined;
      depth--;
      expectKey = false;
      if (depth < 0) return;
    } else if (c === 0x2c /* , */) {
      if (depth > 0) {
        if (isObject[depth] === 1) expectKey = true;
        else index[depth] = (index[depth] ?? 0) + 1;
      }
    }
  }
}

const TOO_DEEP = -2;
const UNTERMINATED = -1;

/**
 * From just inside a bracket opened at `depth` (past the levels with checked keys): the index
 * of the bracket that closes it, TOO_DEEP when the nesting passes `maxDepth` on the way, or
 * UNTERMINATED when a string does not end (or the text ends first: JSON.parse will say so).
 */
function skipDeep(text: string, from: number, depth: number, maxDepth: number): number {
  const n = text.length;
  const bottom = depth;
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (end < 0) return UNTERMINATED;
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) return TOO_DEEP;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth-- === bottom) return i;
    }
  }
  return UNTERMINATED;
}

/** index of the closing quote of the string opening at `start`, or -1 */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) return -1;
    let backslashes = 0;
    for (let k = q - 1; k > start && text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return q;
    j = q + 1;
  }
}

function decodeKey(text: string, start: number, end: number): string {
  const raw = text.slice(start, end + 1);
  if (raw.indexOf('\\') < 0) return raw.slice(1, -1);
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, -1);
  }
}

function isServerMap(text: string, start: number | undefined, end: number | undefined): boolean {
  if (start === undefined || end === undefined || start < 0) return false;
  const key = decodeKey(text, start, end);
  return key === 'servers' || key === 'remote_servers';
}

function pathAt(text: string, depth: number, isObject: number[], keyStart: number[], keyEnd: number[], index: number[]): string {
  return formatPath(segmentsAt(text, depth, isObject, keyStart, keyEnd, index));
}

function segmentsAt(text: string, depth: number, isObject: number[], keyStart: number[], keyEnd: number[], index: number[]): PathSegment[] {
  const segments: PathSegment[] = [];
  for (let d = 1; d <= depth; d++) {
    if (isObject[d] === 1) {
      const s = keyStart[d];
      const e = keyEnd[d];
      if (s === undefined || e === undefined || s < 0) break;
      segments.push(decodeKey(text, s, e));
    } else {
      segments.push(index[d] ?? 0);
    }
  }
  return segments;
}

/** `line L column C` (1-based, columns in characters) of a character index */
export function lineColumn(text: string, position: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < position; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line} column ${position - lineStart + 1}`;
}

/**
 * JSON.parse's message without the excerpt of the input it quotes (`Unexpected token 'x',
 * "…" is not valid JSON`): a document may hold anything a source sent, credentials included.
 */
export function jsonParseMessage(e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e);
  return raw.replace(/, (?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/, '');
}

function syntaxError(text: string, e: unknown, file: string | undefined): RegistryError {
  const raw = jsonParseMessage(e);
  if (/^Unexpected end of JSON input/.test(raw)) {
    return new RegistryError('invalid_json', `truncated JSON: the document ends before its value is complete (at ${lineColumn(text, text.length)})`, {
      where: whereFile(file),
      cause: e,
    });
  }
  const at = /at position (\d+)/.exec(raw);
  if (at && Number(at[1]) >= text.trimEnd().length) {
    return new RegistryError('invalid_json', `truncated JSON: the document ends before its value is complete (at ${lineColumn(text, Number(at[1]))})`, {
      where: whereFile(file),
      cause: e,
    });
  }
  let message = raw.replace(/ in JSON at position \d+ \(line \d+ column \d+\)$/, '').replace(/ in JSON at position \d+$/, '');
  message = message.replace(/\r?\n/g, '\\n');
  if (message.length > 200) message = `${message.slice(0, 200)}…`;
  const where = at ? ` at ${lineColumn(text, Number(at[1]))}` : '';
  return new RegistryError('invalid_json', `not valid JSON: ${message}${where}`, { where: whereFile(file), cause: e });
}

function whereFile(file: string | undefined): ErrorWhere {
  return file === undefined ? {} : { file };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** Offset of the first byte that breaks UTF-8 (only called once isUtf8 said no). */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return n;
}
