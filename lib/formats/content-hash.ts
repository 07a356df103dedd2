import { createHash } from 'node:crypto';
import { writeCanonicalJson, type KeyFilter } from './canonical-json.ts';
import { OFFICIAL_META_KEY } from './upstream-schema.ts';

/**
 * A stable content hash (sha256, hex) of registry data: canonical JSON (sorted keys) that leaves
 * out the timestamps which change without the content changing:
 * - `last_updated` at the top level and inside any `meta` or `metadata` object (ToolHive
 *   registry, ToolHive's upstream file envelope, per-server ToolHive metadata);
 * - `publishedAt`, `updatedAt`, `statusChangedAt` inside the official registry `_meta`
 *   (`io.modelcontextprotocol.registry/official`).
 * Everything else counts, including `isLatest` and `status`.
 */

const OFFICIAL_TIMESTAMPS = new Set(['publishedAt', 'updatedAt', 'statusChangedAt']);

export const omitTimestamps: KeyFilter = (key, parentKey, depth) => {
  if (key === 'last_updated') return depth === 0 || parentKey === 'meta' || parentKey === 'metadata';
  return parentKey === OFFICIAL_META_KEY && OFFICIAL_TIMESTAMPS.has(key);
};

/** Incremental form: add several values (e.g. both snapshot documents), then digest. */
export interface ContentHasher {
  add(value: unknown): ContentHasher;
  digest(): string;
}

export function createContentHasher(): ContentHasher {
  const hash = createHash('sha256');
  let parts = 0;
  const hasher: ContentHasher = {
    add(value) {
      // a separator keeps [a, b] and [ab] apart
      if (parts++ > 0) hash.update('\n');
      writeCanonicalJson(value, (chunk) => hash.update(chunk), { omit: omitTimestamps });
      return hasher;
    },
    digest: () => hash.digest('hex'),
  };
  return hasher;
}

export function contentHash(...values: unknown[]): string {
  const hasher = createContentHasher();
  for (const v of values) hasher.add(v);
  return hasher.digest();
}
