import { createHash, randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { mkdir, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RegistryError, type ErrorWhere } from '../errors.ts';
import { acquireLock, type HeldLock } from './fs-lock.ts';
import { validateKey, validatePrefix } from './keys.ts';
import type { GetOptions, ListedObject, PutOptions, SnapshotStore, StoredObject } from './store.ts';

/**
 * The filesystem snapshot store (local mode, tests, a volume shared by the functions).
 *
 * - A key maps to a file under `dir` (`a/b/c.json` → `dir/a/b/c.json`); keys are validated
 *   first, so nothing resolves outside `dir`.
 * - Writes are atomic: the bytes go to a temp file in the target's directory, are flushed, and
 *   the temp file is renamed over the target. Readers see the old bytes or the new, never a mix.
 * - The ETag is the quoted sha256 of the bytes (cached per inode, so re-reading an unchanged
 *   100 MB snapshot does not re-hash it).
 * - Every mutation of a key (put, conditional or not, and delete) holds that key's lock file
 *   (`.<name>.lock` beside it, see fs-lock.ts) while it checks the precondition and renames, so
 *   conditional writes stay correct with writers in several processes sharing the directory.
 *   The temp file is written before the lock is taken: the lock is held for milliseconds.
 * - Names starting with `.` are the store's own (temp and lock files); listings skip them. A
 *   writer killed mid-write leaves its temp file (`.<name>.<pid>.<random>.tmp`) behind:
 *   `sweepLeftovers` removes those older than a given time (retention and registry deletion).
 */

export interface FsStoreOptions {
  dir: string;
  /** fsync files and directories so a published pointer survives a power cut (default true) */
  durable?: boolean;
  /** how long a write waits for another writer's lock (default 10 s) */
  lockTimeoutMs?: number;
  /** age after which a lock whose owner cannot be shown alive is broken (default 30 s) */
  staleLockMs?: number;
}

interface CachedEtag {
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  etag: string;
}

const MAX_CACHED_ETAGS = 10_000;
/** `.<name>.<pid>.<12 hex>.tmp`, as `put` names its temp files */
const TEMP_NAME = /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/;

export function sha256Etag(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('hex')}"`;
}

function isCode(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as { code?: string }).code ?? '');
}

/** Strong comparison of two ETags given with or without quotes. */
export function sameEtag(a: string, b: string): boolean {
  const bare = (s: string) => s.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  return bare(a) === bare(b);
}

function contentTypeOf(key: string): string | undefined {
  return key.endsWith('.json') ? 'application/json' : undefined;
}

export class FsStore implements SnapshotStore {
  readonly description: string;
  readonly #root: string;
  readonly #durable: boolean;
  readonly #lockTimeoutMs: number;
  readonly #staleLockMs: number;
  readonly #etags = new Map<string, CachedEtag>();

  constructor(options: FsStoreOptions) {
    if (!options.dir) throw new RegistryError('invalid_argument', 'the filesystem store needs a directory');
    this.#root = resolve(options.dir);
    this.#durable = options.durable ?? true;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.#staleLockMs = options.staleLockMs ?? 30_000;
    this.description = pathToFileURL(this.#root).href;
  }

  #path(key: string): string {
    return join(this.#root, ...validateKey(key).split('/'));
  }

  #fail(e: unknown, key: string, action: string): never {
    if (e instanceof RegistryError) throw e;
    const code = (e as { code?: string }).code ?? 'error';
    const where: ErrorWhere = { key, file: this.description };
    // out of space, too many open files, I/O hiccups: worth retrying later
    const transient = ['ENOSPC', 'EMFILE', 'ENFILE', 'EIO', 'EAGAIN', 'EBUSY'].includes(code);
    throw new RegistryError('store_unavailable', `could not ${action} (${code})`, { where, transient, cause: e });
  }

