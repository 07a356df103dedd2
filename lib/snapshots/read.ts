import { RegistryError } from '../errors.ts';
import { validateKey, validateRef } from './keys.ts';
import { pointerKey, snapshotKey, snapshotsPrefix, type RegistryRef } from './layout.ts';
import { SnapshotPointer } from './pointer.ts';
import type { SnapshotStore, StoredObject } from './store.ts';

/**
 * Reading a registry: the pointer first, then the snapshot objects it names. Pure
 * orchestration over SnapshotStore.
 */

export interface PointerRead {
  pointer: SnapshotPointer;
  /** the pointer object's ETag: pass it as `expectedPointerEtag` when publishing over it */
  etag: string;
}

/**
 * A `current.json` that is not a valid pointer for this registry. Carries the stored object's
 * ETag so that a sync can still replace it with a conditional write (otherwise one bad write
 * would wedge the registry forever).
 */
export class CorruptPointerError extends RegistryError {
  readonly etag: string;
  constructor(code: 'invalid_json' | 'invalid_document', message: string, key: string, etag: string, cause?: unknown) {
    super(code, message, { where: { key }, cause });
    this.name = 'CorruptPointerError';
    this.etag = etag;
  }
}

/**
 * What makes a schema-valid pointer unusable for `ref`, or undefined: it must name this
 * registry, and only this registry's own objects (the snapshot's for its hash; the source
 * content somewhere under its snapshots/).
 */
export function pointerProblem(ref: RegistryRef, pointer: SnapshotPointer): string | undefined {
  if (pointer.namespace !== ref.namespace || pointer.name !== ref.name) {
    return `belongs to ${pointer.namespace}/${pointer.name}, not ${ref.namespace}/${ref.name}`;
  }
  for (const file of ['toolhive', 'upstream'] as const) {
    const expected = snapshotKey(ref, pointer.hash, `${file}.json`);
    if (pointer.objects[file] !== expected) return `names ${JSON.stringify(pointer.objects[file])} for ${file}, expected ${JSON.stringify(expected)}`;
  }
  if (pointer.source) {
    const base = snapshotsPrefix(ref);
    let inside = pointer.source.key.startsWith(base);
    try {
      validateKey(pointer.source.key);
    } catch {
      inside = false;
    }
    if (!inside) return `has a source key ${JSON.stringify(pointer.source.key)} outside ${base}`;
  }
  return undefined;
}

export function parsePointer(ref: RegistryRef, object: StoredObject): SnapshotPointer {
  const key = pointerKey(ref);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(object.body));
  } catch (e) {
    throw new CorruptPointerError('invalid_json', `the snapshot pointer is not JSON (${(e as Error).message})`, key, object.etag, e);
  }
  const parsed = SnapshotPointer.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.') || '(root)';
    throw new CorruptPointerError('invalid_document', `the snapshot pointer is invalid at ${path}: ${issue.message}`, key, object.etag, parsed.error);
  }
  const pointer = parsed.data;
  const problem = pointerProblem(ref, pointer);
  if (problem) throw new CorruptPointerError('invalid_document', `the snapshot pointer ${problem}`, key, object.etag);
  return pointer;
}

/** The registry's pointer and its ETag; null when the registry has never been published. */
export async function readPointer(store: SnapshotStore, ref: RegistryRef): Promise<PointerRead | null> {
  validateRef(ref);
  const object = await store.get(pointerKey(ref));
  if (object === null) return null;
  if (object === 'not-modified') throw new RegistryError('internal', 'store answered not-modified to an unconditional read');
  return { pointer: parsePointer(ref, object), etag: object.etag };
}

/**
 * Revalidate a cached pointer: `'not-modified'` while its ETag is still `etag` (no body is
 * transferred), otherwise the new pointer, or null when the registry has been deleted.
 */
export async function revalidatePointer(store: SnapshotStore, ref: RegistryRef, etag: string): Promise<PointerRead | 'not-modified' | null> {
  validateRef(ref);
  const object = await store.get(pointerKey(ref), { ifNoneMatch: etag });
  if (object === null || object === 'not-modified') return object;
  return { pointer: parsePointer(ref, object), etag: object.etag };
}

/** One snapshot file as stored (bytes and ETag). A missing object is RegistryError('not_found'). */
export async function readSnapshotFile(store: SnapshotStore, pointer: SnapshotPointer, file: 'upstream' | 'toolhive'): Promise<StoredObject> {
  const key = pointer.objects[file];
  const object = await store.get(key);
  if (object === null) {
    throw new RegistryError('not_found', `snapshot object ${file}.json of ${pointer.hash.slice(0, 12)} is missing`, { where: { key } });
  }
  if (object === 'not-modified') throw new RegistryError('internal', 'store answered not-modified to an unconditional read');
  return object;
}
