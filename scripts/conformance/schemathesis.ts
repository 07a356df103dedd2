/**
 * schemathesis, pinned, in a Python virtual environment in a cache directory outside the
 * checkout (MCPREG_SCHEMATHESIS_CACHE, default ~/.cache/knative-mcp-registry/schemathesis),
 * installed from PyPI with pip on first use and reused after.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const SCHEMATHESIS_VERSION = '4.32.5';

export function schemathesisCache(env: NodeJS.ProcessEnv = process.env): string {
  return env.MCPREG_SCHEMATHESIS_CACHE ?? join(homedir(), '.cache', 'knative-mcp-registry', 'schemathesis');
}

/** python3 with its venv module, or why not (the suite is skipped, saying so, without them) */
export function pythonMissing(): string | undefined {
  const v = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) return 'python3 is not on this machine';
  const venv = spawnSync('python3', ['-c', 'import venv, ensurepip'], { encoding: 'utf8' });
  if (venv.status !== 0) return `${v.stdout.trim() || 'python3'} has no venv/ensurepip module (Debian: apt-get install python3-venv)`;
  return undefined;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`))));
  });
}

function installedVersion(st: string): string | undefined {
  if (!existsSync(st)) return undefined;
  const r = spawnSync(st, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? /version (\S+)/.exec(r.stdout)?.[1] : undefined;
}

/** The path of the `st` executable, installing schemathesis first when it is not there at the pinned version. */
export async function ensureSchemathesis(cache = schemathesisCache(), log = (line: string) => console.error(line)): Promise<string> {
  const st = join(cache, 'bin', 'st');
  const have = installedVersion(st);
  if (have === SCHEMATHESIS_VERSION) {
    log(`conformance: reusing schemathesis ${have} in ${cache}`);
    return st;
  }
  log(`conformance: installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI into ${cache}${have ? ` (found ${have})` : ''}; about a minute`);
  const started = Date.now();
  if (have !== undefined || existsSync(cache)) rmSync(cache, { recursive: true, force: true });
  await run('python3', ['-m', 'venv', cache]);
  await run(join(cache, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`]);
  const now = installedVersion(st);
  if (now !== SCHEMATHESIS_VERSION) throw new Error(`schemathesis: ${st} reports ${now ?? 'nothing'} after installing ${SCHEMATHESIS_VERSION}`);
  log(`conformance: installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return st;
}
