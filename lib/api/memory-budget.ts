/**
 * The query function's memory budget: how many bytes its caches may keep (snapshot bytes and
 * their indexes, parsed snapshot files, prepared responses), derived from the container's
 * memory limit when one is set, so that a burst of varied requests cannot take the process
 * past the limit. Pure functions; the cgroup files are read through the `read` argument.
 *
 * The limit, first found of:
 *   MCPREG_MEMORY_LIMIT_MB                       an explicit limit (e.g. from the Downward API)
 *   /sys/fs/cgroup/memory.max                    cgroup v2 ("max": none)
 *   /sys/fs/cgroup/memory/memory.limit_in_bytes  cgroup v1 (a value ≥ 2^60, or above the
 *                                                machine's memory, means none)
 *
 * The budget: `(limit − RUNTIME_RESERVE) × BUDGET_SHARE`; the rest of the limit is the runtime's
 * own (V8, code, sockets, compression buffers in flight, garbage between collections). Without a
 * limit, MCPREG_MEMORY_BUDGET_MB (default 48). The response cache gets what the snapshots and
 * indexes leave of the budget (never less than MIN_RESPONSE_CACHE, never more than
 * MCPREG_RESPONSE_CACHE_MB when that is set).
 */

export const MIB = 1024 * 1024;
/** what a loaded query function uses before caching anything: Node, V8 and the bundle */
export const RUNTIME_RESERVE = 64 * MIB;
/** the share of the rest that the caches may hold; the remainder is headroom for garbage */
export const BUDGET_SHARE = 0.45;
/** the budget when no limit is known */
export const DEFAULT_BUDGET = 48 * MIB;
/** the response cache never shrinks below this, even when the snapshots fill the budget */
export const MIN_RESPONSE_CACHE = 2 * MIB;

export interface MemoryLimit {
  bytes: number;
  /** where it came from (logged at start) */
  source: 'MCPREG_MEMORY_LIMIT_MB' | 'cgroup v2 memory.max' | 'cgroup v1 memory.limit_in_bytes';
}

export interface MemoryBudget {
  limit: MemoryLimit | undefined;
  /** bytes the caches may hold together */
  budgetBytes: number;
  /** an explicit cap of the response cache (MCPREG_RESPONSE_CACHE_MB), if set */
  responseCacheCapBytes: number | undefined;
}

const CGROUP_V2 = '/sys/fs/cgroup/memory.max';
const CGROUP_V1 = '/sys/fs/cgroup/memory/memory.limit_in_bytes';

/**
 * The container's memory limit. `read` returns a file's text or undefined when it cannot be
 * read; `hostBytes` is the machine's memory (a cgroup v1 "limit" above it is no limit).
 */
export function containerMemoryLimit(overrideMb: number | undefined, read: (path: string) => string | undefined, hostBytes: number): MemoryLimit | undefined {
  if (overrideMb !== undefined) return { bytes: overrideMb * MIB, source: 'MCPREG_MEMORY_LIMIT_MB' };
  const v2 = read(CGROUP_V2)?.trim();
  if (v2 !== undefined && v2 !== '') {
    if (v2 === 'max') return undefined;
    const n = Number(v2);
    if (Number.isSafeInteger(n) && n > 0) return { bytes: n, source: 'cgroup v2 memory.max' };
  }
  const v1 = read(CGROUP_V1)?.trim();
  if (v1 !== undefined && /^\d+$/.test(v1)) {
    const n = Number(v1);
    if (n > 0 && n < 2 ** 60 && n < hostBytes) return { bytes: n, source: 'cgroup v1 memory.limit_in_bytes' };
  }
  return undefined;
}

export function memoryBudget(limit: MemoryLimit | undefined, options: { budgetMb?: number; responseCacheMb?: number } = {}): MemoryBudget {
  const budgetBytes =
    options.budgetMb !== undefined
      ? options.budgetMb * MIB
      : limit
        ? Math.max(MIN_RESPONSE_CACHE * 4, Math.floor((limit.bytes - RUNTIME_RESERVE) * BUDGET_SHARE))
        : DEFAULT_BUDGET;
  return { limit, budgetBytes, responseCacheCapBytes: options.responseCacheMb !== undefined ? options.responseCacheMb * MIB : undefined };
}

/** the response cache's share: what `heldBytes` (snapshots, indexes) leaves of the budget */
export function responseCacheBytes(budget: MemoryBudget, heldBytes: number): number {
  const left = Math.max(MIN_RESPONSE_CACHE, budget.budgetBytes - heldBytes);
  return budget.responseCacheCapBytes !== undefined ? Math.min(left, budget.responseCacheCapBytes) : left;
}
