import { z } from 'zod';

/**
 * `current.json`: the only mutable object of a registry. Written last, with a conditional
 * write, after every object it names exists. Readers load it first, then the snapshot.
 */
export const SnapshotPointer = z.object({
  /** schema version of this pointer document */
  apiVersion: z.literal('mcpreg/v1'),
  namespace: z.string(),
  name: z.string(),
  /** the registry's spec.displayName and spec.description, for listings */
  displayName: z.string().optional(),
  description: z.string().optional(),
  /** content hash of the published snapshot (hex sha256, timestamps ignored) */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** source revision the snapshot was built from (ETag, commit, resourceVersion, …) */
  revision: z.string().optional(),
  /** format the source was read as */
  format: z.enum(['toolhive', 'upstream']),
  /** hash of the filter that was applied, so a filter change alone republishes */
  filterHash: z.string(),
  /** when this snapshot was published (RFC 3339) */
  syncedAt: z.string(),
  counts: z.object({
    /** distinct server names published */
    servers: z.number().int().nonnegative(),
    /** upstream server versions published (>= servers) */
    versions: z.number().int().nonnegative(),
    /** entries rejected by validation (lenient mode) */
    invalid: z.number().int().nonnegative(),
    /** entries removed by the filter */
    filteredOut: z.number().int().nonnegative(),
  }),
  /** keys of the snapshot objects, relative to the store root */
  objects: z.object({
    toolhive: z.string(),
    upstream: z.string(),
  }),
  /**
   * The unfiltered source content the snapshot was built from, so that a filter change
   * re-publishes without re-fetching and an incremental sync merges into it. `key` is
   * `snapshots/{hash}/source.json` (the raw document, or the merged upstream list of a
   * registry API source), or the snapshot's own upstream.json when nothing was filtered.
   * `state` is the source's own state (registry API watermark, incremental count).
   */
  source: z
    .object({
      hash: z.string().regex(/^[0-9a-f]{64}$/),
      key: z.string(),
      /** how to read `key`: the raw fetched document, or an upstream list envelope */
      kind: z.enum(['document', 'upstream-list']),
      /** the document's file name or URL path, for messages when it is re-parsed */
      file: z.string().optional(),
      state: z.unknown().optional(),
    })
    .optional(),
  /**
   * Earlier snapshots of this registry, newest first (bounded), filled in by publishSnapshot.
   * Retention keeps the current snapshot plus the most recent of these (see README.md).
   * Optional: pointers written before it existed are still valid.
   */
  history: z
    .array(z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/), syncedAt: z.string() }))
    .max(100)
    .optional(),
});
export type SnapshotPointer = z.infer<typeof SnapshotPointer>;
