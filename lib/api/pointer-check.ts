import type { RegistryRef } from '../snapshots/layout.ts';
import { snapshotKey } from '../snapshots/layout.ts';
import type { SnapshotPointer } from '../snapshots/pointer.ts';

/**
 * A light structural check of `current.json` for the query function's hot path. The full
 * zod schema lives in lib/snapshots/pointer.ts and is what writers validate against; loading
 * zod costs tens of milliseconds of cold start, so readers here check only what they rely on:
 * the registry it belongs to, the hash, and that the object keys are this registry's own
 * snapshot objects for that hash (a pointer must never send a reader elsewhere).
 */
export function checkPointer(ref: RegistryRef, value: unknown): { pointer: SnapshotPointer } | { error: string } {
  if (typeof value !== 'object' || value === null) return { error: 'the pointer is not an object' };
  const p = value as Partial<SnapshotPointer>;
  if (p.apiVersion !== 'mcpreg/v1') return { error: `unsupported pointer apiVersion ${JSON.stringify(p.apiVersion)}` };
  if (p.namespace !== ref.namespace || p.name !== ref.name) return { error: `the pointer belongs to ${p.namespace}/${p.name}` };
  if (typeof p.hash !== 'string' || !/^[0-9a-f]{64}$/.test(p.hash)) return { error: 'the pointer has no valid hash' };
  if (p.format !== 'toolhive' && p.format !== 'upstream') return { error: 'the pointer has no valid format' };
  if (typeof p.syncedAt !== 'string') return { error: 'the pointer has no syncedAt' };
  const counts = p.counts;
  if (typeof counts !== 'object' || counts === null || typeof counts.servers !== 'number' || typeof counts.versions !== 'number') {
    return { error: 'the pointer has no valid counts' };
  }
  const objects = p.objects;
  if (typeof objects !== 'object' || objects === null) return { error: 'the pointer names no objects' };
  for (const file of ['upstream', 'toolhive'] as const) {
    if (objects[file] !== snapshotKey(ref, p.hash, `${file}.json`)) return { error: `the pointer names an unexpected ${file} object` };
  }
  return { pointer: p as SnapshotPointer };
}
