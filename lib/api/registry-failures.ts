import { toRegistryError, type ErrorCode, type RegistryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { RegistryRef } from '../snapshots/layout.ts';

/**
 * A listing across registries (`/api/v1/registries`, `/api/v1/servers`, `/api/v1/search`) must
 * not fail because one registry's snapshot cannot be read (a corrupt pointer, a missing
 * `toolhive.json`): the others are served, and each broken one is reported in the response's
 * `errors: [{registry, code, message}]` (a field the ToolHive and upstream list schemas leave
 * open) and in `/readyz` (`brokenRegistries`). The message is fixed per code: store keys,
 * paths and causes go to the log only. When every registry failed for a transient reason (the
 * store is down), the first error is thrown: that is a 503 for the whole answer, as before.
 */

export interface RegistryFailure {
  registry: string;
  code: ErrorCode;
  message: string;
}

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  invalid_document: "the registry's published snapshot is unreadable",
  invalid_json: "the registry's published snapshot is unreadable",
  not_found: "an object of the registry's published snapshot is missing",
  store_unavailable: 'the snapshot store did not answer for this registry',
  conflict: "the registry's snapshot changed while it was read",
};

const TRANSIENT = new Set<ErrorCode>(['store_unavailable', 'source_unavailable', 'source_timeout', 'deadline_exceeded', 'rate_limited', 'conflict']);

export function registryFailure(ref: RegistryRef, e: RegistryError): RegistryFailure {
  return { registry: `${ref.namespace}/${ref.name}`, code: e.code, message: MESSAGES[e.code] ?? "the registry's snapshot could not be read" };
}

/** Recent failures by registry and what was read (pointer, toolhive, upstream), for /readyz; bounded (oldest dropped). */
export class BrokenRegistries {
  readonly #failures = new Map<string, RegistryFailure & { read: string; since: string }>();
  readonly #max: number;

  constructor(max = 1000) {
    this.#max = max;
  }

  record(f: RegistryFailure, read: string): void {
    const key = `${f.registry} ${read}`;
    const since = this.#failures.get(key)?.since ?? new Date().toISOString();
    this.#failures.delete(key);
    while (this.#failures.size >= this.#max) this.#failures.delete(this.#failures.keys().next().value as string);
    this.#failures.set(key, { ...f, read, since });
  }

  clear(ref: RegistryRef, read: string): void {
    this.#failures.delete(`${ref.namespace}/${ref.name} ${read}`);
  }

  list(): Array<RegistryFailure & { read: string; since: string }> {
    return [...this.#failures.values()].sort((a, b) => (a.registry < b.registry ? -1 : a.registry > b.registry ? 1 : a.read < b.read ? -1 : 1));
  }
}

/**
 * `load` for every registry, in parallel: what loaded (null results — no pointer — are left
 * out) and a failure per registry that threw, in the order of `refs`.
 */
export async function loadEach<T>(
  refs: readonly RegistryRef[],
  load: (ref: RegistryRef) => Promise<T | null>,
  read: string,
  deps: { broken: BrokenRegistries; log: Logger },
): Promise<{ loaded: Array<{ ref: RegistryRef; data: T }>; failures: RegistryFailure[] }> {
  const settled = await Promise.allSettled(refs.map((ref) => load(ref)));
  const loaded: Array<{ ref: RegistryRef; data: T }> = [];
  const failures: RegistryFailure[] = [];
  const errors: RegistryError[] = [];
  settled.forEach((s, i) => {
    const ref = refs[i]!;
    if (s.status === 'fulfilled') {
      deps.broken.clear(ref, read);
      if (s.value !== null) loaded.push({ ref, data: s.value });
      return;
    }
    const err = toRegistryError(s.reason);
    errors.push(err);
    const failure = registryFailure(ref, err);
    failures.push(failure);
    deps.broken.record(failure, read);
    deps.log.error('registry left out of a listing: its snapshot cannot be read', { registry: failure.registry, code: err.code, error: err.describe() });
  });
  if (errors.length > 0 && errors.length === refs.length && errors.every((e) => TRANSIENT.has(e.code))) throw errors[0]!;
  return { loaded, failures };
}
