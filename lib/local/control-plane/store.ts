/**
 * The object store: every object in memory, one increasing resourceVersion counter for
 * all of them (as etcd's revision), and a bounded history of events per resource from which
 * watches resume. A watch that asks for a version older than the history answers 410 Expired
 * and the client re-lists, exactly as with a compacted etcd.
 */
import { apiError } from './status.ts';
import type { KubeObject } from './objects.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  /** group/resource */
  gr: string;
  rv: number;
  object: KubeObject;
  /** the object before this event (for selector transitions in watches) */
  previous?: KubeObject;
}

export type Listener = (event: StoreEvent) => void;

export interface StoreSnapshot {
  resourceVersion: number;
  collections: Record<string, KubeObject[]>;
}

export const objectKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

export class Store {
  #rv = 0;
  #historyStart = 0;
  readonly #collections = new Map<string, Map<string, KubeObject>>();
  readonly #history = new Map<string, StoreEvent[]>();
  readonly #compacted = new Map<string, number>();
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #historyLimit: number;
  /** called after every change (persistence) */
  onChange: (() => void) | undefined;

  constructor(options: { historyLimit?: number } = {}) {
    this.#historyLimit = options.historyLimit ?? 1000;
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  #collection(gr: string): Map<string, KubeObject> {
    let c = this.#collections.get(gr);
    if (!c) this.#collections.set(gr, (c = new Map()));
    return c;
  }

  get(gr: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#collections.get(gr)?.get(objectKey(namespace, name));
  }

  /** Objects in key order (namespace/name), as etcd lists them. */
  list(gr: string, namespace?: string): KubeObject[] {
    const c = this.#collections.get(gr);
    if (!c) return [];
    const out: [string, KubeObject][] = [];
    for (const [key, obj] of c) if (namespace === undefined || obj.metadata.namespace === namespace) out.push([key, obj]);
    out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return out.map(([, o]) => o);
  }

  count(gr: string, namespace?: string): number {
    const c = this.#collections.get(gr);
    if (!c) return 0;
    if (namespace === undefined) return c.size;
    let n = 0;
    for (const o of c.values()) if (o.metadata.namespace === namespace) n++;
    return n;
  }

  grs(): string[] {
    return [...this.#collections.keys()];
  }

  /** Stores a new object (its resourceVersion is assigned here). */
  create(gr: string, obj: KubeObject): KubeObject {
    const key = objectKey(obj.metadata.namespace, obj.metadata.name!);
    obj.metadata.resourceVersion = String(++this.#rv);
    this.#collection(gr).set(key, obj);
    this.#emit({ type: 'ADDED', gr, rv: this.#rv, object: obj });
    return obj;
  }

  update(gr: string, obj: KubeObject, previous: KubeObject): KubeObject {
    const key = objectKey(obj.metadata.namespace, obj.metadata.name!);
    obj.metadata.resourceVersion = String(++this.#rv);
    this.#collection(gr).set(key, obj);
    this.#emit({ type: 'MODIFIED', gr, rv: this.#rv, object: obj, previous });
    return obj;
  }

  /** Removes an object; the DELETED event carries the version of the deletion. */
  remove(gr: string, obj: KubeObject): KubeObject {
    const key = objectKey(obj.metadata.namespace, obj.metadata.name!);
    if (!this.#collection(gr).delete(key)) return obj;
    const gone = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) } };
    this.#emit({ type: 'DELETED', gr, rv: this.#rv, object: gone, previous: obj });
    return gone;
  }

  #emit(event: StoreEvent): void {
    let h = this.#history.get(event.gr);
    if (!h) this.#history.set(event.gr, (h = []));
    h.push(event);
    if (h.length > this.#historyLimit) {
      const dropped = h.splice(0, h.length - this.#historyLimit);
      this.#compacted.set(event.gr, dropped[dropped.length - 1]!.rv);
    }
    for (const l of this.#listeners.get(event.gr) ?? []) l(event);
    this.onChange?.();
  }

  /**
   * Subscribes to changes of one resource after `fromRv`. Returns the backlog of events the
   * history still holds; throws 410 Expired when `fromRv` is older than that history.
   */
  watch(gr: string, fromRv: number, listener: Listener): { backlog: StoreEvent[]; stop: () => void } {
    const oldest = Math.max(this.#compacted.get(gr) ?? 0, this.#historyStart);
    if (fromRv < oldest) throw apiError.expired(`too old resource version: ${fromRv} (${oldest})`);
    const backlog = (this.#history.get(gr) ?? []).filter((e) => e.rv > fromRv);
    let set = this.#listeners.get(gr);
    if (!set) this.#listeners.set(gr, (set = new Set()));
    set.add(listener);
    return { backlog, stop: () => set.delete(listener) };
  }

  /** True when history for `gr` still reaches back to `rv` (used by `continue` tokens). */
  covers(gr: string, rv: number): boolean {
    return rv >= Math.max(this.#compacted.get(gr) ?? 0, this.#historyStart);
  }

  snapshot(): StoreSnapshot {
    const collections: Record<string, KubeObject[]> = {};
    for (const gr of this.#collections.keys()) {
      const items = this.list(gr);
      if (items.length) collections[gr] = items;
    }
    return { resourceVersion: this.#rv, collections };
  }

  /** Loads a snapshot into an empty store; watches can only resume from its version on. */
  restore(snapshot: StoreSnapshot): void {
    this.#rv = snapshot.resourceVersion;
    this.#historyStart = snapshot.resourceVersion;
    for (const [gr, items] of Object.entries(snapshot.collections)) {
      const c = this.#collection(gr);
      for (const o of items) c.set(objectKey(o.metadata.namespace, o.metadata.name!), o);
    }
  }
}
