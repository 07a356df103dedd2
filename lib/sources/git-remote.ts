/**
 * A git source's repository, parsed: smart HTTP(S) or SSH. Pure.
 *
 * SSH spellings (as git reads them):
 * - `ssh://[user@]host[:port]/path` (also `git+ssh://` and `ssh+git://`): the path is absolute
 *   on the server, except `/~user/…` and `/~/…`, which are relative to a home directory;
 * - `user@host:path` (scp-like; the user is required here, so that `host:path` is never taken
 *   for a URL by mistake): the path is relative to the login's home directory, as git sends it.
 * The user defaults to `git` (what GitHub, GitLab, Gitea and Bitbucket expect).
 */
import { RegistryError, type ErrorWhere } from '../errors.ts';
import { SSH_REPOSITORY_PATTERN } from '../kube/mcpregistry-spec.ts';

export interface SshRemote {
  kind: 'ssh';
  user: string;
  /** host name or IP address (IPv6 without brackets), lower-cased */
  host: string;
  port: number;
  /** the repository path as git-upload-pack is given it */
  path: string;
  /** `ssh://host[:port]/path` without the user: for errors and logs */
  display: string;
}

export interface HttpRemote {
  kind: 'http';
  url: URL;
}

export type GitRemote = SshRemote | HttpRemote;

export const DEFAULT_SSH_USER = 'git';

const SCP_LIKE = /^([A-Za-z0-9._-]+)@(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?!\/\/)(.+)$/;
const SSH_SCHEME = /^(ssh|git\+ssh|ssh\+git):\/\//;
const SSH_REPOSITORY = new RegExp(SSH_REPOSITORY_PATTERN);

/** An SSH repository by the same pattern as the CRD's rules (lower-case schemes). */
export function isSshRepository(repository: string): boolean {
  return SSH_REPOSITORY.test(repository.trim());
}

function display(host: string, port: number, path: string): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `ssh://${h}${port === 22 ? '' : `:${port}`}${path.startsWith('/') ? '' : '/'}${path}`;
}

function checkPath(path: string, where: ErrorWhere): string {
  if (path === '' || path === '/') throw new RegistryError('invalid_argument', 'the ssh repository URL names no repository path', { where });
  // git-upload-pack receives the path shell-quoted; control characters have no place in it
  if (/[\0-\x1f\x7f]/.test(path)) throw new RegistryError('invalid_argument', 'the ssh repository path contains a control character', { where });
  return path;
}

/** Parses an SSH repository (see the module comment); throws `invalid_argument` naming what is wrong. */
export function parseSshRemote(repository: string, where: ErrorWhere): SshRemote {
  const r = repository.trim();
  const scp = SCP_LIKE.exec(r);
  if (scp && !SSH_SCHEME.test(r)) {
    const [, user, rawHost, path] = scp as unknown as [string, string, string, string];
    const host = rawHost.replace(/^\[|\]$/g, '').toLowerCase();
    checkPath(path, where);
    return { kind: 'ssh', user, host, port: 22, path, display: display(host, 22, path) };
  }
  let url: URL;
  try {
    // WHATWG URL parses special schemes only; ssh:// is parsed as an opaque-host URL
    url = new URL(r.replace(SSH_SCHEME, 'ssh://'));
  } catch {
    throw new RegistryError('invalid_argument', 'the repository is not a valid ssh:// URL', { where });
  }
  if (url.password) {
    throw new RegistryError('invalid_argument', `a password in the repository URL is not allowed (host ${url.hostname}); use authSecret.sshPrivateKeyKey`, { where });
  }
  const host = decodeURIComponent(url.hostname).replace(/^\[|\]$/g, '').toLowerCase();
  if (!host) throw new RegistryError('invalid_argument', 'the ssh repository URL names no host', { where });
  const port = url.port ? Number(url.port) : 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RegistryError('invalid_argument', `port ${url.port} of the ssh repository URL is not a TCP port`, { where });
  if (url.search || url.hash) throw new RegistryError('invalid_argument', 'the ssh repository URL cannot have a query or fragment', { where });
  let path = decodeURIComponent(url.pathname);
  // ssh://host/~user/repo and ssh://host/~/repo are relative to a home directory (as in git)
  if (path.startsWith('/~')) path = path.slice(1);
  checkPath(path, where);
  const user = url.username ? decodeURIComponent(url.username) : DEFAULT_SSH_USER;
  return { kind: 'ssh', user, host, port, path, display: display(host, port, path) };
}

/**
 * The command line run on the server: `git-upload-pack '<path>'`, quoted for a POSIX shell as
 * git quotes it (a `'` becomes `'\''`, a `!` becomes `'\!'`).
 */
export function uploadPackCommand(path: string): string {
  return `git-upload-pack '${path.replace(/'/g, "'\\''").replace(/!/g, "'\\!'")}'`;
}
