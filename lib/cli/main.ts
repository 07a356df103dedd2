/**
 * `mcpreg`'s process: wires the CLI (run.ts) to the process's streams and exit code. The
 * executables (entry.ts, kubectl-entry.ts) check the Node.js version first and then call
 * main(); tests and `node lib/cli/main.ts` run this file directly.
 */
import { runCli } from './run.ts';

/** `prefix`: words put before the command line (kubectl_complete-mcpreg runs `complete --`) */
export async function main(programName = 'mcpreg', prefix: string[] = []): Promise<void> {
  // `mcpreg … | head`: a closed pipe ends the output, not with a stack trace
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  process.exitCode = await runCli([...prefix, ...process.argv.slice(2)], { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, { programName });
}

if (import.meta.main) await main();
