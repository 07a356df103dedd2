/**
 * Runs every test with Node's own runner: unit tests beside the code (lib/, functions/)
 * and integration tests under test/. Extra arguments are passed to `node --test`
 * (e.g. `npm test -- --test-name-pattern=filter`); file arguments narrow the run.
 */
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const globs = files.length > 0 ? files : ['lib/**/*.test.ts', 'functions/**/*.test.ts', 'test/**/*.test.ts'];
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=300000', ...flags, ...globs],
  { stdio: 'inherit', env: { ...process.env, MCPREG_TEST: '1' } },
);
process.exit(result.status ?? 1);
