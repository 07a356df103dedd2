import { stat, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatCursor, parseIncludeDeleted, parseListParams, type ListParams } from '../api/params.ts';
import { instantKey } from '../api/time.ts';
import { OFFICIAL_META_KEY } from '../formats/upstream-schema.ts';
import { silentLogger, type Logger } from '../log.ts';
import { closeNow, listen } from './listen.ts';

/**
 * Local mode's registry-API example: the read endpoints of the official MCP registry API
 * (`/v0.1/servers` and `/v0/servers` with cursor, limit, search, updated_since, version and
 * include_deleted; `/servers/{name}/versions[/{version}]`; ping and health) over a JSON file
 * of `{servers: [{server, _meta}]}`, read again whenever the file changes. Small on purpose:
 * a stand-in for https://registry.modelcontextprotocol.io on a laptop.
 */

export interface ApiEntry {
  server: { name: string; version: string; [key: string]: unknown };
  _meta: { [OFFICIAL_META_KEY]: { status: string; updatedAt: string; isLatest: boolean; publishedAt?: string; [key: string]: unknown }; [key: string]: unknown };
}

interface Loaded {
  entries: ApiEntry[];
  /** instant keys of updatedAt, by index */
  updated: string[];
}

function official(e: ApiEntry) {
  return e._meta[OFFICIAL_META_KEY];
}

function isEntry(value: unknown): value is ApiEntry {
  const e = value as ApiEntry | null;
  if (!e || typeof e !== 'object' || !e.server || typeof e.server.name !== 'string' || typeof e.server.version !== 'string') return false;
  const o = e._meta?.[OFFICIAL_META_KEY];
  return !!o && typeof o.status === 'string' && typeof o.updatedAt === 'string' && instantKey(o.updatedAt) !== null && typeof o.isLatest === 'boolean';
}

/** Entries sorted by (name, version), UTF-16 code units, as the official registry pages them. */
export function prepareEntries(values: unknown[]): { loaded: Loaded; skipped: number } {
  const entries = values.filter(isEntry);
  entries.sort((a, b) => (a.server.name < b.server.name ? -1 : a.server.name > b.server.name ? 1 : a.server.version < b.server.version ? -1 : a.server.version > b.server.version ? 1 : 0));
  return { loaded: { entries, updated: entries.map((e) => instantKey(official(e).updatedAt)!) }, skipped: values.length - entries.length };
}

/** One page of `GET /v0.1/servers`. */
export function listPage(data: Loaded, p: ListParams): { servers: ApiEntry[]; metadata: { count: number; nextCursor?: string } } {
  const out: ApiEntry[] = [];
  let nextCursor: string | undefined;
  for (let i = 0; i < data.entries.length; i++) {
    const e = data.entries[i]!;
    const { name, version } = e.server;
    if (p.cursor && (p.cursor.version === undefined ? !(name > p.cursor.name) : !(name > p.cursor.name || (name === p.cursor.name && version > p.cursor.version)))) continue;
    const o = official(e);
    if (!p.includeDeleted && o.status === 'deleted') continue;
    if (p.version !== undefined && (p.version === 'latest' ? !o.isLatest : version !== p.version)) continue;
    if (p.updatedSince !== undefined && !(data.updated[i]! > p.updatedSince)) continue;
    if (p.search !== undefined && !name.toLowerCase().includes(p.search)) continue;
    out.push(e);
    if (out.length === p.limit) {
      nextCursor = formatCursor(name, version);
      break;
    }
  }
  return { servers: out, metadata: { count: out.length, ...(nextCursor ? { nextCursor } : {}) } };
}

export interface RegistryApiServer {
  url: string;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'access-control-allow-origin': '*' });
  res.end(text);
}

function problem(res: http.ServerResponse, status: number, detail: string, extra: Record<string, unknown> = {}): void {
  const titles: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 422: 'Unprocessable Entity', 500: 'Internal Server Error' };
  send(res, status, { title: titles[status] ?? 'Error', status, detail, ...extra }, 'application/problem+json');
}

export async function startRegistryApiServer(options: { file: string; host?: string; port?: number; log?: Logger }): Promise<RegistryApiServer> {
  const log = options.log ?? silentLogger;
  let cache: { mtimeMs: number; size: number; data: Loaded } | undefined;

  async function load(): Promise<Loaded> {
    const info = await stat(options.file);
    if (cache && cache.mtimeMs === info.mtimeMs && cache.size === info.size) return cache.data;
    const doc = JSON.parse(await readFile(options.file, 'utf8')) as { servers?: unknown };
    if (!Array.isArray(doc.servers)) throw new Error('expected {"servers": [...]}');
    const { loaded, skipped } = prepareEntries(doc.servers);
    if (skipped > 0) log.warn('registry API example: entries without server.name, server.version or official metadata skipped', { file: options.file, skipped });
    cache = { mtimeMs: info.mtimeMs, size: info.size, data: loaded };
    return loaded;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const m = /^\/(v0|v0\.1)(\/.*)$/.exec(url.pathname);
    if (!m) return problem(res, 404, `Endpoint not found. Did you mean '/v0.1${url.pathname}' or '/v0${url.pathname}'?`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 405, 'this example registry is read-only');
    const rest = m[2]!;
    if (rest === '/ping') return send(res, 200, { pong: true });
    if (rest === '/health') return send(res, 200, { status: 'ok' });
    let data: Loaded;
    try {
      data = await load();
    } catch (e) {
      log.warn('registry API example: data file unreadable', { file: options.file, error: (e as Error).message });
      return problem(res, 500, `the example data file cannot be read: ${(e as Error).message}`);
    }
    if (rest === '/servers') {
      const params = parseListParams(url.searchParams);
      if (!params.ok) return send(res, params.problem.status, params.problem, 'application/problem+json');
      return send(res, 200, listPage(data, params.value));
    }
    const v = /^\/servers\/([^/]+)\/versions(?:\/([^/]+))?$/.exec(rest);
    if (!v) return problem(res, 404, 'Endpoint not found');
    let name: string;
    let version: string | undefined;
    try {
      name = decodeURIComponent(v[1]!);
      version = v[2] === undefined ? undefined : decodeURIComponent(v[2]);
    } catch {
      return problem(res, 400, 'Invalid server name encoding');
    }
    const includeDeleted = parseIncludeDeleted(url.searchParams);
    if (!includeDeleted.ok) return send(res, includeDeleted.problem.status, includeDeleted.problem, 'application/problem+json');
    const rows = data.entries.filter((e) => e.server.name === name && (includeDeleted.value || official(e).status !== 'deleted'));
    if (version === undefined) {
      if (rows.length === 0) return problem(res, 404, 'Server not found');
      const newest = rows.slice().sort((a, b) => String(official(b).publishedAt ?? '').localeCompare(String(official(a).publishedAt ?? '')));
      return send(res, 200, { servers: newest, metadata: { count: newest.length } });
    }
    const row = version === 'latest' ? rows.find((e) => official(e).isLatest) : rows.find((e) => e.server.version === version);
    return row ? send(res, 200, row) : problem(res, 404, 'Server not found');
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log.error('registry API example: request failed', { error: e instanceof Error ? e.message : String(e) });
      if (!res.headersSent) problem(res, 500, 'internal error');
      else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await listen(server, options.port ?? 0, host, 'registry API example server');
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    async close() {
      await closeNow(server);
    },
  };
}
