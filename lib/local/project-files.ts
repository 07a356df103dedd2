import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RegistryError } from '../errors.ts';

/**
 * The project's `crds/` directory, found from this module's own location: `lib/local/` when
 * run from the sources, `dist/` or `dist/chunks/` when run from the bundle. Local mode runs
 * from a checkout (`npm start`), which always has it.
 */
export function findCrdsDir(from: string = import.meta.dirname): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'crds');
    if (existsSync(join(candidate, 'kustomization.yaml')) && existsSync(join(candidate, 'examples'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new RegistryError('not_found', 'cannot find the crds/ directory of this project (local mode runs from a checkout of the repository)', { where: { file: from } });
}
