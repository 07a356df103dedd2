#!/usr/bin/env node
/**
 * `mcpreg`: the command-line entry point. Each command lives in `commands/<name>.ts`,
 * exports `run(args, io)` and is loaded only when asked for, so that `mcpreg validate`
 * does not pay for the Kubernetes client.
 */
import { runCli } from './run.ts';

process.exitCode = await runCli(process.argv.slice(2));
