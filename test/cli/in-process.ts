/** Runs `mcpreg` in this process with captured streams (faster than a child; same code path as main.ts). */
import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../lib/cli/run.ts';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runInProcess(argv: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string; programName?: string } = {}): Promise<InProcessResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await runCli(argv, { stdin: Readable.from([options.stdin ?? '']), stdout, stderr }, { env: options.env ?? process.env, programName: options.programName ?? 'mcpreg' });
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out, stderr: err };
}
