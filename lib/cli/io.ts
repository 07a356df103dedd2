import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { isRegistryError } from '../errors.ts';

/** What a command may touch: streams and the exit code. Tests pass their own. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export type CommandRun = (args: string[], io: CliIo) => Promise<number>;

export interface CommandModule {
  run: CommandRun;
}

/** A user error: printed as one line on stderr, no stack trace, exit code 2 unless given. */
export class UsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UsageError';
    this.exitCode = exitCode;
  }
}

export function reportError(e: unknown, io: CliIo): number {
  if (e instanceof UsageError) {
    io.stderr.write(`mcpreg: ${e.message}\n`);
    return e.exitCode;
  }
  if (isRegistryError(e)) {
    io.stderr.write(`mcpreg: ${e.describe()}\n`);
    return 1;
  }
  const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
  io.stderr.write(`mcpreg: internal error: ${message}\n`);
  return 70;
}

/** `util.parseArgs` for a command: a mistake becomes a UsageError naming the command. */
export function parseCommandArgs<const T extends ParseArgsOptionsConfig>(command: string, args: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
}

/** A port flag's value: 0–65535 (0 picks a free port). */
export function parsePort(command: string, flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`${command}: ${flag} must be a number from 0 to 65535, not ${JSON.stringify(value)}`);
  return n;
}
