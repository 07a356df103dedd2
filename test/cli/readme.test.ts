/**
 * The README's CLI section documents every command and every flag of the command tree, and
 * the tour uses mcpreg (not hand-written YAML or curl) to list, add, sync, remove and search.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Command, Option } from '@commander-js/extra-typings';
import { buildProgram } from '../../lib/cli/run.ts';

const README = join(import.meta.dirname, '..', '..', 'README.md');

function section(readme: string, heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has "${heading}"`);
  const end = readme.indexOf('\n## ', start + heading.length + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

function leaves(cmd: Command, prefix: string[] = []): { path: string; cmd: Command }[] {
  return (cmd.commands as Command[]).flatMap((sub) => {
    if ((sub as unknown as { _hidden?: boolean })._hidden) return [];
    const path = [...prefix, sub.name()];
    return sub.commands.length > 0 ? leaves(sub, path) : [{ path: path.join(' '), cmd: sub }];
  });
}

test('the README CLI section documents every command and flag', async () => {
  const cli = section(await readFile(README, 'utf8'), '## The `mcpreg` CLI');
  const program = buildProgram({ io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, programName: 'mcpreg', env: {}, argv: [], exitCode: 0 });
  const commands = leaves(program);
  assert.ok(commands.length >= 12);
  for (const { path, cmd } of commands) {
    assert.ok(cli.includes(`\`mcpreg ${path}`), `the CLI section documents mcpreg ${path}`);
    for (const option of cmd.options as readonly Option[]) {
      if (option.long === '--help') continue;
      assert.ok(cli.includes(option.long!), `mcpreg ${path}: ${option.long} is documented`);
    }
  }
});

test('the tour uses mcpreg to list, get, add, sync, remove, search and show', async () => {
  const tour = section(await readFile(README, 'utf8'), '## Five-minute tour of local mode');
  for (const command of ['registry list', 'registry get', 'registry add', 'registry sync', 'registry remove', 'search', 'show']) {
    assert.match(tour, new RegExp(`\`\`\`sh\\n(?:[^\`]*\\n)?npm run -s mcpreg -- ${command} `), `a tour block runs mcpreg ${command}`);
  }
  assert.doesNotMatch(tour, /sync-trigger=\$T/, 'no hand-made annotation dance');
});
