/**
 * Bundles each function and the CLI into one ESM file under dist/ with esbuild.
 * Usage: node scripts/build.ts [--minify=false] [--metafile]
 */
import { build } from 'esbuild';
import { chmod, mkdir, writeFile } from 'node:fs/promises';

const entries = {
  sync: 'functions/sync/main.ts',
  query: 'functions/query/main.ts',
  cli: 'lib/cli/main.ts',
} as const;

const minify = !process.argv.includes('--minify=false');
const wantMeta = process.argv.includes('--metafile');

await mkdir('dist', { recursive: true });
const started = performance.now();
const result = await build({
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  splitting: false,
  minify,
  sourcemap: 'linked',
  legalComments: 'linked',
  metafile: wantMeta,
  logLevel: 'warning',
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __mcpregCreateRequire } from 'node:module'; const require = __mcpregCreateRequire(import.meta.url);",
  },
});
await chmod('dist/cli.js', 0o755);
if (wantMeta && result.metafile) await writeFile('dist/meta.json', JSON.stringify(result.metafile));
console.log(`built ${Object.keys(entries).map((k) => `dist/${k}.js`).join(', ')} in ${Math.round(performance.now() - started)} ms`);
