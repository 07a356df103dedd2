/** Runs the mcpreg CLI as a child process (the TypeScript entry, or the bundle). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './support.ts';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const CLI_SOURCE = join(ROOT, 'lib/cli/main.ts');
export const CLI_BUNDLE = join(ROOT, 'dist/cli.js');

export function mcpreg(args: string[], options: { stdin?: string | Uint8Array; entry?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.entry ?? CLI_SOURCE, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => {}); // the command may finish before reading all of stdin
    child.stdin.end(options.stdin ?? '');
  });
}
