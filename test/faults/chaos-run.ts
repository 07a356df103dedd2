/**
 * `npm run test:faults`: the full chaos run (chaos.ts). MCPREG_CHAOS_SEED (an integer; random
 * when unset, always printed) and MCPREG_CHAOS_STEPS (default 200). Prints a line per step,
 * the counts at the end, and on a failure the seed, the step, the violations and how to run
 * it again; exits 1 then.
 */
import { randomInt } from 'node:crypto';
import { countsLine, runChaos } from './chaos.ts';

function intFromEnv(name: string, fallback: () => number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback();
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) {
    console.error(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

const seed = intFromEnv('MCPREG_CHAOS_SEED', () => randomInt(1, 2 ** 31), 0);
const steps = intFromEnv('MCPREG_CHAOS_STEPS', () => 200, 1);
const quiet = process.env.MCPREG_CHAOS_QUIET === '1';
console.log(`chaos: seed ${seed}, ${steps} steps (MCPREG_CHAOS_SEED=${seed} MCPREG_CHAOS_STEPS=${steps} npm run test:faults replays this schedule)`);
const report = await runChaos({ seed, steps, log: quiet ? undefined : (line) => console.log(line) });
console.log(countsLine(seed, report.counts));
console.log(`chaos: ${Math.round(report.durationMs / 1000)} s`);
if (report.failure) {
  const f = report.failure;
  console.log(`chaos FAILED at step ${f.step} (${f.phase}) with seed ${seed}: ${f.plan}`);
  for (const v of f.violations) console.log(`  ${v.invariant}${v.registry ? ` ${v.registry}` : ''}: ${v.message}`);
  console.log(`  the sync function's log and the steps run are kept in ${f.keptDir}`);
  console.log(`  run it again: MCPREG_CHAOS_SEED=${seed} MCPREG_CHAOS_STEPS=${f.step} npm run test:faults`);
  process.exit(1);
}
console.log('chaos: every invariant held after every step');
