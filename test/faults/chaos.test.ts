/**
 * A short chaos run in `npm test` (the full one is `npm run test:faults`, chaos-run.ts): a
 * fixed seed, 12 steps of changing registries with S3 faults, Kubernetes API freezes, stops
 * and restarts and kill -9 of the sync process, every invariant checked after each step.
 * Seed 1 draws every S3 fault kind, an API freeze, stop and restart, and a kill -9; the test
 * checks that they were really injected, so a harness that stopped injecting would fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countsLine, runChaos } from './chaos.ts';

// fixed, whatever MCPREG_CHAOS_SEED says: the checks below rely on what this seed draws
const SEED = 1;
const STEPS = 12;

test(`a ${STEPS}-step chaos run (seed ${SEED}) keeps every invariant`, { timeout: 240_000 }, async () => {
  const report = await runChaos({ seed: SEED, steps: STEPS });
  const line = countsLine(SEED, report.counts);
  console.log(line);
  if (report.failure) {
    const f = report.failure;
    assert.fail(
      `step ${f.step} (${f.phase}), seed ${SEED}: ${f.plan}\n${f.violations.map((v) => `  ${v.invariant}${v.registry ? ` ${v.registry}` : ''}: ${v.message}`).join('\n')}\n` +
        `logs kept in ${f.keptDir}; run it again: MCPREG_CHAOS_SEED=${SEED} MCPREG_CHAOS_STEPS=${f.step} npm run test:faults`,
    );
  }
  const c = report.counts;
  assert.equal(c.steps, STEPS);
  assert.ok(c.syncs >= STEPS, line);
  assert.ok(Object.values(c.faultsInjected).reduce((a, b) => a + b, 0) > 0, `S3 faults were injected: ${line}`);
  assert.ok(c.kills > 0, `a kill -9: ${line}`);
  assert.ok(c.apiFreezes + c.apiStops + c.apiRestarts > 0, `an API fault: ${line}`);
  assert.ok(c.invariantChecks > STEPS * 20, line);
});
