import { RegistryError, type ErrorWhere } from '../errors.ts';
import { describeValue } from './issues.ts';

export type RegistryFormat = 'toolhive' | 'upstream';

/**
 * The document shapes we read:
 * - `toolhive`: ToolHive's registry.json (`servers` / `remote_servers` maps)
 * - `list`: the registry API's list envelope (`{servers:[{server,_meta}], metadata}`)
 * - `file`: ToolHive's file envelope for upstream documents (`{version, meta, data:{servers}}`)
 * - `server`: a single server.json
 * - `response`: a single `{server, _meta}` (e.g. `GET …/versions/latest`)
 * - `array`: a bare JSON array of server.json documents or `{server,_meta}` entries (seed files)
 */
export type DocumentShape = 'toolhive' | 'list' | 'file' | 'server' | 'response' | 'array';

export function shapeFormat(shape: DocumentShape): RegistryFormat {
  return shape === 'toolhive' ? 'toolhive' : 'upstream';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function looksLikeServerJson(v: unknown): boolean {
  return isObject(v) && typeof v.name === 'string' && ('version' in v || 'packages' in v || 'remotes' in v || 'description' in v);
}

function looksLikeResponse(v: unknown): boolean {
  return isObject(v) && isObject(v.server);
}

/** The shape of a parsed document, or undefined when it is neither format. */
export function detectShape(doc: unknown): DocumentShape | undefined {
  if (Array.isArray(doc)) {
    if (doc.length === 0) return 'array';
    return looksLikeServerJson(doc[0]) || looksLikeResponse(doc[0]) ? 'array' : undefined;
  }
  if (!isObject(doc)) return undefined;
  if (Array.isArray(doc.servers)) return 'list';
  if (isObject(doc.servers) || isObject(doc.remote_servers)) return 'toolhive';
  if (isObject(doc.data) && Array.isArray(doc.data.servers)) return 'file';
  if (looksLikeResponse(doc)) return 'response';
  if (looksLikeServerJson(doc)) return 'server';
  return undefined;
}

/** `toolhive` or `upstream`; throws RegistryError('unknown_format') saying what it saw. */
export function detectFormat(doc: unknown, where: ErrorWhere = {}): RegistryFormat {
  const shape = detectShape(doc);
  if (shape === undefined) throw unknownFormat(doc, where);
  return shapeFormat(shape);
}

export function unknownFormat(doc: unknown, where: ErrorWhere = {}): RegistryError {
  return new RegistryError(
    'unknown_format',
    `neither a ToolHive registry (an object with a "servers" or "remote_servers" map) nor an upstream document (a "servers" array, a "data.servers" array, or a server.json with "name" and "version"); found ${describeDocument(doc)}`,
    { where },
  );
}

/** What a document is, in a few words: `an object with keys "a", "b"`, `an array of 3`, … */
export function describeDocument(doc: unknown): string {
  if (isObject(doc)) {
    const keys = Object.keys(doc);
    if (keys.length === 0) return 'an empty object';
    const shown = keys.slice(0, 8).map((k) => JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k));
    const parts = [`an object with keys ${shown.join(', ')}${keys.length > 8 ? ` and ${keys.length - 8} more` : ''}`];
    if ('servers' in doc) parts.push(`where "servers" is ${describeValue(doc.servers)}`);
    return parts.join(' ');
  }
  if (Array.isArray(doc)) {
    return doc.length === 0 ? 'an empty array' : `an array of ${doc.length} whose first item is ${describeDocument(doc[0])}`;
  }
  return describeValue(doc);
}
