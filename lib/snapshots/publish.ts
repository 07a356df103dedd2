import { RegistryError } from '../errors.ts';
import { validateRef } from './keys.ts';
import { pointerKey, snapshotKey, type RegistryRef } from './layout.ts';
import { SnapshotPointer } from './pointer.ts';
import { parsePointer, pointerProblem } from './read.ts';
import type { SnapshotStore } from './store.ts';

/**
 * Publishing a snapshot: immutable objects first, the pointer last with a conditional write.
 *
 *  1. Check the pointer still has the ETag the caller built on (`expectedPointerEtag`, null for
 *     "no pointer yet"). A sync that already lost the race stops here, before uploading
 *     anything; the final conditional write below is what actually guarantees it.
 *  2. Write `snapshots/{hash}/toolhive.json` and `upstream.json`, skipping any that already
 *     exist: they are content-addressed, so an existing object holds these very bytes. The
 *     existence checks run alongside step 1's read. A caller that knows the hash is new
 *     (`mayExist: false`: neither the current snapshot nor in the pointer's history) skips
 *     them: at worst the upload rewrites the same bytes over an unreferenced leftover, and
 *     every sync that publishes new content saves a round trip.
 *  3. Write `current.json` with `ifMatch: expected` (or `ifNoneMatch: '*'`). If another sync
 *     got there first this fails with RegistryError('conflict'); the objects written in step
 *     2 stay harmless (unreferenced; retention removes them later).
 *  4. Check that the objects step 2 reused still exist and rewrite any that vanished: a
 *     concurrent prune may have removed an old snapshot from the history. (Objects written in
 *     step 2 are young and not in the history the winning pointer replaced, so no prune takes
 *     them.) The pointer is written by now: a store failure here is counted
 *     (`objectsUnverified`), not thrown.
 */

/** What the caller decides; identity, hash, object keys and history are filled in here. */
export type PointerFields = Omit<SnapshotPointer, 'apiVersion' | 'namespace' | 'name' | 'hash' | 'objects' | 'history'>;

export interface PublishInput {
  /** content hash of the snapshot (64 lowercase hex) */
  hash: string;
  files: { toolhive: Uint8Array; upstream: Uint8Array };
  /** SHA-256 (hex) of a file's bytes, where the caller has it: the store need not hash them again */
  sha256?: { toolhive?: string; upstream?: string };
  pointer: PointerFields;
  /** ETag of the pointer this snapshot replaces (from readPointer), or null for the first publish */
  expectedPointerEtag: string | null;
  /** how many earlier snapshots the pointer remembers for retention (default 10) */
  historyLength?: number;
  /**
   * false when the objects of `hash` are not expected to exist (the hash is neither the current
   * snapshot nor in the pointer's history): they are uploaded without looking first. Default
   * true: look, and reuse what exists.
   */
  mayExist?: boolean;
}

export interface PublishResult {
  pointer: SnapshotPointer;
  /** ETag of the new pointer */
  etag: string;
  /** snapshot objects uploaded (0 to 2, plus any rewritten in step 4) */
  objectsWritten: number;
  /** snapshot objects that already existed */
  objectsReused: number;
  /**
   * reused objects whose presence could not be confirmed after the pointer was written (the
   * store failed both the check and the rewrite): the publish stands, the caller may warn
   */
  objectsUnverified: number;
}

const HASH = /^[0-9a-f]{64}$/;
const encoder = new TextEncoder();

function lostRace(ref: RegistryRef, why: string): RegistryError {
  return new RegistryError('conflict', `another sync published ${ref.namespace}/${ref.name} first (${why})`, {
    where: { key: pointerKey(ref) },
  });
}

