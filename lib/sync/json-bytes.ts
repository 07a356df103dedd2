import { createHash } from 'node:crypto';

/**
 * Snapshot files serialised piece by piece straight into one UTF-8 buffer, byte for byte what
 * `JSON.stringify` of the whole value gives, plus the SHA-256 of those bytes with chosen values
 * replaced by stand-ins (so that, say, `last_updated` does not change the content hash).
 *
 * Why not `encode(JSON.stringify(value))`: for a 100k-version registry that is a 111 MB
 * string and then a 111 MB copy of it, both alive at once on top of the parsed entries. Here
 * only one entry's text exists at a time, and the buffer, allocated from an estimate, is
 * resident only as far as it is written.
 */
export class JsonBytes {
  #buf: Buffer;
  #length = 0;
  /** [start, end) ranges hashed as `text` instead of the bytes written there */
  #standIns: { start: number; end: number; text: string }[] = [];

  /** `estimate`: the expected size in bytes; the buffer grows (doubling) when it is passed */
  constructor(estimate: number) {
    this.#buf = Buffer.allocUnsafe(Math.max(1024, Math.ceil(estimate)));
  }

  get length(): number {
    return this.#length;
  }

  /** raw JSON text */
  text(text: string): void {
    // at most 3 UTF-8 bytes per UTF-16 unit: only near the end is the exact length needed
    if (this.#length + text.length * 3 > this.#buf.length) {
      const needed = this.#length + Buffer.byteLength(text);
      if (needed > this.#buf.length) this.#grow(needed);
    }
    this.#length += this.#buf.write(text, this.#length, 'utf8');
  }

  /** JSON.stringify(value); `undefined` (which JSON leaves out) must be handled by the caller */
  value(value: unknown): void {
    this.text(JSON.stringify(value));
  }

  /** JSON.stringify(value), hashed as if it were `standIn` (JSON text) */
  valueHashedAs(value: unknown, standIn: string): void {
    const start = this.#length;
    this.value(value);
    this.#standIns.push({ start, end: this.#length, text: standIn });
  }

  /**
   * `[a,b,…]` of the items, each written on its own. Equal to JSON.stringify(items) for items
   * that are JSON values (no `undefined`, functions or symbols, which it writes as null).
   * `release`: set each slot to undefined once written, so that what only this array still
   * holds can be collected while the text grows.
   */
  array(items: unknown[], release = false): void {
    this.#byte(0x5b); // [
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.#byte(0x2c); // ,
      const json = JSON.stringify(items[i]);
      if (release) items[i] = undefined;
      this.text(json === undefined ? 'null' : json);
    }
    this.#byte(0x5d); // ]
  }

  /**
   * An object, key by key in property order as JSON.stringify does (keys whose value JSON
   * leaves out are skipped). The values of `entryMaps` keys are written entry by entry, and
   * those of `standIns` keys are hashed as the given JSON text.
   */
  object(obj: Record<string, unknown>, options: { entryMaps?: readonly string[]; standIns?: Readonly<Record<string, string>> } = {}): void {
    this.text('{');
    let first = true;
    for (const key of Object.keys(obj)) {
      const value = obj[key];
      if (!isSerialised(value)) continue;
      this.text(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
      first = false;
      const standIn = options.standIns?.[key];
      if (standIn !== undefined) this.valueHashedAs(value, standIn);
      else if (value instanceof LazyEntries) this.#lazy(value);
      else if (options.entryMaps?.includes(key) && isPlainObject(value)) this.object(value);
      else this.value(value);
    }
    this.text('}');
  }

  /** the bytes written (a view of the buffer) */
  bytes(): Uint8Array {
    return new Uint8Array(this.#buf.buffer, this.#buf.byteOffset, this.#length);
  }

  /** SHA-256 (hex) of the bytes written, with the stand-ins in place of their ranges */
  sha256(): string {
    const hash = createHash('sha256');
    let at = 0;
    for (const s of this.#standIns) {
      hash.update(this.#buf.subarray(at, s.start));
      hash.update(s.text);
      at = s.end;
    }
    hash.update(this.#buf.subarray(at, this.#length));
    return hash.digest('hex');
  }

  #lazy(entries: LazyEntries): void {
    this.text('{');
    let first = true;
    for (let i = 0; i < entries.keys.length; i++) {
      const json = JSON.stringify(entries.valueAt(i));
      if (json === undefined) continue;
      this.text(first ? `${JSON.stringify(entries.keys[i])}:` : `,${JSON.stringify(entries.keys[i])}:`);
      this.text(json);
      first = false;
    }
    this.text('}');
  }

  /** one ASCII character */
  #byte(code: number): void {
    if (this.#length + 1 > this.#buf.length) this.#grow(this.#length + 1);
    this.#buf[this.#length++] = code;
  }

  #grow(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(needed, this.#buf.length * 2));
    this.#buf.copy(next, 0, 0, this.#length);
    this.#buf = next;
  }
}

/**
 * The entries of a JSON object made one at a time as `object()` writes them (and dropped right
 * after), for maps too big to hold twice: `valueAt(i)` is the value of `keys[i]`.
 */
export class LazyEntries {
  readonly keys: readonly string[];
  readonly valueAt: (i: number) => unknown;
  constructor(keys: readonly string[], valueAt: (i: number) => unknown) {
    this.keys = keys;
    this.valueAt = valueAt;
  }
}

/** JSON.stringify writes the key for these values (and leaves out undefined, functions and symbols) */
function isSerialised(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** SHA-256 (hex) of JSON.stringify(items) for an array of JSON values, without building the text */
export function sha256OfJsonArray(items: readonly unknown[]): string {
  const hash = createHash('sha256');
  hash.update('[');
  for (let i = 0; i < items.length; i++) {
    if (i > 0) hash.update(',');
    hash.update(JSON.stringify(items[i]) ?? 'null');
  }
  hash.update(']');
  return hash.digest('hex');
}
