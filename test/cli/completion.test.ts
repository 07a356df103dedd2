/**
 * Shell completion and the kubectl plugin: `mcpreg completion bash` loads in bash and
 * completes through `mcpreg complete --`; registry names come from the cluster; `kubectl
 * mcpreg …` runs the plugin executable and `kubectl __complete mcpreg …` its completer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { startLocalMode, until, type LocalMode } from './local-mode.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const built = ['cli.js', 'kubectl-mcpreg.js', 'kubectl_complete-mcpreg.js'].every((f) => existsSync(join(DIST, f)));
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const BASH_COMPLETION = '/usr/share/bash-completion/bash_completion';

/** a child process, asynchronously: the cluster it talks to is served by this very process */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: 30_000, encoding: 'utf8' }, (error, stdout, stderr) => resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

let local: LocalMode;
let bin: string;
let path: string;

before(async () => {
  local = await startLocalMode();
  // the executables as an install puts them on the PATH, with Node 24 first (their #! is `env node`)
  bin = join(local.dir, 'bin');
  await mkdir(bin);
  for (const [name, file] of [
    ['mcpreg', 'cli.js'],
    ['kubectl-mcpreg', 'kubectl-mcpreg.js'],
    ['kubectl_complete-mcpreg', 'kubectl_complete-mcpreg.js'],
  ] as const) {
    await symlink(join(DIST, file), join(bin, name));
  }
  path = [bin, dirname(process.execPath), process.env.PATH].join(delimiter);
  await until('the examples', async () => ((await local.mcpreg(['registry', 'list', '-o', 'name'])).stdout.split('\n').length > 4 ? true : undefined));
});
after(async () => {
  await local?.stop();
});

const words = async (args: string[]) => {
  const r = await local.mcpreg(['complete', '--', ...args]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines.at(-1)!, /^:\d+$/, 'ends with the directive');
  return lines.slice(0, -1).map((l) => l.split('\t')[0]!);
};

describe('mcpreg complete', () => {
  test('commands, subcommands, options and option values, from the command tree', async () => {
    assert.deepEqual(await words(['reg']), ['registry']);
    assert.deepEqual((await words(['registry', ''])).sort(), ['add', 'export', 'get', 'import', 'list', 'remove', 'sync']);
    assert.ok((await words([''])).includes('search'));
    assert.ok(!(await words([''])).includes('complete'), 'the plumbing is hidden');
    assert.deepEqual(await words(['registry', 'add', 'x', '--from']), ['--from-registry']);
    assert.deepEqual(await words(['registry', 'add', 'x', '--format', '']), ['toolhive', 'upstream']);
    assert.deepEqual(await words(['search', 'x', '-o', '']), ['table', 'wide', 'json', 'yaml', 'name']);
    assert.deepEqual(await words(['completion', '']), ['bash', 'zsh', 'fish', 'powershell']);
  });

  test('registry names from the cluster for get, sync and remove', async () => {
    for (const verb of ['get', 'sync', 'remove']) assert.deepEqual(await words(['registry', verb, '']), ['database-servers', 'platform', 'remote-servers', 'toolhive', 'upstream-mirror'], verb);
    assert.deepEqual(await words(['registry', 'get', 'to']), ['toolhive']);
    assert.deepEqual(await words(['registry', 'get', '-n', 'elsewhere', '']), []);
    const noCluster = await local.mcpreg(['complete', '--', 'registry', 'get', ''], { KUBECONFIG: '/nonexistent' });
    assert.equal(noCluster.code, 0);
    assert.match(noCluster.stdout, /^:\d+\n$/, 'no names, no error');
  });
});