  async #etagOf(path: string, info: BigIntStats, read: () => Promise<Uint8Array>): Promise<{ etag: string; body?: Uint8Array }> {
    const hit = this.#etags.get(path);
    if (hit && hit.ino === info.ino && hit.size === info.size && hit.mtimeNs === info.mtimeNs && hit.ctimeNs === info.ctimeNs) {
      return { etag: hit.etag };
    }
    const body = await read();
    const etag = sha256Etag(body);
    this.#remember(path, info, etag);
    return { etag, body };
  }

  #remember(path: string, info: BigIntStats, etag: string): void {
    if (this.#etags.size >= MAX_CACHED_ETAGS) this.#etags.clear();
    this.#etags.set(path, { ino: info.ino, size: info.size, mtimeNs: info.mtimeNs, ctimeNs: info.ctimeNs, etag });
  }

  async get(key: string, options: GetOptions = {}): Promise<StoredObject | 'not-modified' | null> {
    const path = this.#path(key);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      if (isCode(e, 'ENOENT', 'ENOTDIR')) return null;
      if (isCode(e, 'EISDIR')) return null;
      this.#fail(e, key, 'open the object');
    }
    try {
      const info = await handle.stat({ bigint: true });
      if (!info.isFile()) return null;
      let body: Uint8Array | undefined;
      const readAll = async () => (body = await handle.readFile());
      const { etag } = await this.#etagOf(path, info, readAll);
      if (options.ifNoneMatch !== undefined && sameEtag(options.ifNoneMatch, etag)) return 'not-modified';
      const contentType = contentTypeOf(key);
      const size = Number(info.size);
      const range = options.range;
      if (range && body === undefined && (range.start > 0 || (range.end ?? size) < size)) {
        const start = Math.min(Math.max(0, range.start), size);
        const end = Math.max(start, Math.min(range.end ?? size, size));
        const part = Buffer.alloc(end - start);
        let read = 0;
        while (read < part.length) {
          const { bytesRead } = await handle.read(part, read, part.length - read, start + read);
          if (bytesRead === 0) break;
          read += bytesRead;
        }
        const partial: StoredObject = { body: part.subarray(0, read), etag, range: { start, end: start + read, size } };
        if (contentType) partial.contentType = contentType;
        return partial;
      }
      body ??= await handle.readFile();
      return contentType ? { body, etag, contentType } : { body, etag };
    } catch (e) {
      this.#fail(e, key, 'read the object');
    } finally {
      await handle.close();
    }
  }

  async exists(key: string): Promise<boolean> {
    const path = this.#path(key);
    try {
      return (await stat(path)).isFile();
    } catch (e) {
      if (isCode(e, 'ENOENT', 'ENOTDIR')) return false;
      this.#fail(e, key, 'stat the object');
    }
  }

  /** the current ETag of the file at `path`, or null when there is none */
  async #currentEtag(path: string): Promise<string | null> {
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      if (isCode(e, 'ENOENT', 'ENOTDIR')) return null;
      throw e;
    }
    try {
      const info = await handle.stat({ bigint: true });
      if (!info.isFile()) return null;
      return (await this.#etagOf(path, info, () => handle.readFile())).etag;
    } finally {
      await handle.close();
    }
  }

  async #withLock<T>(path: string, key: string, work: (lock: HeldLock) => Promise<T>): Promise<T> {
    const lockPath = join(dirname(path), `.${path.slice(dirname(path).length + 1)}.lock`);
    const lock = await this.#retryingMissingDir(path, () =>
      acquireLock(lockPath, { timeoutMs: this.#lockTimeoutMs, staleMs: this.#staleLockMs }, { key }),
    );
    try {
      return await work(lock);
    } finally {
      await lock.release();
    }
  }

  /** mkdir -p, then run; once more if a concurrent delete removed the (empty) directory meanwhile */
  async #retryingMissingDir<T>(path: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await mkdir(dirname(path), { recursive: true });
      try {
        return await run();
      } catch (e) {
        if (attempt < 3 && isCode(e, 'ENOENT')) continue;
        throw e;
      }
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<{ etag: string }> {
    const path = this.#path(key);
    if (options.ifMatch !== undefined && options.ifNoneMatch !== undefined) {
      throw new RegistryError('invalid_argument', 'ifMatch and ifNoneMatch cannot be combined', { where: { key } });
    }
    const etag = sha256Etag(body);
    const temp = join(dirname(path), `.${path.slice(dirname(path).length + 1)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await this.#retryingMissingDir(path, () => this.#writeTemp(temp, body));
      await this.#withLock(path, key, async (lock) => {
        if (options.ifMatch !== undefined || options.ifNoneMatch !== undefined) {
          const current = await this.#currentEtag(path);
          if (options.ifNoneMatch === '*' && current !== null) {
            throw new RegistryError('conflict', 'the object already exists (ifNoneMatch: *)', { where: { key } });
          }
          if (options.ifMatch !== undefined && (current === null || !sameEtag(current, options.ifMatch))) {
            const why = current === null ? 'the object does not exist' : 'the object changed';
            throw new RegistryError('conflict', `${why} (ifMatch ${options.ifMatch})`, { where: { key } });
          }
        }
        if (!(await lock.stillHeld())) {
          throw new RegistryError('conflict', 'lost the write lock to another writer (this writer stalled)', {
            where: { key },
            transient: true,
          });
        }
        await rename(temp, path);
        if (this.#durable) await this.#syncDir(dirname(path));
        this.#remember(path, await stat(path, { bigint: true }), etag);
      });
    } catch (e) {
      await unlink(temp).catch(() => {});
      this.#fail(e, key, 'write the object');
    }
    return { etag };
  }

  async #writeTemp(temp: string, body: Uint8Array): Promise<void> {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(body);
      if (this.#durable) await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  async #syncDir(dir: string): Promise<void> {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } catch (e) {
      // some filesystems refuse fsync on directories; the rename itself is still atomic
      if (!isCode(e, 'EINVAL', 'EPERM', 'EISDIR', 'EBADF')) throw e;
    } finally {
      await handle.close();
    }
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.listObjects(prefix)).map((o) => o.key);
  }

  async listObjects(prefix: string): Promise<ListedObject[]> {
    validatePrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash + 1);
    const out: ListedObject[] = [];
    const walk = async (dirKey: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(join(this.#root, ...dirKey.split('/').filter(Boolean)), { withFileTypes: true });
      } catch (e) {
        if (isCode(e, 'ENOENT', 'ENOTDIR')) return;
        this.#fail(e, prefix, 'list objects');
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        const key = dirKey + entry.name;
        if (entry.isDirectory()) {
          // descend only where keys can still match the prefix
          const dirPath = `${key}/`;
          if (dirPath.startsWith(prefix) || prefix.startsWith(dirPath)) await walk(dirPath);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          try {
            const info = await stat(join(this.#root, ...key.split('/')));
            out.push({ key, size: info.size, lastModified: info.mtime });
          } catch (e) {
            if (!isCode(e, 'ENOENT')) this.#fail(e, key, 'stat the object');
          }
        }
      }
    };
    await walk(base);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async sweepLeftovers(prefix: string, olderThan: Date): Promise<number> {
    validatePrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash + 1);
    let removed = 0;
    const dirs: string[] = [];
    const walk = async (dirKey: string): Promise<void> => {
      const dir = join(this.#root, ...dirKey.split('/').filter(Boolean));
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isCode(e, 'ENOENT', 'ENOTDIR')) return;
        this.#fail(e, prefix, 'list leftovers');
      }
      for (const entry of entries) {
        const key = dirKey + entry.name;
        if (entry.isDirectory()) {
          const dirPath = `${key}/`;
          if (dirPath.startsWith(prefix) || prefix.startsWith(dirPath)) await walk(dirPath);
        } else if (entry.isFile() && TEMP_NAME.test(entry.name) && dirKey.startsWith(base) && (dirKey + entry.name.slice(1)).startsWith(prefix)) {
          const path = join(dir, entry.name);
          try {
            if ((await stat(path)).mtime >= olderThan) continue;
            await unlink(path);
            removed++;
            dirs.push(dir);
          } catch (e) {
            // renamed into place or removed meanwhile
            if (!isCode(e, 'ENOENT')) this.#fail(e, key, 'remove a leftover temp file');
          }
        }
      }
    };
    await walk(base);
    for (const dir of [...new Set(dirs)].sort((a, b) => b.length - a.length)) await this.#removeEmptyDirs(dir);
    return removed;
  }

  async delete(keys: string[]): Promise<void> {
    const paths = keys.map((key) => [key, this.#path(key)] as const);
    const dirs = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < paths.length) {
        const [key, path] = paths[next++]!;
        // already absent: the delete takes effect at this observation, no lock needed
        if (!(await this.exists(key))) continue;
        try {
          await this.#withLock(path, key, async () => {
            await unlink(path).catch((e) => {
              if (!isCode(e, 'ENOENT')) throw e;
            });
            this.#etags.delete(path);
          });
        } catch (e) {
          this.#fail(e, key, 'delete the object');
        }
        dirs.add(dirname(path));
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, paths.length) }, worker));
    // remove directories left empty, deepest first, never the root itself
    const sorted = [...dirs].sort((a, b) => b.length - a.length);
    for (const dir of sorted) await this.#removeEmptyDirs(dir);
  }

  async #removeEmptyDirs(dir: string): Promise<void> {
    let current = dir;
    while (current.startsWith(this.#root + sep) && current !== this.#root) {
      try {
        await rmdir(current);
      } catch (e) {
        if (!isCode(e, 'ENOENT')) return; // not empty, or in use: stop climbing
      }
      current = dirname(current);
    }
  }
}

export function createFsStore(options: FsStoreOptions): FsStore {
  return new FsStore(options);
}
