/** Shared bits of the source tests: a context builder and an assertion on RegistryError codes. */
import assert from 'node:assert/strict';
import { RegistryError, type ErrorCode } from '../../lib/errors.ts';
import { createMemorySecretReader } from '../../lib/kube/secrets.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import type { FetchPolicy, SourceContext } from '../../lib/sources/types.ts';

/** Loopback is allowed through the allow-list, as the tests' configuration would say. */
export const LOOPBACK = ['127.0.0.0/8'];

export function testContext(overrides: Partial<Omit<SourceContext, 'policy'>> & { policy?: Partial<FetchPolicy> } = {}): SourceContext {
  const { policy, ...rest } = overrides;
  return {
    namespace: 'team-a',
    registryName: 'reg',
    signal: AbortSignal.timeout(60_000),
    secrets: createMemorySecretReader({}),
    ...rest,
    policy: resolvePolicy({ allowPrivate: LOOPBACK, retryBaseMs: 20, retryMaxWaitMs: 3_000, totalTimeoutMs: 10_000, ...policy }),
  };
}

/** Awaits `p`, expects a RegistryError with `code`, returns it for further checks. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<RegistryError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RegistryError, `expected a RegistryError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected a RegistryError ${code}, but it resolved`);
}
