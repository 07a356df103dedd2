/**
 * Writes crds/<plural>.yaml from the zod schemas (lib/kube/crds.ts).
 * Usage: node scripts/gen-crds.ts [--check]   (--check: exit 1 and name the stale files)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CRD_DEFINITIONS, renderCrdYaml } from '../lib/kube/crds.ts';

const crdDir = join(import.meta.dirname, '..', 'crds');
const check = process.argv.includes('--check');
const stale: string[] = [];

for (const def of CRD_DEFINITIONS) {
  const path = join(crdDir, def.file);
  const text = renderCrdYaml(def);
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === text) continue;
  if (check) stale.push(`crds/${def.file}`);
  else {
    await writeFile(path, text);
    console.log(`wrote crds/${def.file}`);
  }
}
if (stale.length > 0) {
  console.error(`stale: ${stale.join(', ')} (run: npx node scripts/gen-crds.ts)`);
  process.exit(1);
}
