/**
 * The git source: one file of a repository over smart HTTP(S) or SSH, with isomorphic-git.
 *
 * 1. Ask the server which commit the ref points at (`listServerRefs`, protocol v2 when the
 *    server speaks it) — a few hundred bytes. When that commit (and the path) equal the
 *    previous sync's, answer "unchanged" without cloning. A pinned full commit SHA that equals
 *    the previous revision needs no request at all.
 * 2. Otherwise fetch just that commit, shallow (depth 1), into a temporary bare repository that
 *    is always removed, and read `path` at it. Revision = the commit SHA.
 *
 * The protocol (ref listing, shallow fetch, pack parsing) is isomorphic-git's, the same for
 * both transports: smart HTTP (git-http.ts, the shared HTTP client) or SSH (git-ssh.ts, git's
 * upload-pack over an ssh2 connection with the key, known_hosts and fingerprint of the spec).
 * Both give isomorphic-git the same `HttpClient` seam with the same byte budget and pack check.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RegistryError, type ErrorWhere } from '../errors.ts';
import type { GitSource as GitSpec } from '../kube/mcpregistry-spec.ts';
import { createGitHttp, type LimitedGitHttp } from './git-http.ts';
import { isSshRepository, parseSshRemote, type SshRemote } from './git-remote.ts';
import { checkPrivateKey, withGitSsh, type SshTrust } from './git-ssh.ts';
import { networkError, resolveAuth, safeUrl, withHttpSession } from './http-fetch.ts';
import { normaliseFingerprint, parseKnownHosts } from './known-hosts.ts';
import { resolvePolicy, type ResolvedPolicy } from './policy.ts';
import type { FetchResult, SecretReader, Source, SourceContext } from './types.ts';

export type Git = typeof import('isomorphic-git').default;
let loadedGit: Promise<Git> | undefined;
/** isomorphic-git is loaded on first use: only git sources need it (memory and start-up of the others) */
export function loadGit(): Promise<Git> {
  loadedGit ??= import('isomorphic-git').then((m) => (m as { default?: Git }).default ?? (m as unknown as Git));
  return loadedGit;
}

export interface GitState {
  ref: string;
  commit: string;
  path: string;
}

export interface GitSourceOptions {
  /** parent of the temporary clone directories (default: the OS temp dir, i.e. $TMPDIR or /tmp) */
  tmpDir?: string;
}

const SSH_MESSAGE = 'SSH is supported for reading (git sources), not for pushing; use an https URL with a token Secret';

