import { Command, CommanderError } from '@commander-js/extra-typings';
import type { CliContext } from './command.ts';
import { commands, groups } from './commands/index.ts';
import { formatHelp } from './help.ts';
import { type CliIo, EXIT_OK, EXIT_USAGE, oneLine, reportError } from './io.ts';

/** A commander parse error, with the command it happened in (for the message's prefix). */
class CommandLineError extends Error {
  readonly error: CommanderError;
  readonly commandPath: string;
  constructor(error: CommanderError, commandPath: string) {
    super(error.message);
    this.error = error;
    this.commandPath = commandPath;
  }
}

const DESCRIPTION = `The MCP registry on Kubernetes: manage MCPRegistries, search and inspect their servers, convert
and validate registry documents, and run the whole system locally.`;

/** The whole command tree, wired to `ctx`'s streams. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command(ctx.programName);
  const settle = (cmd: Command, path: string) => {
    cmd
      .helpOption('-h, --help', 'this help')
      .configureOutput({ writeOut: (s) => ctx.io.stdout.write(s), writeErr: (s) => ctx.io.stderr.write(s), outputError: () => {} })
      .configureHelp({ formatHelp: (c, helper) => formatHelp(c as unknown as Command, helper as never, ctx.programName) })
      .showSuggestionAfterError(true)
      .exitOverride((e) => {
        throw new CommandLineError(e, path);
      });
  };
  settle(program, '');
  program
    .usage('COMMAND [options]')
    .description(DESCRIPTION)
    .addHelpText('after', `\nRun '${ctx.programName} <command> --help' for a command's options.\nexit status: 0 ok, 1 the operation failed, 2 usage error`);

  for (const command of commands) {
    let parent = program;
    for (let i = 0; i < command.path.length - 1; i++) {
      const name = command.path[i]!;
      let group = parent.commands.find((c) => c.name() === name) as Command | undefined;
      if (!group) {
        group = parent.command(name) as unknown as Command;
        settle(group, command.path.slice(0, i + 1).join(' '));
        const summary = groups[command.path.slice(0, i + 1).join(' ')] ?? '';
        group.summary(summary).description(summary).usage('COMMAND [options]');
      }
      parent = group;
    }
    const cmd = parent.command(command.path.at(-1)!, { hidden: command.hidden ?? false }) as unknown as Command;
    settle(cmd, command.path.join(' '));
    cmd.summary(command.summary);
    command.define(cmd, ctx);
  }
  return program;
}

export interface RunOptions {
  /** `mcpreg`, or `kubectl mcpreg` for the kubectl plugin */
  programName?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs one command line; the exit status is returned (0 ok, 1 failed, 2 usage). */
export async function runCli(argv: string[], io: CliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, options: RunOptions = {}): Promise<number> {
  const ctx: CliContext = { io, programName: options.programName ?? 'mcpreg', env: options.env ?? process.env, argv, exitCode: EXIT_OK };
  const program = buildProgram(ctx);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommandLineError) return reportCommandLine(e, ctx);
    return reportError(e, io, ctx.env);
  }
}

function reportCommandLine(e: CommandLineError, ctx: CliContext): number {
  const { code, exitCode } = e.error;
  if (code === 'commander.helpDisplayed' || code === 'commander.version') return EXIT_OK;
  // a group called without its subcommand: commander printed the group's help on stderr
  if (code === 'commander.help') return EXIT_USAGE;
  if (code === 'commander.executeSubCommandAsync') return exitCode;
  // "error: unknown option '--x'\n(Did you mean --y?)" → "Unknown option '--x' (did you mean --y?)"
  let message = oneLine(e.message.replace(/^error: /, '').replace(/\n\(Did you mean/, ' (did you mean'));
  message = message.charAt(0).toUpperCase() + message.slice(1);
  const hint = code === 'commander.unknownCommand' ? `; '${[ctx.programName, e.commandPath].filter(Boolean).join(' ')} --help' lists the commands` : '';
  ctx.io.stderr.write(`mcpreg: ${e.commandPath ? `${e.commandPath}: ` : ''}${message}${hint}\n`);
  return EXIT_USAGE;
}
