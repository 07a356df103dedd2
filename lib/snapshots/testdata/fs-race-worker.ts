/**
 * Child process for fs-store.test.ts: writers in separate processes racing on one directory.
 *
 *   increment <dir> <key> <times> <barrier-dir> <id> <parties>
 *       wait until <parties> workers have checked in at <barrier-dir>, then read-modify-write
 *       a counter with ifMatch <times> times, retrying conflicts
 *   publish <dir> <namespace> <name> <label> <etag|null>   one publishSnapshot over that ETag
 *
 * Prints one JSON line with the outcome.
 */
import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryError } from '../../errors.ts';
import { createFsStore } from '../fs-store.ts';
import { publishSnapshot } from '../publish.ts';

const [mode, dir, ...rest] = process.argv.slice(2);
const store = createFsStore({ dir: dir! });
const enc = new TextEncoder();

if (mode === 'increment') {
  const [key, times, barrier, id, parties] = rest as [string, string, string, string, string];
  // start together, so that the writers really overlap
  await writeFile(join(barrier, `ready-${id}`), '');
  const until = Date.now() + 30_000;
  while ((await readdir(barrier)).length < Number(parties)) {
    if (Date.now() > until) throw new Error('the other workers never arrived');
    await sleep(2);
  }
  let conflicts = 0;
  for (let i = 0; i < Number(times); ) {
    const current = await store.get(key);
    if (current === 'not-modified') throw new Error('unexpected');
    const value = current ? Number(new TextDecoder().decode(current.body)) : 0;
    try {
      await store.put(key, enc.encode(String(value + 1)), current ? { ifMatch: current.etag } : { ifNoneMatch: '*' });
      i++;
    } catch (e) {
      if (e instanceof RegistryError && e.code === 'conflict') conflicts++;
      else throw e;
    }
  }
  console.log(JSON.stringify({ conflicts }));
} else if (mode === 'publish') {
  const [namespace, name, label, etag] = rest as [string, string, string, string];
  try {
    const result = await publishSnapshot(store, { namespace, name }, {
      hash: createHash('sha256').update(label).digest('hex'),
      files: { toolhive: enc.encode(`{"t":"${label}"}`), upstream: enc.encode(`{"u":"${label}"}`) },
      pointer: { revision: label, format: 'upstream', filterHash: 'none', syncedAt: new Date().toISOString(), counts: { servers: 0, versions: 0, invalid: 0, filteredOut: 0 } },
      expectedPointerEtag: etag === 'null' ? null : etag,
    });
    console.log(JSON.stringify({ outcome: 'won', etag: result.etag }));
  } catch (e) {
    if (e instanceof RegistryError && e.code === 'conflict') console.log(JSON.stringify({ outcome: 'conflict', message: e.message }));
    else throw e;
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
