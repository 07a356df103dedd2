import { pointerKey, type RegistryRef } from '../snapshots/layout.ts';
import type { GetOptions, SnapshotStore, StoredObject } from '../snapshots/store.ts';

/**
 * Cold start: the first answer of a scale-to-zero query function waits for two store reads
 * of its default registry (the pointer, then the first bytes of upstream.json), and before
 * them for the server's modules to load. `primeDefaultRegistry` starts both reads at once,
 * before those modules are loaded, so that the loading and the round trips overlap: the
 * pointer read first, the ranged read of upstream.json as soon as the pointer names it.
 *
 * The store it returns answers the first read of each of those two objects, asked exactly so
 * (same key, the same range, no ETag) with the read already under way; every other read, and
 * a second one, goes to the store. What is not used within `holdMs` is let go. Nothing is
 * decided from a primed read that a plain read would not decide: the snapshot cache checks the
 * pointer and the object as always.
 */

type Got = StoredObject | 'not-modified' | null;
type RangedOptions = GetOptions & { range?: { start: number; end?: number } };

const slot = (key: string, options?: RangedOptions) => `${key}\u0000${options?.range ? `${options.range.start}-${options.range.end ?? ''}` : ''}`;

export function primeDefaultRegistry(store: SnapshotStore, ref: RegistryRef, prefixBytes: number, holdMs = 10_000): SnapshotStore {
  const primed = new Map<string, Promise<Got>>();
  const start = (key: string, options?: RangedOptions): Promise<Got> => {
    const read = store.get(key, options);
    // a failure is the caller's to see when it takes the read; none is left unhandled
    read.catch(() => undefined);
    primed.set(slot(key, options), read);
    return read;
  };
  start(pointerKey(ref)).then(
    (got) => {
      if (!got || got === 'not-modified') return;
      let upstream: unknown;
      try {
        upstream = (JSON.parse(Buffer.from(got.body).toString('utf8')) as { objects?: { upstream?: unknown } }).objects?.upstream;
      } catch {
        return;
      }
      if (typeof upstream === 'string' && upstream.startsWith(`registries/${ref.namespace}/${ref.name}/`)) start(upstream, { range: { start: 0, end: prefixBytes } });
    },
    () => undefined,
  );
  setTimeout(() => primed.clear(), holdMs).unref();
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'get') {
        return (key: string, options?: RangedOptions) => {
          if (options?.ifNoneMatch === undefined) {
            const s = slot(key, options);
            const read = primed.get(s);
            if (read) {
              primed.delete(s);
              return read;
            }
          }
          return target.get(key, options);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
