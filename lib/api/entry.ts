import { instantKey } from './time.ts';

/**
 * One server version of a snapshot, as the query function holds it: the fields the
 * endpoints filter and sort on, and the bytes of its `{server, _meta}` ServerResponse.
 */

export const OFFICIAL_META = 'io.modelcontextprotocol.registry/official';

/** the only keys the official API allows in `_meta["io.modelcontextprotocol.registry/official"]` */
export const OFFICIAL_KEYS = ['status', 'statusChangedAt', 'statusMessage', 'publishedAt', 'updatedAt', 'isLatest'] as const;
const OFFICIAL_KEY_SET: ReadonlySet<string> = new Set(OFFICIAL_KEYS);

export const STATUSES = ['active', 'deprecated', 'deleted'] as const;
export type Status = (typeof STATUSES)[number];

export interface Entry {
  readonly name: string;
  readonly version: string;
  /** lower-cased name (search) */
  readonly lname: string;
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
 * Validates one parsed ServerResponse and builds its Entry. `raw` are the element's original
 * bytes; they are served as they are when compact and clean, otherwise the entry is
 * re-serialised (pretty-printed input, extra keys that the official API does not allow).
 */
export function toEntry(value: unknown, raw?: Uint8Array): Entry {
  if (!isObject(value)) throw new EntryError('not an object');
  const server = value.server;
  if (!isObject(server)) throw new EntryError('"server" is missing or not an object');
  const name = server.name;
  if (typeof name !== 'string' || name === '') throw new EntryError('"server.name" is missing or not a string');
  const version = server.version;
  if (typeof version !== 'string' || version === '') throw new EntryError('"server.version" is missing or not a string', name);
  const meta = value._meta;
  if (!isObject(meta)) throw new EntryError('"_meta" is missing or not an object', name);
  const official = meta[OFFICIAL_META];
  if (!isObject(official)) throw new EntryError(`"_meta.${OFFICIAL_META}" is missing or not an object`, name);
  const status = official.status;
  if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) {
    throw new EntryError(`"_meta.${OFFICIAL_META}.status" must be one of ${STATUSES.join(', ')}`, name);
  }
  if (typeof official.isLatest !== 'boolean') throw new EntryError(`"_meta.${OFFICIAL_META}.isLatest" must be a boolean`, name);
  const publishedKey = typeof official.publishedAt === 'string' ? (instantKey(official.publishedAt) ?? '') : '';
  const updatedKey = typeof official.updatedAt === 'string' ? (instantKey(official.updatedAt) ?? '') : '';

  let clean = true;
  for (const k in value) if (k !== 'server' && k !== '_meta') clean = false;
  for (const k in official) if (!OFFICIAL_KEY_SET.has(k)) clean = false;
  let bytes: Uint8Array;
  if (clean && raw && raw[1] === 0x22 && raw.indexOf(0x0a) < 0 && raw.indexOf(0x0d) < 0) {
    bytes = raw;
  } else {
    const officialOut: Record<string, unknown> = {};
    for (const k of OFFICIAL_KEYS) if (official[k] !== undefined) officialOut[k] = official[k];
    bytes = encoder.encode(JSON.stringify({ server, _meta: { ...meta, [OFFICIAL_META]: officialOut } }));
  }
  return {
    name,
    version,
    lname: name.toLowerCase(),
    status: status as Status,
    isLatest: official.isLatest,
    publishedKey,
    updatedKey,
    bytes,
  };
}

/** (name, version) order of the snapshot: UTF-16 code unit comparison, name first. */
export function compareKeys(aName: string, aVersion: string, bName: string, bVersion: string): number {
  if (aName !== bName) return aName < bName ? -1 : 1;
  if (aVersion === bVersion) return 0;
  return aVersion < bVersion ? -1 : 1;
}
