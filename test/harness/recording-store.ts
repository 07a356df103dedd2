import type { SnapshotStore } from '../../lib/snapshots/store.ts';

type Range = { start: number; end?: number };

/**
 * The real store with every `get` seen first by `onGet` (key and range), which may record it
 * or throw to make that read fail; every other member is the store's own.
 */
export function recordingStore(inner: SnapshotStore, onGet: (key: string, range: Range | undefined) => void): SnapshotStore {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'get')
        return async (key: string, options?: { range?: Range }) => {
          onGet(key, options?.range);
          return inner.get(key, options as never);
        };
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
