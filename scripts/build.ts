/**
 * Bundles each function and the CLI into one ESM entry file under dist/ with esbuild.
 * Code reached only through dynamic `import()` (the AWS SDK, the Kubernetes client, zod on the
 * query function's cold path…) goes into chunks under dist/chunks/ that are loaded on first
 * use: an entry file holds only what starting it needs. Then the query function's compile
 * cache (dist/compile-cache, scripts/compile-cache.ts). Ship dist/ as a whole.
 * Usage: node scripts/build.ts [--minify=false] [--metafile]
 */
import { build } from 'esbuild';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { BUNDLE_EXTERNALS } from './build-externals.ts';
import { writeQueryCompileCache } from './compile-cache.ts';

const entries = {
  sync: 'functions/sync/main.ts',
  // enables the compile cache (scripts/compile-cache.ts), then loads functions/query/main.ts
  query: 'functions/query/entry.ts',
  // tiny entries that check the Node.js version before loading the CLI (see lib/cli/node-check.ts)
  cli: 'lib/cli/entry.ts',
  'kubectl-mcpreg': 'lib/cli/kubectl-entry.ts',
  'kubectl_complete-mcpreg': 'lib/cli/kubectl-complete-entry.ts',
} as const;

const minify = !process.argv.includes('--minify=false');
const wantMeta = process.argv.includes('--metafile');

await rm('dist/chunks', { recursive: true, force: true });
await rm('dist/compile-cache', { recursive: true, force: true });
await mkdir('dist', { recursive: true });
const started = performance.now();
const result = await build({
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  // dynamic imports stay lazy: a single-file bundle would still parse every lazily used
  // dependency at startup (the query function started in ~150 ms instead of ~50 ms)
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  minify,
  sourcemap: 'linked',
  legalComments: 'linked',
  metafile: wantMeta,
  logLevel: 'warning',
  external: BUNDLE_EXTERNALS,
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __mcpregCreateRequire } from 'node:module'; const require = __mcpregCreateRequire(import.meta.url);",
  },
});
for (const bin of ['cli', 'kubectl-mcpreg', 'kubectl_complete-mcpreg']) await chmod(`dist/${bin}.js`, 0o755);
if (wantMeta && result.metafile) await writeFile('dist/meta.json', JSON.stringify(result.metafile));
const cache = await writeQueryCompileCache('dist');
console.log(`built ${Object.keys(entries).map((k) => `dist/${k}.js`).join(', ')} in ${Math.round(performance.now() - started)} ms`);
// the bundle works without it (every module compiled from source), so only a warning
if (!cache.ok) console.error(`build: no compile cache for dist/query.js (${cache.why})`);
