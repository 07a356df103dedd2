/**
 * A git smart-HTTP server for tests: the machine's own `git http-backend` (found through
 * `git --exec-path`) run as a CGI program behind a Node HTTP server on 127.0.0.1:0, with
 * bearer-token and basic auth enforced in front of it. Helpers build bare repositories with
 * commits, branches and tags from plain file maps.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gitBackendEnv, relayCgiResponse } from '../../lib/local/cgi.ts';

export interface GitServerOptions {
  /** directory holding the repositories (GIT_PROJECT_ROOT) */
  root: string;
  /** require `Authorization: Bearer <token>` (or basic, when also set) */
  token?: string;
  basic?: { user: string; pass: string };
  /** wait this long before answering each request (timeout tests) */
  delayMs?: number;
}

export interface RecordedGitRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  /** what the request asked for: `advertise` (info/refs), `ls-refs` (v2), `fetch` (a pack) */
  kind: 'advertise' | 'ls-refs' | 'fetch' | 'other';
}

export interface TestGitServer {
  url: string;
  port: number;
  requests: RecordedGitRequest[];
  close(): Promise<void>;
}

const BACKEND = path.join(execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim(), 'git-http-backend');

function authorised(req: http.IncomingMessage, o: GitServerOptions): string | null | undefined {
  if (o.token === undefined && o.basic === undefined) return undefined; // open
  const h = req.headers.authorization ?? '';
  if (o.token !== undefined && h === `Bearer ${o.token}`) return 'token-user';
  if (o.basic && h === `Basic ${Buffer.from(`${o.basic.user}:${o.basic.pass}`).toString('base64')}`) return o.basic.user;
  return null;
}