/** Parses an http(s) repository URL (a job's git target; the source's http remotes); SSH forms get the `unsupported` error. */
export function parseRepositoryUrl(repository: string, where: ErrorWhere): URL {
  const r = repository.trim();
  if (/^ssh:\/\//i.test(r) || /^git\+ssh:\/\//i.test(r) || /^[\w.-]+@[\w.-]+:(?!\/\/)/.test(r)) {
    throw new RegistryError('unsupported', SSH_MESSAGE, { where });
  }
  if (/^git:\/\//i.test(r)) throw new RegistryError('unsupported', 'the git:// protocol is not supported; use an https URL', { where });
  let url: URL;
  try {
    url = new URL(r);
  } catch {
    throw new RegistryError('invalid_argument', 'the repository is not a valid http(s) URL', { where });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RegistryError('url_forbidden', `scheme ${url.protocol.replace(/:$/, '')} is not allowed for repositories; use https`, { where });
  }
  // isomorphic-git would take them as credentials (and they would sit in the spec in clear)
  if (url.username || url.password) {
    throw new RegistryError('invalid_argument', `credentials in the repository URL are not allowed (host ${url.hostname}); use authSecret`, { where });
  }
  return url;
}

interface Selection {
  kind: 'branch' | 'tag' | 'commit';
  name: string;
}

function selectionOf(spec: GitSpec, where: ErrorWhere): Selection {
  const given = [spec.branch && 'branch', spec.tag && 'tag', spec.commit && 'commit'].filter(Boolean);
  if (given.length > 1) throw new RegistryError('invalid_argument', `set only one of branch, tag and commit (got ${given.join(', ')})`, { where });
  if (spec.commit) return { kind: 'commit', name: spec.commit.toLowerCase() };
  if (spec.tag) return { kind: 'tag', name: spec.tag };
  return { kind: 'branch', name: spec.branch ?? 'main' };
}

function readState(state: unknown): Partial<GitState> {
  if (!state || typeof state !== 'object') return {};
  const s = state as Record<string, unknown>;
  const out: Partial<GitState> = {};
  if (typeof s.ref === 'string') out.ref = s.ref;
  if (typeof s.commit === 'string') out.commit = s.commit;
  if (typeof s.path === 'string') out.path = s.path;
  return out;
}

/** Maps isomorphic-git's errors (and our own limits) to RegistryError. */
export function gitError(e: unknown, client: LimitedGitHttp, where: ErrorWhere, signal: AbortSignal, timeoutMs: number, phase: string): RegistryError {
  const limit = client.failure();
  if (limit) return limit;
  if (e instanceof RegistryError) return e;
  const code = (e as { code?: string }).code;
  if (code === 'HttpError') {
    const status = (e as { data?: { statusCode?: number } }).data?.statusCode ?? 0;
    if (status === 401 || status === 403) return new RegistryError('auth_failed', `HTTP ${status} from ${where.url ?? 'the git server'}: credentials missing or refused; check authSecret`, { where });
    if (status === 404) return new RegistryError('source_not_found', 'repository not found (HTTP 404)', { where });
    return new RegistryError('source_unavailable', `${phase}: git server answered HTTP ${status}`, { where, transient: status >= 500 || status === 429 });
  }
  if (signal.aborted || (e as { name?: string }).name === 'AbortError' || (e as { name?: string }).name === 'TimeoutError') return networkError(e, { where, signal, timeoutMs, phase });
  const message = e instanceof Error ? e.message : String(e);
  return new RegistryError('source_unavailable', `${phase}: ${message}`, { where, cause: e });
}

/** One git operation over a transport; `remoteUrl` is what isomorphic-git is told the remote is. */
type Operation = (client: LimitedGitHttp, remoteUrl: string) => Promise<FetchResult>;

/**
 * What isomorphic-git is told the remote is when the SSH transport carries it: isomorphic-git
 * only knows http(s) remotes, and the SSH transport reads nothing but the path's ending
 * (`/info/refs`, `/git-upload-pack`) from the requests it gets.
 */
const SSH_PSEUDO_URL = 'https://ssh-transport.invalid/repository';

/** The deploy key and host-key trust of an SSH git source, read from its Secret and spec. */
export async function sshCredentials(
  spec: GitSpec,
  secrets: SecretReader,
  where: ErrorWhere,
): Promise<{ privateKey: string; keyLabel: string; trust: SshTrust; secrets: string[] }> {
  const ref = spec.authSecret;
  if (!ref?.sshPrivateKeyKey) {
    throw new RegistryError('invalid_argument', 'an ssh repository needs authSecret with sshPrivateKeyKey (a deploy key); tokens and passwords are for https', { where });
  }
  if (ref.tokenKey || ref.usernameKey || ref.passwordKey || ref.headerName || ref.headerValueKey) {
    throw new RegistryError('invalid_argument', `authSecret ${ref.name}: set only sshPrivateKeyKey (and knownHostsKey) for an ssh repository`, { where });
  }
  let fingerprint: string | undefined;
  if (spec.sshHostKeyFingerprint !== undefined) {
    fingerprint = normaliseFingerprint(spec.sshHostKeyFingerprint);
    if (!fingerprint) throw new RegistryError('invalid_argument', 'sshHostKeyFingerprint is not a SHA256 fingerprint as ssh-keygen -l prints it (SHA256: and 43 base64 characters)', { where });
  }
  if (!ref.knownHostsKey && !fingerprint) {
    throw new RegistryError('invalid_argument', 'an ssh repository needs authSecret.knownHostsKey or sshHostKeyFingerprint: a host key is never accepted unchecked', { where });
  }
  const keyLabel = `key ${JSON.stringify(ref.sshPrivateKeyKey)} of Secret ${ref.name}`;
  const privateKey = (await secrets.read(ref.name, ref.sshPrivateKeyKey)).trim();
  if (privateKey === '') throw new RegistryError('auth_failed', `${keyLabel} is empty`, { where });
  await checkPrivateKey(`${privateKey}\n`, keyLabel, where);
  const trust: SshTrust = fingerprint ? { fingerprint } : {};
  if (ref.knownHostsKey) {
    const text = await secrets.read(ref.name, ref.knownHostsKey);
    const { entries, skipped } = parseKnownHosts(text);
    if (entries.length === 0) {
      const why = skipped.slice(0, 3).map((s) => `line ${s.line}: ${s.reason}`).join('; ');
      throw new RegistryError('invalid_argument', `key ${JSON.stringify(ref.knownHostsKey)} of Secret ${ref.name} holds no known_hosts line${why ? ` (${why})` : ''}`, { where });
    }
    trust.knownHosts = entries;
  }
  return { privateKey: `${privateKey}\n`, keyLabel, trust, secrets: [privateKey] };
}

export class GitSource implements Source {
  readonly type = 'git' as const;
  readonly spec: GitSpec;
  private readonly tmpDir: string | undefined;

  constructor(spec: GitSpec, options: GitSourceOptions = {}) {
    this.spec = spec;
    this.tmpDir = options.tmpDir;
  }

  async fetch(context: SourceContext): Promise<FetchResult> {
    const baseWhere: ErrorWhere = { source: 'git' };
    const ssh = isSshRepository(this.spec.repository) ? parseSshRemote(this.spec.repository, baseWhere) : undefined;
    const url = ssh ? undefined : parseRepositoryUrl(this.spec.repository, baseWhere);
    const where: ErrorWhere = { source: 'git', url: ssh ? ssh.display : safeUrl(url!) };
    const selection = selectionOf(this.spec, where);
    const filepath = this.spec.path.replace(/^\/+/, '');
    const policy = resolvePolicy(context.policy);
    const previous = context.force ? {} : readState(context.previous?.state);
    const previousRevision = context.force ? undefined : context.previous?.revision;
    const refLabel = `${selection.kind} ${selection.name}`;

    // a pinned full SHA never changes: no request needed
    if (selection.kind === 'commit' && selection.name.length === 40 && previousRevision === selection.name && previous.path === filepath) {
      return { kind: 'unchanged', revision: selection.name, state: { ref: refLabel, commit: selection.name, path: filepath } satisfies GitState };
    }

    const git = await loadGit();
    const signal = AbortSignal.any([context.signal, AbortSignal.timeout(policy.totalTimeoutMs)]);
    const withTransport = ssh
      ? (fn: Operation) => this.overSsh(ssh, context, policy, signal, where, fn)
      : (fn: Operation) => this.overHttp(url!, context, policy, signal, where, fn);
    return withTransport(async (client, remoteUrl) => {
      const fail = (e: unknown, phase: string) => gitError(e, client, where, context.signal, policy.totalTimeoutMs, phase);

      // 1. which commit?
      const { commit, fetchRef } = await this.resolve(git, client, remoteUrl, selection, where).catch((e) => {
        throw fail(e, `listing the refs of the repository`);
      });
      const state: GitState = { ref: refLabel, commit, path: filepath };
      if (previousRevision === commit && previous.path === filepath) return { kind: 'unchanged', revision: commit, state };

      // 2. shallow fetch of that commit into a temporary repository, always removed
      const dir = await mkdtemp(path.join(this.tmpDir ?? os.tmpdir(), 'mcpreg-git-'));
      try {
        const gitdir = dir;
        await git.init({ fs, gitdir, bare: true, defaultBranch: 'main' });
        await git.addRemote({ fs, gitdir, remote: 'origin', url: remoteUrl });
        try {
          await git.fetch({ fs, http: client.http, gitdir, remote: 'origin', ref: fetchRef, singleBranch: true, depth: 1, tags: false });
        } catch (e) {
          throw fail(e, `fetching ${refLabel}`);
        }
        if (signal.aborted) throw fail(signal.reason, `fetching ${refLabel}`);
        let blob: Uint8Array;
        try {
          ({ blob } = await git.readBlob({ fs, gitdir, oid: commit, filepath }));
        } catch (e) {
          if ((e as { code?: string }).code === 'NotFoundError') {
            throw new RegistryError('source_not_found', `path ${JSON.stringify(filepath)} not found at ${refLabel} (commit ${commit})`, { where: { ...where, file: filepath } });
          }
          if ((e as { code?: string }).code === 'ObjectTypeError') {
            throw new RegistryError('source_not_found', `path ${JSON.stringify(filepath)} at ${refLabel} is a directory, not a file`, { where: { ...where, file: filepath } });
          }
          throw fail(e, `reading ${filepath}`);
        }
        if (blob.byteLength > policy.maxBytes) {
          throw new RegistryError('too_large', `${filepath} is ${blob.byteLength} bytes, over the limit of ${policy.maxBytes} (MCPREG_FETCH_MAX_BYTES)`, { where: { ...where, file: filepath } });
        }
        return { kind: 'document', revision: commit, bytes: blob, file: filepath, state };
      } finally {
        await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      }
    });
  }

  /** smart HTTP(S) through the shared HTTP client; `authSecret` gives a header */
  private async overHttp(url: URL, context: SourceContext, policy: ResolvedPolicy, signal: AbortSignal, where: ErrorWhere, fn: Operation): Promise<FetchResult> {
    const ref = this.spec.authSecret;
    if (ref?.sshPrivateKeyKey || ref?.knownHostsKey || this.spec.sshHostKeyFingerprint) {
      throw new RegistryError('invalid_argument', 'sshPrivateKeyKey, knownHostsKey and sshHostKeyFingerprint are for ssh repositories (ssh:// or user@host:path), not https', { where });
    }
    const auth = await resolveAuth(ref, context.secrets, where);
    return withHttpSession(policy, 'git', context.logger, (session) =>
      fn(createGitHttp(session, { maxBytes: policy.maxBytes, signal, allowHttp: this.spec.allowHttp ?? false, auth, where }), url.toString()),
    );
  }

  /** git's upload-pack over SSH: the deploy key and the host key trust from the spec */
  private async overSsh(remote: SshRemote, context: SourceContext, policy: ResolvedPolicy, signal: AbortSignal, where: ErrorWhere, fn: Operation): Promise<FetchResult> {
    const { privateKey, keyLabel, trust, secrets } = await sshCredentials(this.spec, context.secrets, where);
    try {
      return await withGitSsh({ remote, privateKey, keyLabel, trust, policy, signal, where, secrets }, (client) => fn(client, SSH_PSEUDO_URL));
    } catch (e) {
      // failures before the transport existed (connecting, the timeout) come here unmapped
      if (e instanceof RegistryError) throw e;
      throw networkError(e, { where, signal: context.signal, timeoutMs: policy.totalTimeoutMs, phase: `connecting to ${remote.display}` });
    }
  }
  /** The commit the selection points at, and what to ask `fetch` for. */
  private async resolve(git: Git, client: LimitedGitHttp, url: string, sel: Selection, where: ErrorWhere): Promise<{ commit: string; fetchRef: string }> {
    const list = (prefix?: string) =>
      git.listServerRefs({ http: client.http, url, protocolVersion: 2, peelTags: true, ...(prefix ? { prefix } : {}) });
    if (sel.kind === 'branch') {
      const full = `refs/heads/${sel.name}`;
      const refs = await list('refs/heads/');
      const hit = refs.find((r) => r.ref === full);
      if (!hit) {
        const names = refs.map((r) => r.ref.replace('refs/heads/', '')).slice(0, 20);
        throw new RegistryError('source_not_found', `branch ${JSON.stringify(sel.name)} not found (branches: ${names.join(', ') || 'none'})`, { where });
      }
      return { commit: hit.oid, fetchRef: hit.oid };
    }
    if (sel.kind === 'tag') {
      const full = `refs/tags/${sel.name}`;
      const refs = await list('refs/tags/');
      const hit = refs.find((r) => r.ref === full);
      if (!hit) {
        const names = refs.map((r) => r.ref.replace('refs/tags/', '')).slice(0, 20);
        throw new RegistryError('source_not_found', `tag ${JSON.stringify(sel.name)} not found (tags: ${names.join(', ') || 'none'})`, { where });
      }
      return { commit: hit.peeled ?? hit.oid, fetchRef: full };
    }
    // a commit: a full SHA is fetched directly; a short one must be the tip of some ref
    if (sel.name.length === 40) {
      const refs = await list('HEAD');
      if (refs.length === 0) throw new RegistryError('source_not_found', 'the repository is empty', { where });
      return { commit: sel.name, fetchRef: sel.name };
    }
    const refs = await list();
    const hits = new Set(refs.flatMap((r) => [r.oid, r.peeled]).filter((o): o is string => !!o && o.startsWith(sel.name)));
    if (hits.size === 1) {
      const commit = [...hits][0]!;
      return { commit, fetchRef: commit };
    }
    throw new RegistryError(
      'invalid_argument',
      hits.size > 1
        ? `commit ${sel.name} is ambiguous; give the full 40-character SHA`
        : `commit ${sel.name} is not the tip of any branch or tag; give the full 40-character SHA`,
      { where },
    );
  }
}

export function createGitSource(spec: GitSpec, options?: GitSourceOptions): GitSource {
  return new GitSource(spec, options);
}
