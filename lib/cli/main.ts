#!/usr/bin/env node
/**
 * `mcpreg`: the command-line entry point. Each command lives in `commands/<name>.ts`,
 * exports `run(args, io)` and is loaded only when asked for, so that `mcpreg validate`
 * does not pay for the Kubernetes client.
 */
import { runCli } from './run.ts';

// `mcpreg … | head`: a closed pipe ends the output, not with a stack trace
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await runCli(process.argv.slice(2));
