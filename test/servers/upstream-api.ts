/**
 * A test server for the official MCP registry's read API (`GET /v0.1/servers`, `/v0/servers`),
 * built from a list of ServerResponse entries (`{server, _meta}`), behaving as
 * shared/reference/upstream-registry-api.md describes: keyset pagination with a `name:version`
 * cursor, `limit` 1..100 (else 422), `updated_since` strictly after (deleted rows included; an
 * explicit `include_deleted=false` with it is a 400), `include_deleted`, `version=latest` or
 * exact, `search` on the name. Switches serve only `/v0/`, inject 429/5xx, or make the peer
 * repeat a cursor. It also serves our own ToolHive-side `/api/v1/servers?format=upstream`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';

export const OFFICIAL = 'io.modelcontextprotocol.registry/official';

export interface OfficialMeta {
  status: 'active' | 'deprecated' | 'deleted';
  publishedAt: string;
  updatedAt: string;
  isLatest: boolean;
  statusChangedAt?: string;
}

export interface Entry {
  server: { name: string; version: string; [k: string]: unknown };
  _meta: { [OFFICIAL]: OfficialMeta; [k: string]: unknown };
}

export interface UpstreamApiOptions {
  entries?: Entry[];
  /** which API prefixes exist (default both) */
  prefixes?: Array<'v0' | 'v0.1'>;
  /** require this bearer token */
  token?: string;
  /** serve `/api/v1/servers?format=upstream` (our own ToolHive-side API) */
  toolhiveApi?: boolean;
  /**
   * The entries never change after start (benchmarks): each is serialised once, and pages are
   * put together from those texts, so that the client, not this server, is what a walk measures.
   */
  frozen?: boolean;
}

export interface Injection {
  status: number;
  /** how many list requests get it */
  count: number;
  retryAfter?: string;
}

export interface RecordedApiRequest {
  path: string;
  params: Record<string, string>;
  status: number;
  time: number;
}

export interface TestUpstreamApi {
  url: string;
  port: number;
  entries: Entry[];
  requests: RecordedApiRequest[];
  /** replace or add entries by (name, version) */
  upsert(...entries: Entry[]): void;
  inject(i: Injection): void;
  /** every page answers with this nextCursor (a broken peer) */
  repeatCursor(cursor: string | undefined): void;
  setPrefixes(p: Array<'v0' | 'v0.1'>): void;
  close(): Promise<void>;
}

/** RFC 3339 → comparable [epoch seconds, nanoseconds] (fractions of any precision) */
function timeKey(t: string): [number, number] {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(t);
  if (!m) return [Number.NaN, 0];
  const secs = Date.parse(`${m[1]}${m[3]}`) / 1000;
  return [secs, Number((m[2] ?? '').padEnd(9, '0').slice(0, 9))];
}

function after(a: string, b: string): boolean {
  const [as, an] = timeKey(a);
  const [bs, bn] = timeKey(b);
  return as > bs || (as === bs && an > bn);
}

function problem(res: http.ServerResponse, status: number, detail: string, extra: Record<string, string> = {}) {
  const titles: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 422: 'Unprocessable Entity', 429: 'Too Many Requests' };
  res.writeHead(status, { 'content-type': 'application/problem+json', ...extra });
  res.end(JSON.stringify({ title: titles[status] ?? 'Error', status, detail }));
}

const byKey = (a: Entry, b: Entry) =>
  a.server.name < b.server.name ? -1 : a.server.name > b.server.name ? 1 : a.server.version < b.server.version ? -1 : a.server.version > b.server.version ? 1 : 0;

