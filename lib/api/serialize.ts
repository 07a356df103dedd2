import type { Entry } from './entry.ts';

/**
 * Response bodies of the upstream endpoints, assembled from the entries' own bytes (no
 * re-serialisation of server documents). Key order follows the official API:
 * `{"servers":[…],"metadata":{"nextCursor":…,"count":N}}`.
 */

const OPEN = Buffer.from('{"servers":[');
const COMMA = Buffer.from(',');

export function listBody(items: readonly Entry[], nextCursor?: string): Buffer {
  const parts: Uint8Array[] = [OPEN];
  for (let i = 0; i < items.length; i++) {
    if (i > 0) parts.push(COMMA);
    parts.push(items[i]!.bytes);
  }
  const metadata = nextCursor === undefined ? `{"count":${items.length}}` : `{"nextCursor":${JSON.stringify(nextCursor)},"count":${items.length}}`;
  parts.push(Buffer.from(`],"metadata":${metadata}}`));
  return Buffer.concat(parts);
}

export function entryBody(entry: Entry): Buffer {
  return Buffer.from(entry.bytes.buffer, entry.bytes.byteOffset, entry.bytes.byteLength);
}

export function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
