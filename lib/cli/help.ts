import type { Command, Help, Option } from '@commander-js/extra-typings';

/**
 * Help in the style of the existing commands (and of kubectl/gh): `usage:` line, the
 * description as written, then options, then subcommands (nested ones listed by their full
 * path, so the root help shows the whole tree), then any text added after. Placeholders are
 * written in commander's syntax (`--format <FORMAT>`) and shown without brackets.
 */

const placeholder = (flags: string) => flags.replace(/<([^>]+)>/g, '$1');

function usageLine(cmd: Command, programName: string): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent as Command | null) names.unshift(c.name());
  const usage = cmd.usage();
  return [programName, ...names, usage ? placeholder(usage) : ''].filter(Boolean).join(' ');
}

/** Commands under `cmd`, depth first, each with its path relative to `cmd`. */
function leafCommands(cmd: Command, prefix: string[] = []): { path: string; cmd: Command }[] {
  const out: { path: string; cmd: Command }[] = [];
  for (const sub of cmd.commands as Command[]) {
    if ((sub as unknown as { _hidden?: boolean })._hidden) continue;
    const path = [...prefix, sub.name()];
    if (sub.commands.length > 0 && !(sub as unknown as { _actionHandler?: unknown })._actionHandler) out.push(...leafCommands(sub, path));
    else out.push({ path: path.join(' '), cmd: sub });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

function items(rows: [string, string][]): string[] {
  const width = Math.max(0, ...rows.map(([t]) => t.length));
  return rows.map(([term, text]) => {
    const [first = '', ...rest] = text.split('\n');
    return [`  ${term.padEnd(width)}  ${first}`.trimEnd(), ...rest.map((l) => `  ${' '.repeat(width)}  ${l}`.trimEnd())].join('\n');
  });
}

export function formatHelp(cmd: Command, helper: Help, programName: string): string {
  const out: string[] = [`usage: ${usageLine(cmd, programName)}`, ''];
  const description = cmd.description();
  if (description) out.push(description.trimEnd(), '');
  const options = helper.visibleOptions(cmd) as Option[];
  if (options.length > 0) out.push('options:', ...items(options.map((o) => [placeholder(o.flags), o.description])), '');
  const subs = leafCommands(cmd);
  if (subs.length > 0) out.push('commands:', ...items(subs.map((s) => [s.path, s.cmd.summary() || s.cmd.description().split('\n')[0] || ''])), '');
  return `${out.join('\n').trimEnd()}\n`;
}
