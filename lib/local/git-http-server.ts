import { execFile, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RegistryError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { gitBackendEnv, relayCgiResponse } from './cgi.ts';
import { closeNow, listen } from './listen.ts';

/**
 * Read-only git over smart HTTP for local mode's git example: the machine's own
 * `git http-backend` run as a CGI program behind a Node HTTP server on loopback. Only fetches
 * are served (`git-upload-pack`); pushes are refused. Children are spawned asynchronously:
 * this runs in the same process as the control plane and must not block it.
 */

const run = promisify(execFile);

export interface GitHttpServer {
  url: string;
  close(): Promise<void>;
}

/** `git --exec-path`/git-http-backend, or a RegistryError when git is not installed. */
export async function findHttpBackend(): Promise<string> {
  try {
    const { stdout } = await run('git', ['--exec-path'], { timeout: 10_000 });
    return join(stdout.trim(), 'git-http-backend');
  } catch (e) {
    throw new RegistryError('unsupported', `git is not available (${(e as Error).message.split('\n')[0]}); the git example is not served`, { where: { source: 'git' } });
  }
}

function isFetch(method: string, pathname: string, query: string): boolean {
  if (method === 'GET' && pathname.endsWith('/info/refs')) return new URLSearchParams(query).get('service') !== 'git-receive-pack';
  if (method === 'GET' && /\/(HEAD|objects\/.+)$/.test(pathname)) return true;
  return method === 'POST' && pathname.endsWith('/git-upload-pack');
}

export async function startGitHttpServer(options: { root: string; host?: string; port?: number; log?: Logger }): Promise<GitHttpServer> {
  const backend = await findHttpBackend();
  const log = options.log ?? silentLogger;
  const children = new Set<ChildProcess>();

  const server = http.createServer((req, res) => {
    const [pathname = '/', query = ''] = (req.url ?? '/').split('?') as [string, string?];
    const method = req.method ?? 'GET';
    if (!isFetch(method, pathname, query)) {
      req.resume();
      res.writeHead(method === 'POST' || query.includes('git-receive-pack') ? 403 : 404, { 'content-type': 'text/plain' });
      res.end(method === 'POST' || query.includes('git-receive-pack') ? 'this example repository is read-only over HTTP\n' : 'not found\n');
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(pathname);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('bad path\n');
      return;
    }
    const env: NodeJS.ProcessEnv = {
      ...gitBackendEnv(options.root, req, path, query),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
    };
    const child = spawn(backend, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    child.on('close', () => children.delete(child));
    child.on('error', (e) => {
      log.warn('git http-backend failed to start', { error: e.message });
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('git http-backend failed\n');
      } else res.destroy();
    });
    req.pipe(child.stdin);
    child.stdin.on('error', () => {});
    relayCgiResponse(child, res, {
      onNoResponse(code, stderr) {
        log.warn('git http-backend answered nothing', { path, code, stderr: stderr.trim() });
        return 'git http-backend failed\n';
      },
    });
  });
  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1', 'git example server');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    async close() {
      for (const c of children) c.kill();
      await closeNow(server);
    },
  };
}
