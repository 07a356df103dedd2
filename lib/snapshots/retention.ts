import { RegistryError } from '../errors.ts';
import { validateRef } from './keys.ts';
import { pointerKey, registryPrefix, snapshotsPrefix, type RegistryRef } from './layout.ts';
import { readPointer, type PointerRead } from './read.ts';
import type { ListedObject, SnapshotStore } from './store.ts';

/**
 * Retention and deletion (see README.md, "Retention").
 *
 * Recency comes from the pointer's `history` (newest first), not from object timestamps: a
 * snapshot hash can be published again (A → B → A) without its objects being rewritten, so
 * their LastModified says nothing about when they were last current.
 *
 * pruneSnapshots keeps the current snapshot plus the newest `keep - 1` snapshots of the
 * history and deletes
 *  - snapshots further back in the history, and
 *  - unreferenced snapshots (a sync that lost the race, or one that crashed between its
 *    objects and its pointer) once all their objects are older than `orphanGraceMs`: younger
 *    ones may belong to a sync that is still running.
 * It never deletes what the pointer names, and does nothing while there is no valid pointer.
 */

export interface PruneOptions {
  /** snapshots to keep, the current one included (default 3, at least 1) */
  keep?: number;
  /** spare unreferenced snapshots younger than this (default 1 hour) */
  orphanGraceMs?: number;
  /** clock, for tests */
  now?: () => number;
  /**
   * leftovers of interrupted writes (fs store temp files) older than this are removed (default
   * 10 minutes: a live write of even a large snapshot renames its temp file within seconds)
   */
  leftoverGraceMs?: number;
  /** the pointer as just read or written (with its ETag): spares the first read */
  current?: PointerRead;
  /**
   * the listing of the registry's snapshots, already under way (`listSnapshots`, started while a
   * sync uploads, so that it costs no round trip after the pointer is written): used by the
   * first attempt instead of listing again; a failed one is taken again. Taken before the
   * publish, it lacks at most the objects of the current snapshot, which are kept anyway, and
   * what it lacks is never deleted.
   */
  listing?: Promise<ListedObject[]>;
}

export interface PruneResult {
  /** hashes kept, current first */
  kept: string[];
  /** hashes whose objects were deleted */
  deleted: string[];
  deletedObjects: number;
}

function groupByHash(ref: RegistryRef, objects: ListedObject[]): Map<string, ListedObject[]> {
  const base = snapshotsPrefix(ref);
  const groups = new Map<string, ListedObject[]>();
  for (const object of objects) {
    const hash = object.key.slice(base.length).split('/')[0] ?? '';
    if (!hash) continue;
    const group = groups.get(hash);
    if (group) group.push(object);
    else groups.set(hash, [object]);
  }
  return groups;
}

async function listDetailed(store: SnapshotStore, prefix: string): Promise<ListedObject[]> {
  if (store.listObjects) return store.listObjects(prefix);
  // without timestamps every object counts as brand new: orphans are then never pruned
  return (await store.list(prefix)).map((key) => ({ key, size: 0, lastModified: new Date(8.64e15) }));
}

/** the listing pruneSnapshots works from, to start early (`PruneOptions.listing`) */
export function listSnapshots(store: SnapshotStore, ref: RegistryRef): Promise<ListedObject[]> {
  return listDetailed(store, snapshotsPrefix(ref));
}

export const DEFAULT_LEFTOVER_GRACE_MS = 10 * 60_000;

export async function pruneSnapshots(store: SnapshotStore, ref: RegistryRef, options: PruneOptions = {}): Promise<PruneResult> {
  validateRef(ref);
  const result = await pruneOnce(store, ref, options);
  if (store.sweepLeftovers) {
    const now = options.now ?? Date.now;
    await store.sweepLeftovers(registryPrefix(ref), new Date(now() - (options.leftoverGraceMs ?? DEFAULT_LEFTOVER_GRACE_MS)));
  }
  return result;
}

async function pruneOnce(store: SnapshotStore, ref: RegistryRef, options: PruneOptions): Promise<PruneResult> {
  const keep = options.keep ?? 3;
  if (!Number.isInteger(keep) || keep < 1) throw new RegistryError('invalid_argument', `keep must be an integer >= 1, got ${keep}`);
  const grace = options.orphanGraceMs ?? 60 * 60_000;
  const now = options.now ?? Date.now;

  for (let attempt = 0; attempt < 3; attempt++) {
    // a stale `current` is harmless: the conditional read below notices any change before deleting
    const read = attempt === 0 && options.current ? options.current : await readPointer(store, ref);
    if (read === null) return { kept: [], deleted: [], deletedObjects: 0 };
    const { pointer } = read;
    const known = [pointer.hash, ...(pointer.history ?? []).map((h) => h.hash)].filter((h, i, all) => all.indexOf(h) === i);
    const kept = known.slice(0, keep);
    const retired = new Set(known.slice(keep));
    // the unfiltered source content the current snapshot was built from stays too
    const sourceDir = pointer.source?.key.slice(snapshotsPrefix(ref).length).split('/')[0];
    if (sourceDir && !kept.includes(sourceDir)) {
      kept.push(sourceDir);
      retired.delete(sourceDir);
    }

    const listed = attempt === 0 && options.listing ? await options.listing.catch(() => listDetailed(store, snapshotsPrefix(ref))) : await listDetailed(store, snapshotsPrefix(ref));
    const groups = groupByHash(ref, listed);
    const doomed: string[] = [];
    for (const [hash, objects] of groups) {
      if (kept.includes(hash)) continue;
      const newest = Math.max(...objects.map((o) => o.lastModified.getTime()));
      if (retired.has(hash) || now() - newest > grace) doomed.push(hash);
    }
    if (doomed.length === 0) return { kept, deleted: [], deletedObjects: 0 };

    // a publish in between may have made a doomed snapshot current again: start over
    const again = await store.get(pointerKey(ref), { ifNoneMatch: read.etag });
    if (again !== 'not-modified') continue;

    const keys = doomed.flatMap((hash) => groups.get(hash)!.map((o) => o.key));
    await store.delete(keys);
    return { kept, deleted: doomed.sort(), deletedObjects: keys.length };
  }
  throw new RegistryError('conflict', 'the pointer kept changing while pruning; try again later', {
    where: { key: pointerKey(ref) },
    transient: true,
  });
}

/**
 * Delete everything under `registries/{ns}/{name}/`. The pointer goes first, so readers stop
 * seeing the registry at once and a sync still in flight fails its conditional pointer write.
 */
export async function deleteRegistry(store: SnapshotStore, ref: RegistryRef): Promise<{ deletedObjects: number }> {
  validateRef(ref);
  const key = pointerKey(ref);
  const hadPointer = await store.exists(key);
  await store.delete([key]);
  const rest = await store.list(registryPrefix(ref));
  if (rest.length > 0) await store.delete(rest);
  // every temp file, whatever its age: nothing is written for a deleted registry any more
  await store.sweepLeftovers?.(registryPrefix(ref), new Date(8.64e15));
  return { deletedObjects: rest.length + (hadPointer ? 1 : 0) };
}
