import { rename, unlink, writeFile } from 'node:fs/promises';
import { RegistryError } from '../errors.ts';

/** Writes through a temporary file and a rename: a reader sees the old or the new file, never half. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new RegistryError('invalid_argument', `cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { where: { file: path } });
  }
}
