/**
 * Local state on disk: `<dataDir>/state.json` holds every object, the resourceVersion counter
 * and the tokens the server issued, written atomically (temporary file, then rename) shortly
 * after changes and on stop. A state file that cannot be read stops the start with a precise
 * error instead of silently starting empty.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { RegistryError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { KubeObject } from './objects.ts';

const KubeObjectShape = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional(), resourceVersion: z.string().optional() }),
});

const SavedToken = z.object({
  token: z.string().min(1),
  user: z.string().min(1),
  uid: z.string().optional(),
  groups: z.array(z.string()).optional(),
  expires: z.number().optional(),
  origin: z.enum(['admin', 'issued']),
});

export const StateFile = z.object({
  version: z.literal(1),
  savedAt: z.string(),
  resourceVersion: z.number().int().nonnegative(),
  collections: z.record(z.string(), z.array(KubeObjectShape)),
  tokens: z.array(SavedToken).default([]),
});
export type StateFile = z.infer<typeof StateFile>;
export type SavedToken = z.infer<typeof SavedToken>;

export const stateFilePath = (dataDir: string) => join(dataDir, 'state.json');

export async function loadState(dataDir: string): Promise<StateFile | undefined> {
  const file = stateFilePath(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RegistryError('store_unavailable', `cannot read the control plane state: ${(e as Error).message}`, { where: { file }, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RegistryError('invalid_json', `the control plane state is not valid JSON (${(e as Error).message}); move the file away to start empty`, { where: { file } });
  }
  const parsed = StateFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RegistryError('invalid_document', `the control plane state is not a state file: ${issue.message}; move the file away to start empty`, {
      where: { file, path: issue.path.join('.') },
    });
  }
  return parsed.data;
}

export interface StateSource {
  snapshot(): { resourceVersion: number; collections: Record<string, KubeObject[]> };
  tokens(): SavedToken[];
}

export class StateWriter {
  readonly #dir: string;
  readonly #source: StateSource;
  readonly #log: Logger;
  readonly #delayMs: number;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #dirty = false;

  constructor(dir: string, source: StateSource, log: Logger, delayMs = 100) {
    this.#dir = dir;
    this.#source = source;
    this.#log = log;
    this.#delayMs = delayMs;
  }

  /** Debounced save after a change. */
  schedule(): void {
    this.#dirty = true;
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush().catch(() => {});
    }, this.#delayMs);
    this.#timer.unref();
  }

  /** Writes now if anything changed (serialised with any write in progress). */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#writing = this.#writing.then(async () => {
      if (!this.#dirty) return;
      this.#dirty = false;
      try {
        await this.#write();
      } catch (e) {
        this.#dirty = true;
        this.#log.error('control plane state not saved', { file: stateFilePath(this.#dir), error: (e as Error).message });
        throw new RegistryError('store_unavailable', `cannot save the control plane state: ${(e as Error).message}`, { where: { file: stateFilePath(this.#dir) }, cause: e });
      }
    });
    return this.#writing;
  }

  async #write(): Promise<void> {
    const snap = this.#source.snapshot();
    const state = { version: 1, savedAt: new Date().toISOString(), ...snap, tokens: this.#source.tokens() };
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const file = stateFilePath(this.#dir);
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
}
