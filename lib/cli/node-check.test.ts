import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nodeVersionProblem } from './node-check.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** A Node.js older than 24 on this machine (the system Node of the dev and CI machines is 20). */
function oldNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    if (!existsSync(candidate)) continue;
    const r = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (r.status === 0 && Number(r.stdout.split('.')[0]) < 24) return candidate;
  }
  return undefined;
}

describe('the Node.js version check', () => {
  it('says in one line which Node is needed and how to get it', () => {
    const text = nodeVersionProblem('mcpreg', '20.20.2', '/usr/bin/node');
    assert.ok(text);
    assert.equal(text.split('\n').length, 2, 'one line');
    assert.match(text, /^mcpreg: needs Node\.js 24 or newer, but \/usr\/bin\/node is Node\.js 20\.20\.2: install Node\.js 24 .*nvm install 24.*npm run mcpreg -- …/);
    assert.equal(nodeVersionProblem('mcpreg', '24.0.0', '/x'), undefined);
    assert.equal(nodeVersionProblem('mcpreg', '26.1.0', '/x'), undefined);
  });

  const old = oldNode();
  const built = existsSync(join(ROOT, 'dist', 'cli.js')) && existsSync(join(ROOT, 'dist', 'kubectl-mcpreg.js'));
  it(`dist/cli.js and dist/kubectl-mcpreg.js on an old Node: that one line, exit 1, no stack trace`, { skip: !old ? 'no Node.js older than 24 on this machine' : !built ? 'dist/ is not built (npm run build)' : false }, () => {
    for (const [entry, args, program] of [
      ['dist/cli.js', ['--help'], 'mcpreg'],
      ['dist/cli.js', ['control-plane', '--port', '0'], 'mcpreg'],
      ['dist/cli.js', ['registry', 'list'], 'mcpreg'],
      ['dist/kubectl-mcpreg.js', ['registry', 'list'], 'kubectl mcpreg'],
    ] as const) {
      const r = spawnSync(old!, [join(ROOT, entry), ...args], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 1, `${entry} ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^${program}: needs Node\\.js 24 or newer, but \\S+ is Node\\.js \\d+\\.[^\\n]*\\n$`));
    }
  });

  it('the executables run on the supported Node', { skip: built ? false : 'dist/ is not built (npm run build)' }, () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'kubectl-mcpreg.js'), '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^usage: kubectl mcpreg COMMAND/);
  });
});
