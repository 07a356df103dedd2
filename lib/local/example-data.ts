import { spawn } from 'node:child_process';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RegistryError } from '../errors.ts';
import { parseRegistryDocument } from '../formats/parse.ts';
import { OFFICIAL_META_KEY } from '../formats/upstream-schema.ts';

/**
 * The data behind local mode's example sources, kept under `<data>/examples/` so that a
 * user can edit it and watch the registries follow:
 *
 * | file | served as | source of the example registry |
 * | --- | --- | --- |
 * | `registry.json` | plain HTTP, `/registry.json` | `remote-servers` (url) |
 * | `git/registry.git` | git smart HTTP (fetch and push), branch `main`, `registry.json` | `database-servers` (git) |
 * | `upstream-servers.json` | the official registry read API | `upstream-mirror` (registry) |
 *
 * All three start as the real ToolHive registry that `crds/examples/toolhive-registry-configmap.yaml`
 * carries (the ToolHive file as is, its git commit, and its servers in upstream form). Files
 * that exist are left alone, so edits survive a restart.
 */

export interface ExampleFiles {
  dir: string;
  registryFile: string;
  upstreamFile: string;
  /** GIT_PROJECT_ROOT: holds `registry.git`; undefined when git is missing */
  gitRoot: string | undefined;
  /** why there is no git example, when there is none */
  gitProblem?: string;
}

/** The ToolHive registry JSON stored in the example ConfigMap. */
export async function readExampleRegistry(examplesDir: string): Promise<string> {
  const file = join(examplesDir, 'toolhive-registry-configmap.yaml');
  let doc: { data?: Record<string, unknown> } | null;
  try {
    doc = parse(await readFile(file, 'utf8')) as typeof doc;
  } catch (e) {
    throw new RegistryError('not_found', `cannot read the example registry: ${(e as Error).message}`, { where: { file } });
  }
  const text = doc?.data?.['registry.json'];
  if (typeof text !== 'string') throw new RegistryError('invalid_document', 'the example ConfigMap has no data["registry.json"]', { where: { file } });
  return text;
}

/** The registry's servers as official-API rows, all active and latest, dated by the registry's last_updated. */
export function upstreamRows(registryText: string): { servers: unknown[]; metadata: { count: number } } {
  const parsed = parseRegistryDocument(registryText, { format: 'toolhive', mode: 'lenient', file: 'registry.json' });
  const at = parsed.lastUpdated ?? '2026-01-01T00:00:00Z';
  const servers = parsed.servers.map((r) => ({
    server: r.server,
    _meta: { ...(r._meta ?? {}), [OFFICIAL_META_KEY]: { status: 'active', publishedAt: at, updatedAt: at, isLatest: true } },
  }));
  return { servers, metadata: { count: servers.length } };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes through a temporary file, so that a crash never leaves half a file behind. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'mcpreg local mode',
  GIT_AUTHOR_EMAIL: 'mcpreg@localhost',
  GIT_COMMITTER_NAME: 'mcpreg local mode',
  GIT_COMMITTER_EMAIL: 'mcpreg@localhost',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** Runs git without blocking the event loop; stdin from `input`. */
function git(args: string[], options: { cwd: string; input?: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: options.cwd, env: { ...process.env, ...GIT_IDENTITY, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`git ${args[0]} failed: ${err.trim() || `exit ${code}`}`))));
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/**
 * A bare repository with one commit holding `registry.json` on `main`, built with git's
 * plumbing (no work tree). Dated from the registry, so the commit is the same on every machine.
 */
async function createRepository(bare: string, registryText: string, date: string): Promise<void> {
  const tmp = `${bare}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await git(['init', '--bare', '--quiet', '--initial-branch=main', tmp], { cwd: tmp });
    await git(['config', 'http.receivepack', 'true'], { cwd: tmp });
    await git(['config', 'uploadpack.allowReachableSHA1InWant', 'true'], { cwd: tmp });
    const blob = await git(['hash-object', '-w', '--stdin'], { cwd: tmp, input: registryText });
    const tree = await git(['mktree'], { cwd: tmp, input: `100644 blob ${blob}\tregistry.json\n` });
    const commit = await git(['commit-tree', tree, '-m', 'ToolHive registry (example for mcpreg local mode)'], {
      cwd: tmp,
      env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    });
    await git(['update-ref', 'refs/heads/main', commit], { cwd: tmp });
    await rename(tmp, bare);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

export async function prepareExampleFiles(dataDir: string, crdExamplesDir: string): Promise<ExampleFiles> {
  const dir = join(dataDir, 'examples');
  await mkdir(dir, { recursive: true });
  const registryFile = join(dir, 'registry.json');
  const upstreamFile = join(dir, 'upstream-servers.json');
  const gitRoot = join(dir, 'git');
  const bare = join(gitRoot, 'registry.git');
  const files: ExampleFiles = { dir, registryFile, upstreamFile, gitRoot };

  const need = { registry: !(await exists(registryFile)), upstream: !(await exists(upstreamFile)), git: !(await exists(bare)) };
  // repositories made before local mode took pushes (http.receivepack was false) take them now
  if (!need.git) await git(['config', 'http.receivepack', 'true'], { cwd: bare }).catch(() => {});
  if (!need.registry && !need.upstream && !need.git) return files;
  const raw = await readExampleRegistry(crdExamplesDir);
  const pretty = `${JSON.stringify(JSON.parse(raw), null, 2)}\n`;
  if (need.registry) await writeAtomically(registryFile, pretty);
  if (need.upstream) await writeAtomically(upstreamFile, `${JSON.stringify(upstreamRows(raw), null, 2)}\n`);
  if (need.git) {
    await mkdir(gitRoot, { recursive: true });
    const lastUpdated = (JSON.parse(raw) as { last_updated?: string }).last_updated ?? '2026-01-01T00:00:00Z';
    try {
      await createRepository(bare, pretty, lastUpdated);
    } catch (e) {
      files.gitRoot = undefined;
      files.gitProblem = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'git is not installed' : (e as Error).message;
    }
  }
  return files;
}
