/**
 * Object-store key layout (see README.md in this folder). Pure functions, no I/O.
 *
 *   registries/{namespace}/{name}/current.json                       the pointer (mutable)
 *   registries/{namespace}/{name}/snapshots/{hash}/toolhive.json     ToolHive registry.json
 *   registries/{namespace}/{name}/snapshots/{hash}/upstream.json     upstream list envelope
 *   registries/{namespace}/{name}/snapshots/{hash}/source.json       unfiltered source content (when a filter applies)
 */

export type SnapshotFile = 'toolhive.json' | 'upstream.json' | 'source.json';

export interface RegistryRef {
  namespace: string;
  name: string;
}

export function registryPrefix(ref: RegistryRef): string {
  return `registries/${ref.namespace}/${ref.name}/`;
}

export function pointerKey(ref: RegistryRef): string {
  return `${registryPrefix(ref)}current.json`;
}

/** where every snapshot of a registry lives: `registries/{ns}/{name}/snapshots/` */
export function snapshotsPrefix(ref: RegistryRef): string {
  return `${registryPrefix(ref)}snapshots/`;
}

export function snapshotPrefix(ref: RegistryRef, hash: string): string {
  return `${registryPrefix(ref)}snapshots/${hash}/`;
}

export function snapshotKey(ref: RegistryRef, hash: string, file: SnapshotFile): string {
  return `${snapshotPrefix(ref, hash)}${file}`;
}