export async function startGitServer(options: GitServerOptions): Promise<TestGitServer> {
  const requests: RecordedGitRequest[] = [];
  const children = new Set<ReturnType<typeof spawn>>();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const [pathname, query = ''] = (req.url ?? '/').split('?') as [string, string?];
    const record: RecordedGitRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(pathname),
      query,
      status: 0,
      kind: pathname.endsWith('/info/refs') ? 'advertise' : 'other',
    };
    requests.push(record);
    const user = authorised(req, options);
    if (user === null) {
      record.status = 401;
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    if (options.delayMs) {
      const t = setTimeout(() => serve(req, res, record, user), options.delayMs);
      timers.add(t);
      res.on('close', () => {
        clearTimeout(t);
        timers.delete(t);
      });
      return;
    }
    serve(req, res, record, user);
  });

  function serve(req: http.IncomingMessage, res: http.ServerResponse, record: RecordedGitRequest, user: string | undefined) {
    if (res.destroyed) return;
    const [pathname, query = ''] = (req.url ?? '/').split('?') as [string, string?];
    const env: NodeJS.ProcessEnv = {
      ...gitBackendEnv(options.root, req, decodeURIComponent(pathname), query),
      SERVER_SOFTWARE: 'knative-mcp-registry-test',
      ...(user ? { REMOTE_USER: user, AUTH_TYPE: 'Basic' } : {}),
    };
    for (const [k, v] of Object.entries(req.headers)) {
      if (k === 'authorization' || k === 'content-type' || k === 'content-length' || v === undefined) continue;
      env[`HTTP_${k.toUpperCase().replace(/-/g, '_')}`] = Array.isArray(v) ? v.join(', ') : v;
    }
    const child = spawn(BACKEND, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    child.on('close', () => children.delete(child));
    let head0 = '';
    req.on('data', (d: Buffer) => {
      if (head0.length < 200) {
        head0 += d.toString('latin1');
        if (/command=ls-refs/.test(head0)) record.kind = 'ls-refs';
        else if (/command=fetch|want [0-9a-f]{40}/.test(head0)) record.kind = 'fetch';
      }
    });
    req.pipe(child.stdin);
    child.stdin.on('error', () => {});
    relayCgiResponse(child, res, {
      onStatus: (status) => (record.status = status),
      onNoResponse(code, stderr) {
        record.status = 500;
        return `git http-backend failed (${code}): ${stderr}`;
      },
    });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const c of children) c.kill();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Repositories

export interface CommitSpec {
  /** branch to commit on (created from the current HEAD when new) */
  branch?: string;
  /** files to write (path → content); `null` deletes */
  files: Record<string, string | Uint8Array | null>;
  message?: string;
  /** lightweight tag on the new commit */
  tag?: string;
  /** annotated tag on the new commit */
  annotatedTag?: string;
  /** first take the branch as the bare repository has it (after pushes by others) */
  pull?: boolean;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV }, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A bare repository `<root>/<name>.git` that a work tree pushes into. Returns commit SHAs in order. */
export class TestRepo {
  readonly bare: string;
  private readonly work: string;
  readonly commits: string[] = [];

  constructor(root: string, name: string) {
    this.bare = path.join(root, `${name}.git`);
    mkdirSync(this.bare, { recursive: true });
    git(this.bare, ['init', '--bare', '--initial-branch=main', '-q']);
    // let clients fetch a commit by SHA, as GitHub and GitLab do
    git(this.bare, ['config', 'uploadpack.allowReachableSHA1InWant', 'true']);
    git(this.bare, ['config', 'http.receivepack', 'false']);
    this.work = mkdtempSync(path.join(tmpdir(), 'mcpreg-gitwork-'));
    git(this.work, ['init', '--initial-branch=main', '-q']);
    git(this.work, ['remote', 'add', 'origin', this.bare]);
  }

  commit(spec: CommitSpec): string {
    const branch = spec.branch ?? 'main';
    const current = this.commits.length ? git(this.work, ['rev-parse', '--abbrev-ref', 'HEAD']) : 'main';
    if (branch !== current) {
      const exists = git(this.work, ['branch', '--list', branch]) !== '';
      git(this.work, exists ? ['checkout', '-q', branch] : ['checkout', '-q', '-b', branch]);
    }
    if (spec.pull) {
      git(this.work, ['fetch', '-q', 'origin', branch]);
      git(this.work, ['reset', '-q', '--hard', `origin/${branch}`]);
    }
    for (const [file, content] of Object.entries(spec.files)) {
      const full = path.join(this.work, file);
      if (content === null) rmSync(full, { force: true });
      else {
        mkdirSync(path.dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
    git(this.work, ['add', '-A']);
    git(this.work, ['commit', '-q', '--allow-empty', '-m', spec.message ?? `commit ${this.commits.length + 1}`]);
    const sha = git(this.work, ['rev-parse', 'HEAD']);
    if (spec.tag) git(this.work, ['tag', spec.tag]);
    if (spec.annotatedTag) git(this.work, ['tag', '-a', spec.annotatedTag, '-m', `release ${spec.annotatedTag}`]);
    git(this.work, ['push', '-q', '--force', 'origin', branch, '--tags']);
    this.commits.push(sha);
    return sha;
  }

  /** Accept pushes over HTTP (git http-backend's receive-pack). */
  allowPush(): void {
    git(this.bare, ['config', 'http.receivepack', 'true']);
  }

  /** A file at the tip of a branch of the bare repository, or null. */
  show(branch: string, file: string): string | null {
    try {
      return git(this.bare, ['show', `${branch}:${file}`]);
    } catch {
      return null;
    }
  }

  /** Commits of a branch, newest first (none when the branch does not exist). */
  log(branch: string): Array<{ sha: string; subject: string; author: string }> {
    if (!git(this.bare, ['branch', '--list', branch])) return [];
    return git(this.bare, ['log', '--format=%H%x09%s%x09%an <%ae>', branch])
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [sha = '', subject = '', author = ''] = l.split('\t');
        return { sha, subject, author };
      });
  }

  dispose(): void {
    rmSync(this.work, { recursive: true, force: true });
  }
}
