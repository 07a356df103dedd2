/**
 * The snapshot store interface. Two implementations: `fs-store.ts` (local mode) and
 * `s3-store.ts` (production). Keys are `/`-separated, relative to the store root
 * (bucket + prefix, or a directory).
 */

export interface StoredObject {
  body: Uint8Array;
  /** strong validator of exactly these bytes, quoted as an HTTP ETag */
  etag: string;
  contentType?: string;
  /**
   * Present when `body` is only part of the object (a `range` read): the bytes it holds,
   * [start, end), and the object's full size. Absent when `body` is the whole object.
   */
  range?: { start: number; end: number; size: number };
}

export interface PutOptions {
  contentType?: string;
  /**
   * Conditional write. `ifMatch: etag` succeeds only while the stored object still has that
   * ETag; `ifNoneMatch: '*'` succeeds only if no object exists. On a failed precondition the
   * store throws RegistryError('conflict').
   */
  ifMatch?: string;
  ifNoneMatch?: '*';
  /**
   * SHA-256 (hex) of `body`, when the caller has it already: the S3 store sends it as the
   * signed payload hash instead of hashing the body again (S3 checks it against the bytes).
   */
  sha256?: string;
}

export interface GetOptions {
  /** when the stored ETag equals this, `get` returns `'not-modified'` without the body */
  ifNoneMatch?: string;
  /**
   * Read only bytes [start, end) (to the end when `end` is absent). Optional for stores: one
   * that does not support it returns the whole object (no `range` on the result), which is
   * always a correct answer. The ETag is the whole object's.
   */
  range?: { start: number; end?: number };
}

/** one entry of a detailed listing */
export interface ListedObject {
  key: string;
  size: number;
  /** when the object was last written (S3 LastModified, file mtime) */
  lastModified: Date;
}

export interface SnapshotStore {
  /** a short description for logs and status, e.g. `s3://bucket/prefix` or `file:///data` */
  readonly description: string;
  get(key: string, options?: GetOptions): Promise<StoredObject | 'not-modified' | null>;
  /** returns the ETag of the written object */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<{ etag: string }>;
  /** true when the object exists (cheap HEAD) */
  exists(key: string): Promise<boolean>;
  /** every key under a prefix, in lexical order */
  list(prefix: string): Promise<string[]>;
  /** delete keys; a missing key is not an error */
  delete(keys: string[]): Promise<void>;
  /**
   * Like `list`, with size and last-modified time (one request per 1000 keys on S3). Optional:
   * retention uses it to spare young unreferenced snapshots (a sync that is still writing).
   */
  listObjects?(prefix: string): Promise<ListedObject[]>;
  /**
   * Remove what interrupted writes left under `prefix` (the fs store's temp files of a writer
   * killed mid-write) whose last change is before `olderThan`; returns how many. Optional: a
   * store whose writes leave nothing behind has none.
   */
  sweepLeftovers?(prefix: string, olderThan: Date): Promise<number>;
  /** release connections (S3 keep-alive sockets); the store is unusable afterwards */
  close?(): void;
}