export async function publishSnapshot(store: SnapshotStore, ref: RegistryRef, input: PublishInput): Promise<PublishResult> {
  validateRef(ref);
  if (!HASH.test(input.hash)) {
    throw new RegistryError('invalid_argument', `snapshot hash must be 64 lowercase hex digits, got ${JSON.stringify(input.hash)}`);
  }
  const key = pointerKey(ref);

  const objects = {
    toolhive: snapshotKey(ref, input.hash, 'toolhive.json'),
    upstream: snapshotKey(ref, input.hash, 'upstream.json'),
  };
  const files = [
    [objects.toolhive, input.files.toolhive, input.sha256?.toolhive],
    [objects.upstream, input.files.upstream, input.sha256?.upstream],
  ] as const;

  // 1. early check, and the previous pointer for the history; the existence checks of step 2
  //    go along when the caller says the hash may exist
  const [current, present] = await Promise.all([
    store.get(key),
    input.mayExist === false ? files.map(() => false) : Promise.all(files.map(([objectKey]) => store.exists(objectKey))),
  ]);
  if (current === 'not-modified') throw new RegistryError('internal', 'store answered not-modified to an unconditional read');
  let previous: SnapshotPointer | null = null;
  if (input.expectedPointerEtag === null) {
    if (current !== null) throw lostRace(ref, 'a pointer now exists');
  } else {
    if (current === null) throw lostRace(ref, 'the pointer was deleted');
    if (current.etag !== input.expectedPointerEtag) throw lostRace(ref, 'the pointer changed');
    try {
      previous = parsePointer(ref, current);
    } catch {
      previous = null; // replacing a corrupt pointer: it has no usable history
    }
  }

  // the new pointer, checked before anything is uploaded
  const limit = input.historyLength ?? 10;
  const history: { hash: string; syncedAt: string }[] = [];
  if (previous) {
    for (const entry of [{ hash: previous.hash, syncedAt: previous.syncedAt }, ...(previous.history ?? [])]) {
      if (entry.hash !== input.hash && !history.some((h) => h.hash === entry.hash)) history.push(entry);
    }
  }
  const candidate = {
    ...input.pointer,
    apiVersion: 'mcpreg/v1',
    namespace: ref.namespace,
    name: ref.name,
    hash: input.hash,
    objects,
    history: history.slice(0, Math.max(0, limit)),
  };
  const checked = SnapshotPointer.safeParse(candidate);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new RegistryError('invalid_argument', `pointer field ${issue.path.map(String).join('.')}: ${issue.message}`, { where: { key } });
  }
  const pointer = checked.data;
  const problem = pointerProblem(ref, pointer);
  if (problem) throw new RegistryError('invalid_argument', `the new pointer ${problem}`, { where: { key } });

  // 2. immutable objects
  let objectsWritten = 0;
  let objectsReused = 0;
  const reused: (typeof files)[number][] = [];
  await Promise.all(
    files.map(async (file, i) => {
      if (present[i]) {
        objectsReused++;
        reused.push(file);
        return;
      }
      await store.put(file[0], file[1], { contentType: 'application/json', ...(file[2] !== undefined ? { sha256: file[2] } : {}) });
      objectsWritten++;
    }),
  );

  // 3. the pointer
  const body = encoder.encode(`${JSON.stringify(pointer, null, 2)}\n`);
  const etag = await writePointer(store, ref, key, body, input.expectedPointerEtag);

  // 4. heal a reused object that a concurrent prune removed meanwhile. The pointer is written,
  // so the publish has happened whatever the store does now: a check that fails is answered by
  // writing the object again, and a failure of both is reported, never thrown (a thrown error
  // would make the sync report the old snapshot while this one is served)
  let objectsUnverified = 0;
  await Promise.all(
    reused.map(async ([objectKey, fileBody]) => {
      if (await store.exists(objectKey).catch(() => false)) return;
      try {
        await store.put(objectKey, fileBody, { contentType: 'application/json' });
        objectsWritten++;
      } catch {
        objectsUnverified++;
      }
    }),
  );
  return { pointer, etag, objectsWritten, objectsReused, objectsUnverified };
}

/**
 * The conditional pointer write. A write whose answer was lost (the connection cut after S3
 * stored it) is retried by the client and then meets its own pointer (412), or its retries
 * fail (503s, timeouts: the client gives up) although the first attempt was stored. Either
 * way the stored pointer is read back: one byte-equal to ours is our publish, not a lost race
 * and not a failure (else the sync would report the old snapshot while the new one is served).
 */
async function writePointer(store: SnapshotStore, ref: RegistryRef, key: string, body: Uint8Array, expectedPointerEtag: string | null): Promise<string> {
  try {
    const options = expectedPointerEtag === null ? { ifNoneMatch: '*' as const } : { ifMatch: expectedPointerEtag };
    return (await store.put(key, body, { contentType: 'application/json', ...options })).etag;
  } catch (e) {
    const conflict = e instanceof RegistryError && e.code === 'conflict';
    if (!conflict && !(e instanceof RegistryError && e.transient)) throw e;
    const stored = conflict ? await store.get(key) : await store.get(key).catch(() => null);
    if (stored !== null && stored !== 'not-modified' && Buffer.from(stored.body).equals(Buffer.from(body))) return stored.etag;
    if (!conflict) throw e;
    const lost = lostRace(ref, (e as RegistryError).message);
    throw new RegistryError('conflict', lost.message, { where: lost.where, transient: (e as RegistryError).transient, cause: e });
  }
}