describe('completion scripts', () => {
  test('bash: the script loads, registers mcpreg, and completes through mcpreg complete', { skip: !has('bash') ? 'bash is not installed' : !built ? 'dist/ is not built' : false }, async () => {
    const script = await local.mcpreg(['completion', 'bash']);
    assert.equal(script.code, 0, script.stderr);
    const file = join(local.dir, 'mcpreg.bash');
    await writeFile(file, script.stdout);
    // bash-completion provides _get_comp_words_by_ref; without the package, the same from COMP_WORDS
    const helpers = existsSync(BASH_COMPLETION)
      ? `source ${BASH_COMPLETION}`
      : '_get_comp_words_by_ref() { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }';
    const bash = (line: string) => run('bash', ['--norc', '--noprofile', '-c', `${helpers}\nsource ${file} || exit 9\n${line}`], { ...local.env, PATH: path });
    const registered = await bash('complete -p mcpreg');
    assert.equal(registered.status, 0, registered.stderr);
    assert.equal(registered.stdout.trim(), 'complete -F __mcpreg_complete mcpreg');
    const complete = async (...comp: string[]) => {
      const r = await bash(`COMP_WORDS=(${comp.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${comp.length - 1}; COMP_LINE='${comp.join(' ')}'; COMP_POINT=\${#COMP_LINE}; __mcpreg_complete; printf '%s\\n' "\${COMPREPLY[@]}"`);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split('\n').filter(Boolean);
    };
    assert.deepEqual(await complete('mcpreg', 'registry', 'l'), ['list']);
    assert.deepEqual(await complete('mcpreg', 'registry', 'get', 'up'), ['upstream-mirror']);
    assert.deepEqual(await complete('mcpreg', 'search', 'x', '--ti'), ['--tier']);
  });

  for (const shell of ['zsh', 'fish'] as const) {
    test(`${shell}: the script loads`, { skip: has(shell) ? false : `${shell} is not installed` }, async () => {
      const script = await local.mcpreg(['completion', shell]);
      const file = join(local.dir, `mcpreg.${shell}`);
      await writeFile(file, script.stdout);
      const r = await run(shell, shell === 'zsh' ? ['-f', '-c', `autoload -U compinit && compinit -u && source ${file}`] : ['--no-config', '-c', `source ${file}; and complete -c mcpreg`], { ...local.env, PATH: path });
      assert.equal(r.status, 0, r.stderr);
    });
  }

  test('an unknown shell is a usage error', async () => {
    const r = await local.mcpreg(['completion', 'tcsh']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "mcpreg: completion: Command-argument value 'tcsh' is invalid for argument 'SHELL'. Allowed choices are bash, zsh, fish, powershell.\n");
  });
});

describe('the kubectl plugin', () => {
  const skip = !has('kubectl') ? 'kubectl is not installed' : !built ? 'dist/ is not built (npm run build)' : false;

  test('kubectl mcpreg runs kubectl-mcpreg from the PATH', { skip }, async () => {
    const r = await run('kubectl', ['mcpreg', 'registry', 'list', '-o', 'name'], { ...local.env, PATH: path });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, ['database-servers', 'platform', 'remote-servers', 'toolhive', 'upstream-mirror'].map((n) => `mcpregistry.toolhive.stacklok.io/${n}\n`).join(''));
    const help = await run('kubectl', ['mcpreg', '--help'], { ...local.env, PATH: path });
    assert.match(help.stdout, /^usage: kubectl mcpreg COMMAND/);
    const bad = await run('kubectl', ['mcpreg', 'registry', 'get', 'nope'], { ...local.env, PATH: path });
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, 'mcpreg: mcpregistry "nope" not found in namespace "default"\n');
  });

  test('kubectl completes plugin commands through kubectl_complete-mcpreg', { skip }, async () => {
    const r = await run('kubectl', ['__complete', 'mcpreg', 'registry', 'get', 'remote'], { ...local.env, PATH: path });
    assert.equal(r.status, 0, r.stderr);
    // kubectl drops the empty description
    assert.deepEqual(r.stdout.trimEnd().split('\n'), ['remote-servers', ':4']);
  });
});
