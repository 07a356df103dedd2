import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { toRegistryError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { ExampleFiles } from './example-data.ts';
import { startGitHttpServer, type GitPushNotice } from './git-http-server.ts';
import { closeNow, listen } from './listen.ts';
import { startRegistryApiServer } from './registry-api-server.ts';

/**
 * The loopback servers behind local mode's url, git and registry-API examples, each on its
 * own port (0 = any free one). See example-data.ts for what they serve.
 */

export interface ExampleAddresses {
  /** `http://127.0.0.1:PORT` of each server; git is missing when git is not installed */
  url: string;
  git?: string;
  registryApi: string;
}

export interface ExampleServers {
  addresses: ExampleAddresses;
  close(): Promise<void>;
}

/** Serves one file at `/<its name>` with ETag and Last-Modified (and 304s), read on each request so edits show at once. */
export async function startFileServer(options: { file: string; host?: string; port?: number; log?: Logger }): Promise<{ url: string; close(): Promise<void> }> {
  const log = options.log ?? silentLogger;
  const path = `/${basename(options.file)}`;
  const server = http.createServer((req, res) => {
    void (async () => {
      const pathname = (req.url ?? '/').split('?')[0];
      if (pathname !== path) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        return res.end(`not found; this server serves ${path}\n`);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
        return res.end('read-only\n');
      }
      let info;
      let body: Buffer;
      try {
        info = await stat(options.file);
        body = await readFile(options.file);
      } catch (e) {
        log.warn('url example: file unreadable', { file: options.file, error: (e as Error).message });
        res.writeHead(404, { 'content-type': 'text/plain' });
        return res.end(`${path} is not there (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})\n`);
      }
      const etag = `"${body.length.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
      const lastModified = info.mtime.toUTCString();
      const headers = { etag, 'last-modified': lastModified, 'cache-control': 'no-cache' };
      const since = req.headers['if-modified-since'];
      if (req.headers['if-none-match'] === etag || (req.headers['if-none-match'] === undefined && since && Date.parse(since) >= Math.floor(info.mtimeMs / 1000) * 1000)) {
        res.writeHead(304, headers);
        return res.end();
      }
      res.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    })().catch((e: unknown) => {
      log.error('url example: request failed', { error: e instanceof Error ? e.message : String(e) });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await listen(server, options.port ?? 0, host, 'url example server');
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    async close() {
      await closeNow(server);
    },
  };
}

export interface PreferredPorts {
  url?: number;
  git?: number;
  'registry-api'?: number;
}

/** Starts a server on the preferred port, or on any free one when that is taken. */
async function onPreferredPort<T>(what: string, preferred: number | undefined, start: (port: number) => Promise<T>, log: Logger): Promise<T> {
  if (preferred) {
    try {
      return await start(preferred);
    } catch (e) {
      log.info(`${what}: port ${preferred} is not available; using another`, { error: toRegistryError(e).message });
    }
  }
  return start(0);
}

export interface ExampleHooks {
  /** a push to the git example changed these refs (local mode sends the sync function GitHub push events) */
  onGitPush?(notice: GitPushNotice): void;
}

export async function startExampleServers(files: ExampleFiles, log: Logger = silentLogger, ports: PreferredPorts = {}, hooks: ExampleHooks = {}): Promise<ExampleServers> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    await Promise.allSettled(closers.map((c) => c()));
  };
  try {
    const url = await onPreferredPort('url example', ports.url, (port) => startFileServer({ file: files.registryFile, log, port }), log);
    closers.push(url.close);
    const api = await onPreferredPort('registry API example', ports['registry-api'], (port) => startRegistryApiServer({ file: files.upstreamFile, log, port }), log);
    closers.push(api.close);
    const addresses: ExampleAddresses = { url: url.url, registryApi: api.url };
    if (files.gitRoot) {
      try {
        const root = files.gitRoot;
        const git = await onPreferredPort('git example', ports.git, (port) => startGitHttpServer({ root, log, port, ...(hooks.onGitPush ? { onPush: hooks.onGitPush } : {}) }), log);
        closers.push(git.close);
        addresses.git = git.url;
      } catch (e) {
        log.warn('the git example is not served', { error: toRegistryError(e).describe() });
      }
    } else {
      log.warn('the git example is not served', { error: files.gitProblem ?? 'no repository' });
    }
    return { addresses, close };
  } catch (e) {
    await close();
    throw e;
  }
}
