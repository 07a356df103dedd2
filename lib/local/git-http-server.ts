import { execFile, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { RegistryError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { gitBackendEnv, relayCgiResponse } from './cgi.ts';
import { refUpdates, type RefUpdate } from './github-push-event.ts';
import { closeNow, listen } from './listen.ts';

/**
 * Git over smart HTTP for local mode's git example: the machine's own `git http-backend` run
 * as a CGI program behind a Node HTTP server on loopback. Fetches (`git-upload-pack`) and
 * pushes (`git-receive-pack`) are served; whether a repository takes pushes is its own
 * `http.receivepack` setting, which http-backend enforces (the example repository sets it).
 *
 * After a push, `onPush` is told which refs it changed (the repository's refs listed before and
 * after the receive-pack, which also covers pushes that were rejected or only probed: they
 * change nothing and tell nothing). Pushes to one repository run one at a time, so that the
 * two listings belong to one push. Local mode turns them into the GitHub push CloudEvents the
 * sync function gets from Knative's GitHubSource on a cluster.
 *
 * Children are spawned asynchronously: this runs in the same process as the control plane
 * and must not block it.
 */

const run = promisify(execFile);

/** One push: the repository's URL as clients use it (`http://127.0.0.1:PORT/registry.git`) and the refs it changed. */
export interface GitPushNotice {
  repositoryUrl: string;
  updates: RefUpdate[];
}

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

/** the requests of git's smart (and dumb) HTTP protocol; anything else is a 404 */
function isGitRequest(method: string, pathname: string): boolean {
  if (method === 'GET') return pathname.endsWith('/info/refs') || /\/(HEAD|objects\/.+)$/.test(pathname);
  return method === 'POST' && (pathname.endsWith('/git-upload-pack') || pathname.endsWith('/git-receive-pack'));
}

const RECEIVE_PACK = '/git-receive-pack';

/** `ref → sha` of a bare repository's branches and tags. */
async function listRefs(gitDir: string): Promise<Map<string, string>> {
  const { stdout } = await run('git', ['--git-dir', gitDir, 'for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags'], {
    timeout: 10_000,
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', HOME: gitDir },
  });
  const refs = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [sha, ref] = line.trim().split(' ');
    if (sha && ref) refs.set(ref, sha);
  }
  return refs;
}

export async function startGitHttpServer(options: { root: string; host?: string; port?: number; log?: Logger; onPush?: (notice: GitPushNotice) => void }): Promise<GitHttpServer> {
  const backend = await findHttpBackend();
  const log = options.log ?? silentLogger;
  const children = new Set<ChildProcess>();
  const root = resolve(options.root);
  // receive-packs of one repository, one after the other
  const pushQueues = new Map<string, Promise<void>>();
  let url = '';

  /** Runs `push` after the pushes to `gitDir` before it; the refs before and after go to onPush. */
  function serialisedPush(gitDir: string, repoPath: string, push: () => Promise<number | null>): void {
    const previous = pushQueues.get(gitDir) ?? Promise.resolve();
    const next = previous.then(async () => {
      const before = await listRefs(gitDir).catch(() => undefined);
      const code = await push();
      if (!before || code !== 0 || !options.onPush) return;
      const after = await listRefs(gitDir).catch((e: unknown) => {
        log.warn('git example: refs unreadable after a push; no push event', { repository: repoPath, error: (e as Error).message });
        return undefined;
      });
      if (!after) return;
      const updates = refUpdates(before, after);
      if (updates.length > 0) options.onPush({ repositoryUrl: `${url}${repoPath}`, updates });
    });
    const settled = next.catch((e: unknown) => log.warn('git example: push bookkeeping failed', { repository: repoPath, error: (e as Error).message }));
    pushQueues.set(gitDir, settled);
    void settled.then(() => {
      if (pushQueues.get(gitDir) === settled) pushQueues.delete(gitDir);
    });
  }

  const server = http.createServer((req, res) => {
    const [pathname = '/', query = ''] = (req.url ?? '/').split('?') as [string, string?];
    const method = req.method ?? 'GET';
    if (!isGitRequest(method, pathname)) {
      req.resume();
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
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
    if (method === 'POST' && path.endsWith(RECEIVE_PACK)) {
      const repoPath = path.slice(0, -RECEIVE_PACK.length);
      const gitDir = resolve(root, `.${repoPath}`);
      if (!gitDir.startsWith(root + sep)) {
        req.resume();
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
        return;
      }
      serialisedPush(gitDir, repoPath, () => new Promise((done) => backendRequest(req, res, path, query, done)));
      return;
    }
    backendRequest(req, res, path, query);
  });

  /** one request through git http-backend; `done` gets its exit code */
  function backendRequest(req: http.IncomingMessage, res: http.ServerResponse, path: string, query: string, done?: (code: number | null) => void): void {
    const env: NodeJS.ProcessEnv = {
      ...gitBackendEnv(root, req, path, query),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
    };
    const child = spawn(backend, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    child.on('close', (code) => {
      children.delete(child);
      done?.(code);
    });
    child.on('error', (e) => {
      done?.(null);
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
  }

  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1', 'git example server');
  const { port } = server.address() as AddressInfo;
  url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  return {
    url,
    async close() {
      for (const c of children) c.kill();
      await closeNow(server);
    },
  };
}
