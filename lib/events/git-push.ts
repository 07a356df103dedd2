/**
 * Git push CloudEvents of Knative's GitHub and GitLab sources, and which registries they
 * concern. Pure.
 *
 * GitHubSource (knative-extensions/eventing-github), `spec.eventTypes: [push]`:
 * - type `dev.knative.source.github.push`; source `https://github.com/OWNER/REPO`; id the
 *   `X-GitHub-Delivery` header; data the webhook's push payload as GitHub sends it:
 *   `{ ref: "refs/heads/main", before, after, repository: { html_url, clone_url, ssh_url,
 *   git_url, full_name, … }, commits: […], … }`.
 *
 * GitLabSource (knative-extensions/eventing-gitlab), `spec.eventTypes: [push_events]`:
 * - type `dev.knative.sources.gitlab.push` (the payload's `object_kind`; releases before 0.20
 *   sent `dev.knative.sources.gitlabsource.Push Hook`, also accepted); source the project's
 *   homepage (`repository.homepage`); data the push hook payload: `{ object_kind: "push",
 *   ref: "refs/heads/main", checkout_sha, project: { web_url, git_http_url, git_ssh_url,
 *   path_with_namespace, … }, repository: { homepage, git_http_url, git_ssh_url, … }, … }`.
 *
 * A push names its repository in several spellings (web, https clone, ssh); a registry
 * follows it when its `spec.source.git.repository`, normalised the same way, equals any of
 * them and its branch is the pushed one (`refs/heads/<branch>`; main when none is set). Tag
 * pushes and registries pinned to a tag or commit are not concerned.
 */

export const GIT_PUSH_TYPES = {
  github: 'dev.knative.source.github.push',
  gitlab: 'dev.knative.sources.gitlab.push',
  gitlabLegacy: 'dev.knative.sources.gitlabsource.Push Hook',
} as const;

export function isGitPushType(type: string): boolean {
  return (Object.values(GIT_PUSH_TYPES) as string[]).includes(type);
}

export interface GitPush {
  provider: 'github' | 'gitlab';
  /** normalised repository identities (`host/path`) */
  repositories: string[];
  /** the pushed branch; undefined for a tag or another ref */
  branch: string | undefined;
}

/**
 * `host[:port]/path` with the scheme, user info, `.git` suffix and trailing slashes dropped
 * and the host lower-cased; ssh forms (`git@host:path`, `ssh://git@host/path`) map to the same
 * identity as the https URL. Undefined for what is not a repository URL.
 */
export function normaliseRepoUrl(raw: string): string | undefined {
  const text = raw.trim();
  let host: string;
  let path: string;
  const scp = /^[^@/\s]+@([^:/\s]+):(?!\/)(.+)$/.exec(text);
  if (scp) {
    host = scp[1]!;
    path = scp[2]!;
  } else {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return undefined;
    }
    if (!['http:', 'https:', 'ssh:', 'git:'].includes(url.protocol)) return undefined;
    // the ssh and git ports are not part of the repository's identity; an http port is
    const defaultPort = url.protocol === 'ssh:' || url.protocol === 'git:' || url.port === '80' || url.port === '443';
    host = `${url.hostname}${url.port && !defaultPort ? `:${url.port}` : ''}`;
    path = decodeURIComponent(url.pathname);
  }
  path = path.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/, '');
  if (!host || !path) return undefined;
  return `${host.toLowerCase()}/${path}`;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The push a CloudEvent describes, or undefined when its data is not a push payload. */
export function decodeGitPush(type: string, source: string | undefined, data: unknown): GitPush | undefined {
  if (!isGitPushType(type)) return undefined;
  const d = obj(data);
  const ref = str(d.ref);
  if (!ref) return undefined;
  const provider = type === GIT_PUSH_TYPES.github ? 'github' : 'gitlab';
  const repo = obj(d.repository);
  const project = obj(d.project);
  const urls =
    provider === 'github'
      ? [repo.html_url, repo.clone_url, repo.ssh_url, repo.git_url, repo.url, source]
      : [project.web_url, project.git_http_url, project.git_ssh_url, repo.homepage, repo.git_http_url, repo.git_ssh_url, repo.url, source];
  const repositories = [...new Set(urls.map(str).filter((u): u is string => u !== undefined).map(normaliseRepoUrl).filter((u): u is string => u !== undefined))];
  if (repositories.length === 0) return undefined;
  const branch = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
  return { provider, repositories, branch };
}

interface RegistryLike {
  metadata: { name: string; namespace?: string | undefined; deletionTimestamp?: string | undefined };
  spec?: unknown;
}

/** the registries whose git source follows the pushed repository and branch */
export function registriesForPush<T extends RegistryLike>(registries: readonly T[], push: GitPush): T[] {
  if (push.branch === undefined) return [];
  const wanted = new Set(push.repositories);
  return registries.filter((r) => {
    if (r.metadata.deletionTimestamp) return false;
    const source = obj(obj(r.spec).source);
    const git = obj(source.git);
    if (source.type !== 'git' || typeof git.repository !== 'string') return false;
    if (git.tag !== undefined || git.commit !== undefined) return false;
    const branch = typeof git.branch === 'string' ? git.branch : 'main';
    const id = normaliseRepoUrl(git.repository);
    return branch === push.branch && id !== undefined && wanted.has(id);
  });
}
