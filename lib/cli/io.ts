import { isRegistryError } from '../errors.ts';

/** What a command may touch: streams. Tests pass their own. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Exit statuses: 0 ok, 1 the operation failed, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** An operation that failed for a reason the message says in full: one line, exit 1 unless given. */
export class CliFailure extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_FAILED) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A wrong command line: printed as one line on stderr, no stack trace, exit code 2 unless given. */
export class UsageError extends CliFailure {
  constructor(message: string, exitCode = EXIT_USAGE) {
    super(message, exitCode);
  }
}

/** One line: newlines inside a message (a server's text, a path) must not start a second line. */
export function oneLine(message: string): string {
  return message.replace(/\s*\r?\n\s*/g, ' ').trim();
}

/**
 * Every error ends as one line on stderr and an exit status; never a stack trace (with
 * MCPREG_DEBUG=1 the stack of an unexpected error follows, for a bug report).
 */
export function reportError(e: unknown, io: CliIo, env: NodeJS.ProcessEnv = process.env): number {
  if (e instanceof CliFailure) {
    io.stderr.write(`mcpreg: ${oneLine(e.message)}\n`);
    return e.exitCode;
  }
  if (isRegistryError(e)) {
    io.stderr.write(`mcpreg: ${oneLine(e.describe())}\n`);
    return EXIT_FAILED;
  }
  const message = e instanceof Error ? e.message : String(e);
  io.stderr.write(`mcpreg: internal error: ${oneLine(message)}${env.MCPREG_DEBUG ? '' : ' (MCPREG_DEBUG=1 shows where)'}\n`);
  if (env.MCPREG_DEBUG && e instanceof Error && e.stack) io.stderr.write(`${e.stack}\n`);
  return EXIT_FAILED;
}

/** A duration flag's value (`30s`, `5m`, `1h30m`) in milliseconds. */
export async function parseDurationFlag(command: string, flag: string, value: string): Promise<number> {
  const { parseDuration } = await import('../sync/duration.ts');
  try {
    return parseDuration(value, flag);
  } catch {
    throw new UsageError(`${command}: ${flag} must be a duration such as 30s, 5m or 1h30m, not ${JSON.stringify(value)}`);
  }
}

/** A port flag's value: 0–65535 (0 picks a free port). */
export function parsePort(command: string, flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`${command}: ${flag} must be a number from 0 to 65535, not ${JSON.stringify(value)}`);
  return n;
}
