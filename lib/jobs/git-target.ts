/**
 * A file in a git repository as a job's target, over smart HTTP(S) with isomorphic-git and the
 * shared HTTP layer (SSRF checks, credentials from the Secret only, size caps, timeouts).
 *
 * `updateGitFile` reads the branch tip (shallow, depth 1) into a temporary bare repository,
 * hands the file's current text to `compute`, and when that returns a new text commits it
 * (the tree of the tip with that one path replaced) and pushes. A push that is not a
 * fast-forward (someone else pushed meanwhile) re-reads the branch and computes again, up to
 * MAX_PUSH_ATTEMPTS times. `compute` returning null means "nothing to write": no commit.
 */
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RegistryError, type ErrorWhere } from '../errors.ts';
import type { GitTarget } from '../kube/job-specs.ts';
import type { FetchPolicy, SecretReader } from '../sources/types.ts';
import { createGitHttp, type LimitedGitHttp } from '../sources/git-http.ts';
import { gitError, loadGit, parseRepositoryUrl, type Git } from '../sources/git.ts';
import { resolveAuth, safeUrl, withHttpSession } from '../sources/http-fetch.ts';
import { resolvePolicy } from '../sources/policy.ts';

export const MAX_PUSH_ATTEMPTS = 4;

export interface GitWrite {
  target: GitTarget;
  secrets: SecretReader;
  policy: FetchPolicy;
  signal: AbortSignal;
  now: () => Date;
  /** the commit message when the target names none (asked after compute) */
  defaultMessage: () => string;
  /** the file's text at the branch tip (null: no such file or branch) → the text to commit, or null for none */
  compute: (current: string | null) => string | null;
}

export interface GitWriteResult {
  /** the commit pushed, or null when nothing was written */
  commit: string | null;
  /** the commit the file was read at (null: the branch did not exist) */
  base: string | null;
  /** `git:URL#branch:path` */
  location: string;
  attempts: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function gitLocation(target: GitTarget): string {
  return `git:${target.repository}#${target.branch}:${target.path}`;
}

type TreeEntry = { mode: string; path: string; oid: string; type: 'blob' | 'tree' | 'commit' };

/** The tree `treeOid` (or an empty one) with `segments` set to the blob `blobOid`; returns the new tree's oid. */
async function putPath(git: Git, gitdir: string, treeOid: string | undefined, segments: string[], blobOid: string): Promise<string> {
  const entries: TreeEntry[] = treeOid ? ((await git.readTree({ fs, gitdir, oid: treeOid })).tree as TreeEntry[]) : [];
  const [head, ...rest] = segments as [string, ...string[]];
  const existing = entries.find((e) => e.path === head);
  let entry: TreeEntry;
  if (rest.length === 0) entry = { mode: '100644', path: head, oid: blobOid, type: 'blob' };
  else entry = { mode: '040000', path: head, oid: await putPath(git, gitdir, existing?.type === 'tree' ? existing.oid : undefined, rest, blobOid), type: 'tree' };
  const next = entries.filter((e) => e.path !== head).concat(entry);
  return git.writeTree({ fs, gitdir, tree: next });
}

function isRejectedPush(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'PushRejectedError' || code === 'GitPushError' || code === 'NotFoundError';
}

export async function updateGitFile(w: GitWrite): Promise<GitWriteResult> {
  const t = w.target;
  const url = parseRepositoryUrl(t.repository, { source: 'git target' });
  const where: ErrorWhere = { source: 'git target', url: safeUrl(url), file: t.path };
  const segments = t.path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0 || segments.includes('..')) throw new RegistryError('invalid_argument', `path ${JSON.stringify(t.path)} is not a file path inside the repository`, { where });
  const policy = resolvePolicy(w.policy);
  const auth = await resolveAuth(t.authSecret, w.secrets, where);
  const git = await loadGit();
  const signal = AbortSignal.any([w.signal, AbortSignal.timeout(policy.totalTimeoutMs)]);
  const location = gitLocation(t);
  const branchRef = `refs/heads/${t.branch}`;

