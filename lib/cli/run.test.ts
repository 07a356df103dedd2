import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runInProcess } from '../../test/cli/in-process.ts';
import { commands } from './commands/index.ts';

const noStack = (s: string) => assert.ok(!/\n\s+at /.test(s), `no stack trace in ${JSON.stringify(s)}`);

describe('the mcpreg command tree', () => {
  it('every file under commands/ is a command listed in commands/index.ts', async () => {
    const dir = join(import.meta.dirname, 'commands');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'index.ts');
    const listed = new Set(commands);
    for (const file of files) {
      const mod = (await import(join(dir, file))) as { default?: unknown };
      assert.ok(mod.default && listed.has(mod.default as never), `${file} exports a command listed in commands/index.ts`);
    }
    assert.equal(commands.length, files.length);
    const paths = commands.map((c) => c.path.join(' '));
    assert.equal(new Set(paths).size, paths.length, 'no two commands share a path');
  });

  it('--help lists every command with its summary; exit 0', async () => {
    const r = await runInProcess(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: mcpreg COMMAND \[options\]/);
    for (const c of commands.filter((c) => !c.hidden)) assert.match(r.stdout, new RegExp(`\\n  ${c.path.join(' ')} +${c.summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('plumbing commands are hidden from help', async () => {
    const r = await runInProcess(['--help']);
    for (const c of commands.filter((c) => c.hidden)) assert.doesNotMatch(r.stdout, new RegExp(`\\n  ${c.path.join(' ')} `));
    assert.ok(commands.some((c) => c.hidden), 'complete is hidden');
  });

  it('no command: the usage on stdout, exit 2', async () => {
    const r = await runInProcess([]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /^usage: mcpreg COMMAND/);
  });

  it('the kubectl plugin names itself kubectl mcpreg', async () => {
    const r = await runInProcess(['validate', '--help'], { programName: 'kubectl mcpreg' });
    assert.match(r.stdout, /^usage: kubectl mcpreg validate /);
  });

  it('usage mistakes: one line on stderr naming the command, exit 2, suggestions on the same line', async () => {
    for (const [argv, expected] of [
      [['bogus'], /^mcpreg: Unknown command 'bogus'; 'mcpreg --help' lists the commands\n$/],
      [['valdate', 'x'], /^mcpreg: Unknown command 'valdate' \(did you mean validate\?\); 'mcpreg --help' lists the commands\n$/],
      [['validate', '--jsn', 'x'], /^mcpreg: validate: Unknown option '--jsn' \(did you mean --json\?\)\n$/],
      [['convert', '--to'], /^mcpreg: convert: Option '--to <FORMAT>' argument missing\n$/],
    ] as const) {
      const r = await runInProcess([...argv]);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, expected);
      assert.equal(r.stdout, '');
      noStack(r.stderr);
    }
  });

  it('a command that fails: one line, exit 1', async () => {
    const r = await runInProcess(['validate', '/nonexistent/registry.json']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split('\n').length, 2);
    noStack(r.stderr);
  });
});
