/**
 * HTTP plumbing of the control plane: which API request a URL is (kube-apiserver's request
 * info rules), bounded body reading, JSON/YAML decoding with depth and key guards, content
 * negotiation (JSON, Table, PartialObjectMetadata, aggregated discovery, YAML) and Status replies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { apiError, ApiError, isApiError } from './status.ts';

export interface RequestInfo {
  resourceRequest: boolean;
  path: string;
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection; or the lower-case method */
  verb: string;
  apiPrefix?: 'api' | 'apis';
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function requestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const parts = path.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  const plain: RequestInfo = { resourceRequest: false, path, verb: method.toLowerCase(), group: '', version: '', resource: '' };
  let rest: string[];
  let group = '';
  let version: string;
  let apiPrefix: 'api' | 'apis';
  if (parts[0] === 'api' && parts.length >= 3) {
    apiPrefix = 'api';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    apiPrefix = 'apis';
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return plain;
  }
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
  }
  const [resource = '', name, subresource, ...extra] = rest;
  if (extra.length > 0) return { ...plain, resourceRequest: true, apiPrefix, group, version, resource: '', verb: 'unknown' };
  const watchParam = url.searchParams.get('watch');
  const isWatch = watchPath || watchParam === '1' || watchParam === 'true';
  let verb: string;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = isWatch ? 'watch' : name !== undefined ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name !== undefined ? 'delete' : 'deletecollection';
      break;
    default:
      verb = method.toLowerCase();
  }
  // a namespace's own requests carry it as their namespace (for RBAC), as kube-apiserver does
  if (resource === 'namespaces' && namespace === undefined && name !== undefined) namespace = name;
  return {
    resourceRequest: true,
    path,
    verb,
    apiPrefix,
    group,
    version,
    ...(namespace !== undefined ? { namespace } : {}),
    resource,
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}

export interface MediaType {
  type: string;
  params: Record<string, string>;
  q: number;
}

export function parseMediaTypes(header: string | undefined): MediaType[] {
  if (!header) return [{ type: '*/*', params: {}, q: 1 }];
  const out: MediaType[] = [];
  for (const part of header.split(',')) {
    const [type, ...rawParams] = part.split(';').map((s) => s.trim());
    if (!type) continue;
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
      if (k === 'q') q = Number(v);
      else params[k] = v;
    }
    out.push({ type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 });
  }
  return out.filter((m) => m.q > 0).sort((a, b) => b.q - a.q);
}

export type Representation =
  | { kind: 'json' }
  | { kind: 'yaml' }
  | { kind: 'table'; version: 'v1' | 'v1beta1' }
  | { kind: 'metadata'; version: 'v1' | 'v1beta1'; list: boolean }
  | { kind: 'discovery'; version: 'v2' | 'v2beta1' };

/** The first representation in the client's Accept list that this server can produce. */
export function negotiate(header: string | undefined, allow: { table?: boolean; discovery?: boolean; metadata?: boolean }): Representation {
  for (const m of parseMediaTypes(header)) {
    const jsonish = m.type === 'application/json' || m.type === '*/*' || m.type === 'application/*';
    if (m.type === 'application/yaml' && !m.params.as) return { kind: 'yaml' };
    if (!jsonish) continue;
    const as = m.params.as;
    if (!as) return { kind: 'json' };
    if (as === 'Table' && allow.table && m.params.g === 'meta.k8s.io' && (m.params.v === 'v1' || m.params.v === 'v1beta1')) return { kind: 'table', version: m.params.v };
    if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && allow.metadata && m.params.g === 'meta.k8s.io' && (m.params.v === 'v1' || m.params.v === 'v1beta1'))
      return { kind: 'metadata', version: m.params.v, list: as.endsWith('List') };
    if (as === 'APIGroupDiscoveryList' && allow.discovery && m.params.g === 'apidiscovery.k8s.io' && (m.params.v === 'v2' || m.params.v === 'v2beta1'))
      return { kind: 'discovery', version: m.params.v };
  }
  throw apiError.notAcceptable(header ?? '');
}

export const MAX_BODY_BYTES = 3 * 1024 * 1024;
const MAX_DEPTH = 1000;

/** How much of a rejected upload is read and thrown away so that the client sees the 413, not a reset. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/** Reads and discards the rest of a request body; a client that sends more than DRAIN_LIMIT is cut off. */
export function drain(req: IncomingMessage): void {
  let drained = 0;
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_LIMIT) req.destroy();
  });
  req.on('error', () => {});
  req.resume();
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    drain(req);
    return Promise.reject(apiError.tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        chunks.length = 0;
        drain(req);
        reject(apiError.tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

export function utf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw apiError.badRequest('the request body is not valid UTF-8');
  }
}

/** Rejects documents nested deeper than MAX_DEPTH and keys that would reach object prototypes. */
function checkDocument(value: unknown): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_DEPTH) throw apiError.badRequest(`the request body is nested deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(v)) {
      for (const x of v) stack.push([x, depth + 1]);
    } else {
      for (const [k, x] of Object.entries(v)) {
        if (k === '__proto__') throw apiError.badRequest('the field name "__proto__" is not allowed');
        stack.push([x, depth + 1]);
      }
    }
  }
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw apiError.badRequest('the request body is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw apiError.badRequest(`the request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  checkDocument(value);
  return value;
}

export function parseYamlBody(text: string): unknown {
  if (text.trim() === '') throw apiError.badRequest('the request body is empty');
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    throw apiError.badRequest(`the request body is not valid YAML: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
  checkDocument(value);
  return value;
}

export type BodyFormat = 'json' | 'yaml' | 'protobuf';

/** Content types accepted for create and update bodies. */
export function bodyFormat(contentType: string | undefined): BodyFormat {
  const type = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type === '') return 'json';
  if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml') return 'yaml';
  if (type === 'application/vnd.kubernetes.protobuf') return 'protobuf';
  throw apiError.unsupportedMediaType(
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got ${JSON.stringify(type)})`,
  );
}

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json', warnings: readonly string[] = []): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = contentType === 'application/yaml' ? stringifyYaml(body) : JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-cache, private',
  };
  if (warnings.length) headers.Warning = [...new Set(warnings)].map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

export function sendError(res: ServerResponse, e: unknown): ApiError {
  const err = isApiError(e) ? e : apiError.internal(e instanceof Error ? e.message : String(e));
  sendJson(res, err.code, err.toStatus());
  return err;
}