  return withHttpSession(policy, 'git', undefined, async (session) => {
    for (let attempt = 1; ; attempt++) {
      // a fresh client per attempt: the byte cap is per operation
      const client: LimitedGitHttp = createGitHttp(session, { maxBytes: policy.maxBytes, signal, allowHttp: t.allowHttp, auth, where });
      const fail = (e: unknown, phase: string) => gitError(e, client, where, w.signal, policy.totalTimeoutMs, phase);
      const gitdir = await mkdtemp(path.join(os.tmpdir(), 'mcpreg-gittarget-'));
      try {
        await git.init({ fs, gitdir, bare: true, defaultBranch: t.branch });
        await git.addRemote({ fs, gitdir, remote: 'origin', url: url.toString() });
        const refs = await git.listServerRefs({ http: client.http, url: url.toString(), protocolVersion: 2, prefix: branchRef }).catch((e) => {
          throw fail(e, 'listing the branches of the repository');
        });
        const tip = refs.find((r) => r.ref === branchRef)?.oid ?? null;
        let current: string | null = null;
        let baseTree: string | undefined;
        if (tip) {
          try {
            await git.fetch({ fs, http: client.http, gitdir, remote: 'origin', ref: t.branch, singleBranch: true, depth: 1, tags: false });
          } catch (e) {
            throw fail(e, `fetching branch ${t.branch}`);
          }
          baseTree = (await git.readCommit({ fs, gitdir, oid: tip })).commit.tree;
          try {
            const { blob } = await git.readBlob({ fs, gitdir, oid: tip, filepath: segments.join('/') });
            if (blob.byteLength > policy.maxBytes) throw new RegistryError('too_large', `${t.path} is ${blob.byteLength} bytes, over the limit of ${policy.maxBytes} (MCPREG_FETCH_MAX_BYTES)`, { where });
            current = decoder.decode(blob);
          } catch (e) {
            const code = (e as { code?: string }).code;
            if (code === 'ObjectTypeError') throw new RegistryError('invalid_argument', `${t.path} is a directory at ${t.branch}, not a file`, { where });
            if (code === 'TypeError' || e instanceof TypeError) throw new RegistryError('invalid_document', `${t.path} at ${t.branch} is not UTF-8 text`, { where });
            if (code !== 'NotFoundError') throw e;
          }
        }
        const text = w.compute(current);
        if (text === null) return { commit: null, base: tip, location, attempts: attempt };
        const blobOid = await git.writeBlob({ fs, gitdir, blob: Buffer.from(text) });
        const tree = await putPath(git, gitdir, baseTree, segments, blobOid);
        const who = { name: t.authorName, email: t.authorEmail, timestamp: Math.floor(w.now().getTime() / 1000), timezoneOffset: 0 };
        const message = t.message ?? w.defaultMessage();
        const commit = await git.writeCommit({
          fs,
          gitdir,
          commit: { tree, parent: tip ? [tip] : [], author: who, committer: who, message: message.endsWith('\n') ? message : `${message}\n` },
        });
        await git.writeRef({ fs, gitdir, ref: branchRef, value: commit, force: true });
        try {
          const pushed = await git.push({ fs, http: client.http, gitdir, remote: 'origin', ref: branchRef, remoteRef: branchRef });
          if (!pushed.ok || pushed.refs[branchRef]?.ok === false) {
            const reason = pushed.refs[branchRef]?.error ?? pushed.error ?? 'rejected';
            throw Object.assign(new Error(`push rejected: ${reason}`), { code: 'GitPushError' });
          }
          return { commit, base: tip, location, attempts: attempt };
        } catch (e) {
          if (isRejectedPush(e) && attempt < MAX_PUSH_ATTEMPTS && !client.failure()) continue; // the branch moved: read it again
          if (isRejectedPush(e)) {
            throw new RegistryError('conflict', `push to branch ${t.branch} rejected ${attempt} times (the branch kept moving, or a hook refused it): ${(e as Error).message}`, { where, transient: true });
          }
          throw fail(e, `pushing to branch ${t.branch}`);
        }
      } finally {
        await rm(gitdir, { recursive: true, force: true, maxRetries: 3 });
      }
    }
  });
}
