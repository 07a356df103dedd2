/**
 * Server versions of a snapshot: the official metadata's names and rules, the shape of a
 * query result, and the re-serialisation of elements that cannot be served as they are.
 */

export const OFFICIAL_META = 'io.modelcontextprotocol.registry/official';

/** the only keys the official API allows in `_meta["io.modelcontextprotocol.registry/official"]` */
export const OFFICIAL_KEYS = ['status', 'statusChangedAt', 'statusMessage', 'publishedAt', 'updatedAt', 'isLatest'] as const;

export const STATUSES = ['active', 'deprecated', 'deleted'] as const;
export type Status = (typeof STATUSES)[number];

/** one version as a query result (UpstreamView.entry) */
export interface Entry {
  readonly name: string;
  readonly version: string;
  readonly status: Status;
  readonly isLatest: boolean;
  /** instant keys (time.ts); '' when the timestamp is missing */
  readonly publishedKey: string;
  readonly updatedKey: string;
  /** compact JSON of the ServerResponse */
  readonly bytes: Uint8Array;
}

export class EntryError extends Error {
  readonly server: string | undefined;
  constructor(message: string, server?: string) {
    super(message);
    this.name = 'EntryError';
    this.server = server;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const encoder = new TextEncoder();

/**
 * The bytes to serve for an element that cannot be served as it is (see entry-index.ts):
 * `{server, _meta}` only, the official block reduced to its documented keys, compact.
 */
export function sanitizedBytes(value: unknown): Uint8Array {
  if (!isObject(value) || !isObject(value.server) || !isObject(value._meta)) throw new EntryError('not a ServerResponse');
  const official = value._meta[OFFICIAL_META];
  const officialOut: Record<string, unknown> = {};
  if (isObject(official)) for (const k of OFFICIAL_KEYS) if (official[k] !== undefined) officialOut[k] = official[k];
  return encoder.encode(JSON.stringify({ server: value.server, _meta: { ...value._meta, [OFFICIAL_META]: officialOut } }));
}

/** (name, version) order of the snapshot: UTF-16 code unit comparison, name first. */
export function compareKeys(aName: string, aVersion: string, bName: string, bVersion: string): number {
  if (aName !== bName) return aName < bName ? -1 : 1;
  if (aVersion === bVersion) return 0;
  return aVersion < bVersion ? -1 : 1;
}
