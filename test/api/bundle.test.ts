/**
 * The query function's cold start depends on what its entry file loads before the first
 * response. Bundle it as scripts/build.ts does (esbuild, ESM, code splitting) and check that
 * the modules reachable through static imports hold none of the heavy dependencies: the AWS
 * SDK, the Kubernetes client, zod and the CloudEvents SDK load only through dynamic imports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';

const root = join(import.meta.dirname, '..', '..');

test('the query entry statically loads only its own code, node built-ins and small modules', async () => {
  const result = await build({
    entryPoints: { query: join(root, 'functions/query/main.ts') },
    outdir: join(root, 'dist-bundle-test'),
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    splitting: true,
    minify: true,
    metafile: true,
    logLevel: 'silent',
  });
  const meta: Metafile = result.metafile;
  const outputs = meta.outputs;
  const entry = Object.keys(outputs).find((k) => outputs[k]!.entryPoint?.endsWith('functions/query/main.ts'))!;
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const i of outputs[file]!.imports) if (!i.external && i.kind === 'import-statement') visit(i.path);
  };
  visit(entry);
  const inputs = [...seen].flatMap((f) => Object.keys(outputs[f]!.inputs));
  const heavy = inputs.filter((i) => /node_modules\/(@aws-sdk|@smithy|@kubernetes|zod|cloudevents|undici|isomorphic-git|yaml)\//.test(i));
  assert.deepEqual(heavy, []);
  const bytes = [...seen].reduce((n, f) => n + outputs[f]!.bytes, 0);
  assert.ok(bytes < 100_000, `startup code is ${bytes} bytes`);
  // and the heavy parts are still reachable lazily
  const lazy = Object.values(outputs).flatMap((o) => Object.keys(o.inputs));
  assert.ok(lazy.some((i) => i.includes('node_modules/@kubernetes/client-node/')));
  assert.ok(lazy.some((i) => i.includes('node_modules/@aws-sdk/client-s3/')));
  assert.ok(lazy.some((i) => i.includes('node_modules/zod/')));
});
