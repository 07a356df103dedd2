/**
 * The Dockerfile cannot be built here (no container engine), so its invariants are checked
 * statically, and its entrypoint script is run with /bin/sh: Node 24 in both stages, the
 * bundles built from sources that the build context really contains, only dist/ in the
 * runtime image, a numeric non-root user, and a FUNCTION switch that names exactly the
 * bundles scripts/build.ts produces.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_EXTERNALS } from '../../scripts/build-externals.ts';

const root = join(import.meta.dirname, '..', '..');

interface Instruction {
  op: string;
  args: string;
}

async function dockerfile(): Promise<Instruction[][]> {
  const text = await readFile(join(root, 'Dockerfile'), 'utf8');
  const joined = text.replace(/\\\n/g, ' ');
  const stages: Instruction[][] = [];
  for (const line of joined.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [, op = '', args = ''] = /^(\S+)\s+(.*)$/.exec(trimmed) ?? [];
    if (op.toUpperCase() === 'FROM') stages.push([]);
    stages.at(-1)?.push({ op: op.toUpperCase(), args: args.trim() });
  }
  return stages;
}

async function bundleNames(): Promise<string[]> {
  const source = await readFile(join(root, 'scripts', 'build.ts'), 'utf8');
  const block = /const entries = \{([^}]*)\}/.exec(source)?.[1] ?? '';
  return [...block.matchAll(/(\w+):\s*'([^']+)'/g)].map((m) => m[1]!);
}

async function bundleEntries(): Promise<Record<string, string>> {
  const source = await readFile(join(root, 'scripts', 'build.ts'), 'utf8');
  const block = /const entries = \{([^}]*)\}/.exec(source)?.[1] ?? '';
  return Object.fromEntries([...block.matchAll(/(\w+):\s*'([^']+)'/g)].map((m) => [m[1]!, m[2]!]));
}

function entrypointScript(stage: Instruction[]): string[] {
  const entry = stage.find((i) => i.op === 'ENTRYPOINT');
  assert.ok(entry, 'ENTRYPOINT in the runtime stage');
  return JSON.parse(entry.args) as string[];
}

describe('Dockerfile (static checks; the image is not built on this machine)', () => {
  it('builds in a Node 24 stage and runs on Node 24', async () => {
    const stages = await dockerfile();
    assert.equal(stages.length, 2, 'multi-stage: build, runtime');
    for (const stage of stages) assert.match(stage[0]!.args, /^node:24(-[a-z0-9-]+)?(@sha256:[0-9a-f]{64})?(\s+AS\s+\w+)?$/i);
    const buildStage = stages[0]!;
    const runs = buildStage.filter((i) => i.op === 'RUN').map((i) => i.args);
    assert.ok(runs.some((r) => /^npm ci\b/.test(r)), 'npm ci from the lockfile');
    assert.ok(runs.some((r) => /node scripts\/build\.ts|npm run build/.test(r)), 'runs the esbuild bundling');
  });

  it('copies only dist/ from the build stage into the runtime image', async () => {
    const runtime = (await dockerfile())[1]!;
    const copies = runtime.filter((i) => i.op === 'COPY' || i.op === 'ADD');
    assert.equal(copies.length, 1);
    assert.match(copies[0]!.args, /^--from=build\b.*\s\/src\/dist\/?\s+\S+$/);
    assert.equal(runtime.filter((i) => i.op === 'RUN').length, 0, 'no package installs in the runtime stage');
  });

  it('runs as a numeric non-root user, exposes 8080', async () => {
    const runtime = (await dockerfile())[1]!;
    const users = runtime.filter((i) => i.op === 'USER');
    assert.equal(users.length, 1);
    const [uid, gid] = users[0]!.args.split(':').map(Number);
    assert.ok(Number.isInteger(uid) && uid! > 0, 'numeric uid, so runAsNonRoot can verify it');
    assert.ok(gid === undefined || gid > 0);
    assert.equal(uid, 65532, 'the uid the Knative Services set in runAsUser');
    const knative = await readFile(join(root, 'knative', 'service-sync.yaml'), 'utf8');
    assert.match(knative, new RegExp(`runAsUser: ${uid}\\b`));
    assert.ok(runtime.findIndex((i) => i.op === 'USER') > runtime.findIndex((i) => i.op === 'COPY'), 'USER after the files are in place');
    assert.ok(runtime.some((i) => i.op === 'EXPOSE' && i.args === '8080'));
  });

  it('the FUNCTION switch names exactly the bundles scripts/build.ts produces', async () => {
    const [, , script] = entrypointScript((await dockerfile())[1]!);
    const choices = /case "\$FUNCTION" in ([\w|]+)\)/.exec(script ?? '')?.[1]?.split('|');
    assert.deepEqual(choices?.sort(), (await bundleNames()).sort());
  });

  it('the entrypoint runs the chosen bundle with the arguments, and refuses an unknown FUNCTION', async () => {
    const [shell, flag, script, argv0] = entrypointScript((await dockerfile())[1]!);
    const dir = await mkdtemp(join(tmpdir(), 'mcpreg-entrypoint-'));
    try {
      await mkdir(join(dir, 'dist'));
      await writeFile(join(dir, 'dist', 'cli.js'), 'console.log(JSON.stringify(process.argv.slice(2)));\n');
      const local = script!.replaceAll('/app/dist/', `${dir}/dist/`);
      const run = (fn: string, args: string[]) =>
        spawnSync(shell!, [flag!, local, argv0!, ...args], { encoding: 'utf8', env: { ...process.env, FUNCTION: fn } });
      const ok = run('cli', ['validate', '--format', 'toolhive', 'a b.json']);
      assert.equal(ok.status, 0, ok.stderr);
      assert.deepEqual(JSON.parse(ok.stdout), ['validate', '--format', 'toolhive', 'a b.json']);
      const bad = run('../../etc/passwd', []);
      assert.equal(bad.status, 64);
      assert.match(bad.stderr, /FUNCTION must be sync, query or cli \(got '\.\.\/\.\.\/etc\/passwd'\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every source file the bundles need is copied into the build stage and not excluded by .dockerignore', async () => {
    const buildStage = (await dockerfile())[0]!;
    const copied = buildStage
      .filter((i) => i.op === 'COPY')
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
      .map((p) => p.replace(/^\.\//, '').replace(/\/$/, ''));
    const ignored = (await readFile(join(root, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const result = await build({
      entryPoints: await bundleEntries(),
      absWorkingDir: root,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      write: false,
      metafile: true,
      outdir: 'out',
      logLevel: 'silent',
      external: BUNDLE_EXTERNALS,
    });
    const needed = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/'));
    assert.ok(needed.length > 10, 'the bundles have sources');
    for (const file of [...needed, 'scripts/build.ts', 'package.json', 'package-lock.json']) {
      const top = file.split('/')[0]!;
      assert.ok(copied.includes(top) || copied.includes(file), `${file} is copied into the build stage`);
      assert.ok(!ignored.includes(top) && !ignored.includes(file), `${file} is not excluded by .dockerignore`);
    }
    for (const heavy of ['node_modules', '.git', 'dist', '.mcpreg']) assert.ok(ignored.includes(heavy), `.dockerignore excludes ${heavy}`);
  });
});
