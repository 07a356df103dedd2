import { type CliIo, type CommandModule, reportError } from './io.ts';

/** Commands, loaded lazily. Add a line here when adding `commands/<name>.ts`. */
const commands: Record<string, () => Promise<CommandModule>> = {
  'control-plane': () => import('./commands/control-plane.ts'),
  convert: () => import('./commands/convert.ts'),
  dev: () => import('./commands/dev.ts'),
  validate: () => import('./commands/validate.ts'),
};

function usage(): string {
  const names = Object.keys(commands).sort();
  return `usage: mcpreg <command> [options]\n\ncommands:\n${names.map((n) => `  ${n}`).join('\n')}\n\nRun 'mcpreg <command> --help' for a command's options.\n`;
}

export async function runCli(argv: string[], io: CliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    io.stderr.write(`mcpreg: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  try {
    const command = await load();
    return await command.run(rest, io);
  } catch (e) {
    return reportError(e, io);
  }
}
