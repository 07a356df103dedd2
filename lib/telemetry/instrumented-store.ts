/**
 * A snapshot store that tells the telemetry about every object-store request: a client span
 * per request (`store.get`, `store.put`, …) and, for reads, the loads and their bytes.
 * Returns the store itself when telemetry is off, so the hot path is untouched.
 */
import type { SnapshotStore } from '../snapshots/store.ts';
import type { Telemetry } from './telemetry.ts';

/** pointer (`…/current.json`) or snapshot object: a bounded label, never the key itself */
function kindOf(key: string): 'pointer' | 'snapshot' {
  return key.endsWith('current.json') ? 'pointer' : 'snapshot';
}

export function instrumentStore(store: SnapshotStore, tel: Telemetry): SnapshotStore {
  const { metrics, tracing } = tel;
  if (!metrics.enabled && !tracing.enabled) return store;
  const span = <T>(op: string, attrs: Record<string, string | number>, fn: () => Promise<T>) =>
    tracing.enabled ? tracing.span(`store.${op}`, { 'mcpreg.store': store.description, ...attrs }, () => fn()) : fn();
  const wrapped: SnapshotStore = {
    description: store.description,
    async get(key, options) {
      const got = await span('get', { 'mcpreg.object.kind': kindOf(key) }, () => store.get(key, options));
      if (got && got !== 'not-modified') metrics.snapshotLoad(kindOf(key), got.body.length);
      return got;
    },
    put: (key, body, options) => span('put', { 'mcpreg.object.kind': kindOf(key), 'mcpreg.object.size': body.length }, () => store.put(key, body, options)),
    exists: (key) => span('exists', { 'mcpreg.object.kind': kindOf(key) }, () => store.exists(key)),
    list: (prefix) => span('list', {}, () => store.list(prefix)),
    delete: (keys) => span('delete', { 'mcpreg.object.count': keys.length }, () => store.delete(keys)),
  };
  if (store.listObjects) wrapped.listObjects = (prefix) => span('list', {}, () => store.listObjects!(prefix));
  if (store.close) wrapped.close = () => store.close!();
  return wrapped;
}
