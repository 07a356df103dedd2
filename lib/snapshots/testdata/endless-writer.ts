/**
 * A writer that never stops: puts a large object again and again into the fs store at argv[2]
 * (fsync on), so that a kill -9 lands mid-write with a temp file on disk. Tells the parent
 * "writing" over IPC once it has started.
 */
import { createFsStore } from '../fs-store.ts';

const store = createFsStore({ dir: process.argv[2]!, durable: true });
const body = Buffer.alloc(16 * 1024 * 1024, 0x61);
process.send?.('writing');
for (let i = 0; ; i++) {
  body.writeUInt32BE(i, 0);
  await store.put(`registries/team-a/reg/snapshots/${'a'.repeat(60)}${String(i % 4).padStart(4, '0')}/upstream.json`, body);
}