export async function startUpstreamApi(options: UpstreamApiOptions = {}): Promise<TestUpstreamApi> {
  const entries: Entry[] = [...(options.entries ?? [])];
  const requests: RecordedApiRequest[] = [];
  let prefixes = options.prefixes ?? ['v0', 'v0.1'];
  let injection: Injection | undefined;
  let repeated: string | undefined;
  // the rows sorted by (name, version), re-sorted only when `entries` (which tests may edit in
  // place) no longer holds the same rows: sorting 10k rows for each page made the server, not
  // the client, the slow side of a benchmark walk
  let sortedCache: { keys: string[]; rows: Entry[]; sorted: Entry[] } | undefined;
  const entryJson = options.frozen ? new Map(entries.map((e) => [e, JSON.stringify(e)] as const)) : undefined;
  function sortedEntries(): Entry[] {
    const c = sortedCache;
    if (c && options.frozen) return c.sorted;
    if (c && c.rows.length === entries.length && entries.every((e, i) => e === c.rows[i] && c.keys[i] === `${e.server.name}\u0000${e.server.version}`)) return c.sorted;
    sortedCache = { keys: entries.map((e) => `${e.server.name}\u0000${e.server.version}`), rows: entries.slice(), sorted: entries.slice().sort(byKey) };
    return sortedCache.sorted;
  }

  function list(res: http.ServerResponse, params: URLSearchParams, record: RecordedApiRequest) {
    const limitText = params.get('limit') ?? '30';
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 100) {
      record.status = 422;
      return problem(res, 422, 'validation failed: limit must be between 1 and 100');
    }
    const limit = Number(limitText);
    const updatedSince = params.get('updated_since');
    const includeDeletedText = params.get('include_deleted');
    if (includeDeletedText !== null && includeDeletedText !== 'true' && includeDeletedText !== 'false') {
      record.status = 422;
      return problem(res, 422, 'validation failed: include_deleted must be a boolean');
    }
    if (updatedSince !== null) {
      if (Number.isNaN(timeKey(updatedSince)[0])) {
        record.status = 400;
        return problem(res, 400, 'Invalid updated_since format: expected RFC3339 timestamp (e.g., 2025-08-07T13:15:04.280Z)');
      }
      if (includeDeletedText === 'false') {
        record.status = 400;
        return problem(res, 400, 'Cannot set include_deleted=false when using updated_since (incremental sync requires deleted servers)');
      }
    }
    const includeDeleted = includeDeletedText === 'true' || (updatedSince !== null && includeDeletedText === null);
    const version = params.get('version');
    const search = params.get('search')?.toLowerCase();
    const sorted = sortedEntries();
    const cursor = params.get('cursor');
    let start = 0;
    if (cursor) {
      const i = cursor.indexOf(':');
      const cName = i === -1 ? cursor : cursor.slice(0, i);
      const cVersion = i === -1 ? undefined : cursor.slice(i + 1);
      // rows strictly after the cursor: a suffix of the sorted rows
      const afterCursor = (e: Entry) => e.server.name > cName || (cVersion !== undefined && e.server.name === cName && e.server.version > cVersion);
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (afterCursor(sorted[mid]!)) hi = mid;
        else lo = mid + 1;
      }
      start = lo;
    }
    const matches = (e: Entry) => {
      const o = e._meta[OFFICIAL];
      if (!includeDeleted && o.status === 'deleted') return false;
      if (updatedSince !== null && !after(o.updatedAt, updatedSince)) return false;
      if (version === 'latest' && !o.isLatest) return false;
      if (version !== null && version !== 'latest' && e.server.version !== version) return false;
      if (search && !e.server.name.toLowerCase().includes(search)) return false;
      return true;
    };
    const page: Entry[] = [];
    for (let k = start; k < sorted.length && page.length < limit; k++) {
      if (matches(sorted[k]!)) page.push(sorted[k]!);
    }
    const last = page.at(-1);
    const metadata: Record<string, unknown> = { count: page.length };
    if (repeated !== undefined) metadata.nextCursor = repeated;
    else if (page.length === limit && last) metadata.nextCursor = `${last.server.name}:${last.server.version}`;
    record.status = 200;
    res.writeHead(200, { 'content-type': 'application/json' });
    // the same text as JSON.stringify({ servers: page, metadata })
    res.end(entryJson ? `{"servers":[${page.map((e) => entryJson.get(e)).join(',')}],"metadata":${JSON.stringify(metadata)}}` : JSON.stringify({ servers: page, metadata }));
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const record: RecordedApiRequest = { path: url.pathname, params: Object.fromEntries(url.searchParams), status: 0, time: Date.now() };
    requests.push(record);
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      record.status = 401;
      return problem(res, 401, 'missing or invalid token');
    }
    const m = /^\/(v0|v0\.1)\/servers$/.exec(url.pathname);
    const isToolhive = options.toolhiveApi && url.pathname === '/api/v1/servers';
    if ((m && prefixes.includes(m[1] as 'v0' | 'v0.1')) || isToolhive) {
      if (injection && injection.count > 0) {
        injection.count--;
        record.status = injection.status;
        return problem(res, injection.status, 'injected failure', injection.retryAfter ? { 'retry-after': injection.retryAfter } : {});
      }
      if (isToolhive && url.searchParams.get('format') !== 'upstream') {
        record.status = 406;
        return problem(res, 406, 'this test server only answers format=upstream');
      }
      return list(res, url.searchParams, record);
    }
    record.status = 404;
    problem(res, 404, `Endpoint not found. Did you mean '/v0.1${url.pathname}'?`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    entries,
    requests,
    upsert(...more) {
      if (options.frozen) throw new Error('upsert on a frozen upstream API');
      for (const e of more) {
        const i = entries.findIndex((x) => x.server.name === e.server.name && x.server.version === e.server.version);
        if (i === -1) entries.push(e);
        else entries[i] = e;
      }
    },
    inject(i) {
      injection = { ...i };
    },
    repeatCursor(c) {
      repeated = c;
    },
    setPrefixes(p) {
      prefixes = p;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Entries from the real fixtures, and generated ones

const FIXTURES = ['thv-registry-server-upstream-registry.json', 'toolhive-example-upstream-with-remotes.json'];

function fixtureServers(): Array<Entry['server']> {
  return FIXTURES.flatMap((f) => {
    const doc = JSON.parse(readFileSync(new URL(`../../../shared/fixtures/real/${f}`, import.meta.url), 'utf8')) as { data: { servers: Array<Entry['server']> } };
    return doc.data.servers;
  });
}

export function entry(server: Entry['server'], meta: Partial<OfficialMeta> & { publishedAt: string }): Entry {
  return {
    server,
    _meta: {
      [OFFICIAL]: {
        status: meta.status ?? 'active',
        publishedAt: meta.publishedAt,
        updatedAt: meta.updatedAt ?? meta.publishedAt,
        isLatest: meta.isLatest ?? true,
        ...(meta.statusChangedAt ? { statusChangedAt: meta.statusChangedAt } : {}),
      },
    },
  };
}

/** The 14 real upstream servers of the fixtures, each one version, published a minute apart. */
export function entriesFromFixtures(start = Date.UTC(2026, 0, 1)): Entry[] {
  return fixtureServers().map((s, i) => entry(s, { publishedAt: new Date(start + i * 60_000).toISOString() }));
}

/**
 * `servers × versions` entries shaped like the real fixtures (each a copy of one of them with
 * a generated name), versions `1.0.0 … 1.0.(v-1)`, the last one latest; timestamps increase
 * with microsecond precision, as the official registry's do.
 */
export function generateEntries(servers: number, versions = 1, start = Date.UTC(2026, 1, 1)): Entry[] {
  const shapes = fixtureServers();
  const out: Entry[] = [];
  let tick = 0;
  for (let s = 0; s < servers; s++) {
    const shape = shapes[s % shapes.length]!;
    const name = `io.github.gen/server-${String(s).padStart(6, '0')}`;
    for (let v = 0; v < versions; v++) {
      const t = start + tick++ * 1000;
      const micros = String(tick % 1_000_000).padStart(6, '0');
      const iso = new Date(t).toISOString().replace(/\.\d{3}Z$/, `.${micros}Z`);
      out.push(entry({ ...shape, name, version: `1.0.${v}` }, { publishedAt: iso, isLatest: v === versions - 1 }));
    }
  }
  return out;
}
