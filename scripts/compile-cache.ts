/**
 * The query function's compile cache, written by scripts/build.ts after bundling: runs the
 * built dist/query.js once the way a cold start runs it (S3 store with static credentials, so
 * direct reads; a default registry, prefetched) against a loopback stand-in for S3 that
 * answers every read 404 NoSuchKey, until it listens and has answered one GET /v0.1/servers;
 * then stops it with SIGTERM. On exit Node writes the V8 code cache of every module it
 * compiled into dist/compile-cache (portable: keyed by paths relative to it, so dist/ can be
 * copied elsewhere), which dist/query.js enables before loading the function.
 *
 * The cache is valid only for the Node.js build that wrote it (another one ignores it and
 * compiles as usual): build with the Node.js that runs the bundle (the Dockerfile builds in the
 * runtime's image). Nothing here is needed for the bundle to work: when the run fails the
 * build goes on without a cache and says why.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';

const NO_SUCH_KEY = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>';
const TIMEOUT_MS = 20_000;

async function countFiles(dir: string): Promise<number> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
  } catch {
    return 0;
  }
}

export async function writeQueryCompileCache(dist: string): Promise<{ ok: true; files: number } | { ok: false; why: string }> {
  const s3 = createServer((req, res) => {
    req.resume();
    res.writeHead(404, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(NO_SUCH_KEY) });
    res.end(req.method === 'HEAD' ? undefined : NO_SUCH_KEY);
  });
  await new Promise<void>((r) => s3.listen(0, '127.0.0.1', r));
  const env: Record<string, string> = {
    MCPREG_STORE: 's3',
    MCPREG_S3_BUCKET: 'compile-cache',
    MCPREG_S3_ENDPOINT: `http://127.0.0.1:${(s3.address() as AddressInfo).port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'compile-cache',
    AWS_SECRET_ACCESS_KEY: 'compile-cache',
    MCPREG_DEFAULT_REGISTRY: 'build/compile-cache',
    PORT: '0',
    MCPREG_LOG_FORMAT: 'json',
    MCPREG_LOG_LEVEL: 'info',
  };
  if (process.env.PATH) env.PATH = process.env.PATH;
  const child = spawn(process.execPath, [resolve(dist, 'query.js')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  try {
    const url = await new Promise<string>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`dist/query.js did not listen within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        for (const line of stderr.split('\n')) {
          try {
            const entry = JSON.parse(line) as { msg?: string; url?: string };
            if (entry.msg === 'listening' && entry.url) {
              clearTimeout(timer);
              ok(entry.url);
            }
          } catch {
            // not a whole JSON line (yet)
          }
        }
      });
      void exited.then((code) => fail(new Error(`dist/query.js exited with ${code}: ${stderr.slice(-500)}`)));
    });
    // the first request's path (answered 404: the stand-in has no registry)
    await new Promise<void>((ok, fail) => get(`${url}/v0.1/servers`, (res) => res.resume().on('end', ok)).on('error', fail));
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), TIMEOUT_MS))]);
    if (code !== 0) return { ok: false, why: `dist/query.js ended with ${code} on SIGTERM` };
    const files = await countFiles(join(dist, 'compile-cache'));
    return files > 0 ? { ok: true, files } : { ok: false, why: 'Node.js wrote no compile cache' };
  } catch (e) {
    return { ok: false, why: e instanceof Error ? e.message : String(e) };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    s3.close();
  }
}
