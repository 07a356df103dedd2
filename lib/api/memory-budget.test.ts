import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUDGET_SHARE, DEFAULT_BUDGET, MIB, MIN_RESPONSE_CACHE, RUNTIME_RESERVE, containerMemoryLimit, memoryBudget, responseCacheBytes } from './memory-budget.ts';

const HOST = 24 * 1024 * MIB;
const files = (map: Record<string, string>) => (path: string) => map[path];

test('the limit: the override first, then cgroup v2 memory.max, then cgroup v1 memory.limit_in_bytes', () => {
  const both = files({ '/sys/fs/cgroup/memory.max': '536870912\n', '/sys/fs/cgroup/memory/memory.limit_in_bytes': '268435456\n' });
  assert.deepEqual(containerMemoryLimit(300, both, HOST), { bytes: 300 * MIB, source: 'MCPREG_MEMORY_LIMIT_MB' });
  assert.deepEqual(containerMemoryLimit(undefined, both, HOST), { bytes: 512 * MIB, source: 'cgroup v2 memory.max' });
  assert.deepEqual(containerMemoryLimit(undefined, files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '268435456\n' }), HOST), { bytes: 256 * MIB, source: 'cgroup v1 memory.limit_in_bytes' });
});

test('no limit: v2 "max", v1 at its "unlimited" value or above the machine, no cgroup files', () => {
  assert.equal(containerMemoryLimit(undefined, files({ '/sys/fs/cgroup/memory.max': 'max\n' }), HOST), undefined);
  assert.equal(containerMemoryLimit(undefined, files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n' }), HOST), undefined);
  assert.equal(containerMemoryLimit(undefined, files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': String(HOST * 2) }), HOST), undefined);
  assert.equal(containerMemoryLimit(undefined, files({}), HOST), undefined);
  assert.equal(containerMemoryLimit(undefined, files({ '/sys/fs/cgroup/memory.max': 'garbage' }), HOST), undefined);
});

test('the budget follows the limit; the response cache gets what the snapshots leave, within its cap and above its floor', () => {
  const at512 = memoryBudget({ bytes: 512 * MIB, source: 'cgroup v2 memory.max' });
  assert.equal(at512.budgetBytes, Math.floor((512 * MIB - RUNTIME_RESERVE) * BUDGET_SHARE));
  const at256 = memoryBudget({ bytes: 256 * MIB, source: 'cgroup v2 memory.max' });
  assert.ok(at256.budgetBytes < at512.budgetBytes);
  assert.ok(at256.budgetBytes + RUNTIME_RESERVE < 256 * MIB);
  assert.equal(memoryBudget(undefined).budgetBytes, DEFAULT_BUDGET);
  assert.equal(memoryBudget({ bytes: 512 * MIB, source: 'cgroup v2 memory.max' }, { budgetMb: 100 }).budgetBytes, 100 * MIB, 'an explicit budget wins');

  assert.equal(responseCacheBytes(at512, 0), at512.budgetBytes);
  assert.equal(responseCacheBytes(at512, 100 * MIB), at512.budgetBytes - 100 * MIB);
  assert.equal(responseCacheBytes(at512, 10_000 * MIB), MIN_RESPONSE_CACHE, 'snapshots over the budget leave the minimum');
  const capped = memoryBudget({ bytes: 512 * MIB, source: 'cgroup v2 memory.max' }, { responseCacheMb: 8 });
  assert.equal(responseCacheBytes(capped, 0), 8 * MIB);
});
