import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryError } from '../errors.ts';

/**
 * A lock file shared by every process that writes the same directory tree.
 *
 * Acquire: create `path` with O_CREAT|O_EXCL (`open(…, 'wx')`), which exactly one process can
 * do, and write an owner record (host, pid, random token) into it. Release: remove it again,
 * but only while it still holds our token.
 *
 * A lock whose owner died would block its key forever, so a waiter may break a *stale* lock:
 * one whose owner is a dead process on this host, or (owner elsewhere, or owner record not
 * readable) one older than `staleMs`. Breaking is itself a race between waiters, so it is done
 * by renaming the lock file to a unique name — only one waiter can move a given file — and then
 * checking that the file moved is the very one judged stale (same token). If a waiter moved a
 * fresh lock by mistake it puts it back with `link()`, which fails rather than overwrite a
 * newer lock. A holder re-checks its token right before it commits (`stillHeld`), so a holder
 * whose lock was broken (it was paused for longer than `staleMs`) gives up instead of writing.
 */

export interface LockOptions {
  /** give up waiting after this long (RegistryError store_unavailable, transient) */
  timeoutMs: number;
  /** a lock older than this whose owner cannot be shown alive is broken */
  staleMs: number;
}

interface Owner {
  host: string;
  pid: number;
  token: string;
}

export interface HeldLock {
  /** true while the lock file still carries our token */
  stillHeld(): Promise<boolean>;
  release(): Promise<void>;
}

const HOST = hostname();

function isCode(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as { code?: string }).code ?? '');
}

async function readOwner(path: string): Promise<{ owner: Owner | null; raw: string } | null> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    if (isCode(e, 'ENOENT')) return null;
    throw e;
  }
  try {
    const parsed = JSON.parse(raw) as Partial<Owner>;
    if (typeof parsed.token === 'string' && typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { owner: parsed as Owner, raw };
    }
  } catch {
    // a lock file whose writer died between create and write: empty or partial
  }
  return { owner: null, raw };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else
    return !isCode(e, 'ESRCH');
  }
}

async function isStale(path: string, owner: Owner | null, staleMs: number): Promise<boolean> {
  if (owner && owner.host === HOST && owner.pid !== process.pid && !processAlive(owner.pid)) return true;
  try {
    const info = await stat(path);
    return Date.now() - info.mtimeMs > staleMs;
  } catch (e) {
    if (isCode(e, 'ENOENT')) return false; // gone already: just retry
    throw e;
  }
}

/** Move a stale lock out of the way; true when the lock was broken (or had vanished). */
async function breakLock(path: string, staleRaw: string): Promise<boolean> {
  const aside = `${path}.broken-${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (e) {
    if (isCode(e, 'ENOENT')) return true;
    throw e;
  }
  let movedRaw: string | null = null;
  try {
    movedRaw = await readFile(aside, 'utf8');
  } catch {
    movedRaw = null;
  }
  if (movedRaw !== staleRaw) {
    // We moved a lock taken after our staleness check: put it back unless a newer one exists.
    await link(aside, path).catch(() => {});
  }
  await unlink(aside).catch(() => {});
  return movedRaw === staleRaw;
}

export async function acquireLock(path: string, options: LockOptions, where: { key: string }): Promise<HeldLock> {
  const token = randomBytes(16).toString('hex');
  const record = JSON.stringify({ host: HOST, pid: process.pid, token, since: new Date().toISOString() });
  const deadline = Date.now() + options.timeoutMs;
  let wait = 1;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(record);
      } finally {
        await handle.close();
      }
      return {
        stillHeld: async () => (await readOwner(path))?.owner?.token === token,
        release: async () => {
          if ((await readOwner(path))?.owner?.token === token) await unlink(path).catch(() => {});
        },
      };
    } catch (e) {
      if (!isCode(e, 'EEXIST')) throw e;
    }
    const current = await readOwner(path);
    if (current && (await isStale(path, current.owner, options.staleMs))) {
      await breakLock(path, current.raw);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new RegistryError('store_unavailable', `timed out after ${options.timeoutMs} ms waiting for the write lock`, {
        where,
        transient: true,
      });
    }
    // jittered, growing wait: holders keep the lock for a few milliseconds only
    await sleep(wait + Math.random() * wait);
    wait = Math.min(wait * 2, 50);
  }
}
