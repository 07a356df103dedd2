import type { Command } from '@commander-js/extra-typings';
import type { CliIo } from './io.ts';

/**
 * One `mcpreg` command. Each lives in its own file under commands/ and is listed once in
 * commands/index.ts; run.ts builds the commander tree from the list (intermediate groups such
 * as `registry` are created from the paths). A command file must stay cheap to import: the
 * whole tree is built for every invocation (help, completion), so anything heavy (the
 * Kubernetes client, the local runtime, format schemas) is imported inside the action.
 */
export interface CliCommand {
  /** where it sits in the tree: ['validate'], ['registry', 'list'] */
  readonly path: readonly string[];
  /** one line, shown in the parent's list of commands */
  readonly summary: string;
  /** left out of help and completion (plumbing such as `complete`) */
  readonly hidden?: boolean;
  /** adds the description, arguments, options and the action to `cmd` (already named, with help and error handling) */
  define(cmd: Command, ctx: CliContext): void;
}

/** What a command's action may touch. Tests run the CLI in-process with their own streams. */
export interface CliContext {
  readonly io: CliIo;
  /** how the CLI was called, for help and hints: `mcpreg` or `kubectl mcpreg` */
  readonly programName: string;
  /** the environment (KUBECONFIG, MCPREG_API, …) */
  readonly env: NodeJS.ProcessEnv;
  /** the arguments as given, after the program name */
  readonly argv: readonly string[];
  /** the exit status once the action returns: set it for an outcome that is not an error (validate: 1 = invalid) */
  exitCode: number;
}

export function defineCommand(command: CliCommand): CliCommand {
  return command;
}
