/**
 * The registry source: another registry's REST API.
 *
 * Which API the URL points at:
 * - `…/api/v1` (optionally `…/api/v1/registries/{ns}/{name}`): our own ToolHive-side API;
 *   `GET {…/api/v1}/servers?format=upstream[&registry=ns/name]`, cursor-walked like the
 *   official list when it answers with `metadata.nextCursor`. Always a full fetch.
 * - `…/v0.1` or `…/v0` (with or without a trailing `/servers`): the official MCP registry
 *   API at exactly that version.
 * - anything else is the base of an official-API registry: `{url}/v0.1/servers`, falling back
 *   to `{url}/v0/servers` when v0.1 answers 404 (the answer is remembered in the state). Our
 *   own per-registry endpoint `…/registries/{ns}/{name}` is such a base.
 *
 * The walk: `limit=100`, follow `metadata.nextCursor` until it is absent; hard caps on pages
 * and entries (MCPREG_REGISTRY_MAX_PAGES / _MAX_ENTRIES); a peer that repeats a cursor is an
 * error, never an endless loop; duplicate (name, version) rows keep the last one.
 *
 * Incremental sync (official API): the first sync walks everything (`include_deleted=true`, so
 * the snapshot mirrors deletions) and keeps a watermark = the greatest `updatedAt` received,
 * exactly as the server wrote it. Later syncs ask only `updated_since=<watermark>` (strictly
 * after; deleted rows included) and return `mode: 'incremental'`; the pipeline merges with
 * `mergeIncremental`. Every `fullSyncEvery` incremental syncs, the next one is a full walk
 * that heals drift. A delta with no rows answers "unchanged" (with the advanced counter).
 *
 * Revision: sha256 of (endpoint, watermark, mode, entry count) — see README.md.
 */
import diagnostics from 'node:diagnostics_channel';
import { RegistryError, type ErrorWhere } from '../errors.ts';
import type { RegistryApiSource as RegistrySpec } from '../kube/mcpregistry-spec.ts';
import { httpGet, resolveAuth, safeUrl, sha256Hex, withHttpSession, type HttpSession, type ResolvedAuth } from './http-fetch.ts';
import { jsonParseMessage } from '../formats/json-text.ts';
import { CursorGuard, MAX_CURSOR_LENGTH } from './cursor-guard.ts';
import { entryKey, maxUpdatedAt } from './merge.ts';
import { resolvePolicy, type ResolvedPolicy } from './policy.ts';
import type { FetchResult, Source, SourceContext } from './types.ts';

export type ApiFlavour = 'v0.1' | 'v0' | 'toolhive';

export interface RegistryState {
  /** the API base the state belongs to (scheme, host, path); a different one forces a full walk */
  endpoint: string;
  api: ApiFlavour;
  mode: 'full' | 'incremental';
  /** greatest `updatedAt` received so far, verbatim */
  watermark?: string;
  /** incremental syncs since the last full walk */
  incrementalCount: number;
}

export interface Endpoint {
  base: URL;
  /** fixed by the URL, or undefined to probe v0.1 then v0 */
  api?: ApiFlavour;
  /** for `/api/v1/registries/{ns}/{name}` */
  registry?: string;
}

/** Reads what the URL points at (see the module comment). */
export function parseEndpoint(text: string, where: ErrorWhere): Endpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RegistryError('invalid_argument', 'the registry URL is not a valid absolute URL', { where });
  }
  url.hash = '';
  url.search = '';
  const p = url.pathname.replace(/\/+$/, '');
  const at = (path: string) => new URL(path || '/', url);
  const th = /^(.*\/api\/v1)(?:\/registries\/([^/]+)\/([^/]+))?(?:\/servers)?$/.exec(p);
  if (th) {
    const ep: Endpoint = { base: at(th[1]!), api: 'toolhive' };
    if (th[2] && th[3]) ep.registry = `${decodeURIComponent(th[2])}/${decodeURIComponent(th[3])}`;
    return ep;
  }
  const up = /^(.*)\/(v0\.1|v0)(?:\/servers)?$/.exec(p);
  if (up) return { base: at(up[1]!), api: up[2] as ApiFlavour };
  return { base: at(p) };
}

function readState(state: unknown): RegistryState | undefined {
  if (!state || typeof state !== 'object') return undefined;
  const s = state as Record<string, unknown>;
  if (typeof s.endpoint !== 'string' || (s.api !== 'v0.1' && s.api !== 'v0' && s.api !== 'toolhive')) return undefined;
  return {
    endpoint: s.endpoint,
    api: s.api,
    mode: s.mode === 'incremental' ? 'incremental' : 'full',
    ...(typeof s.watermark === 'string' ? { watermark: s.watermark } : {}),
    incrementalCount: typeof s.incrementalCount === 'number' && s.incrementalCount >= 0 ? s.incrementalCount : 0,
  };
}

/** A 404 on the first page of a walk: the API version is absent (the caller may try another). */
class FirstPageNotFound extends RegistryError {}

function listUrl(base: URL, api: ApiFlavour): URL {
  const prefix = base.pathname.replace(/\/+$/, '');
  const u = new URL(base);
  u.pathname = api === 'toolhive' ? `${prefix}/servers` : `${prefix}/${api}/servers`;
  return u;
}

interface WalkResult {
  entries: unknown[];
  pages: number;
  /** bytes of all pages */
  bytes: number;
  duplicates: number;
  /** set when the peer answered with a ToolHive registry document instead of a list */
  document?: Uint8Array;
}

export class RegistrySource implements Source {
  readonly type = 'registry' as const;
  readonly spec: RegistrySpec;

  constructor(spec: RegistrySpec) {
    this.spec = spec;
  }

  async fetch(context: SourceContext): Promise<FetchResult> {
    const where: ErrorWhere = { source: 'registry' };
    const endpoint = parseEndpoint(this.spec.url, where);
    where.url = safeUrl(endpoint.base);
    const endpointId = safeUrl(endpoint.base) + (endpoint.registry ? `#${endpoint.registry}` : '');
    const policy = resolvePolicy(context.policy);
    const auth = await resolveAuth(this.spec.authSecret, context.secrets, where);
    const fullSyncEvery = this.spec.fullSyncEvery ?? 10;
    const prev = readState(context.previous?.state);
    const sameEndpoint = prev !== undefined && prev.endpoint === endpointId && (endpoint.api === undefined || endpoint.api === prev.api);

    return withHttpSession(policy, 'registry', context.logger, async (session) => {
      let api: ApiFlavour | undefined = endpoint.api ?? (sameEndpoint ? prev!.api : undefined);
      const incremental =
        !context.force && sameEndpoint && api !== 'toolhive' && prev!.watermark !== undefined && prev!.incrementalCount < fullSyncEvery;

      if (incremental) {
        const walk = await this.walk(session, policy, auth, endpoint, api!, { updatedSince: prev!.watermark! }, context.signal, where).catch(async (e: unknown) => {
          // a peer without updated_since support: fall back to a full walk
          if (e instanceof RegistryError && e.code === 'invalid_argument') {
            context.logger?.warn('the registry rejected updated_since; doing a full walk', { host: endpoint.base.host, reason: e.message });
            return undefined;
          }
          throw e;
        });
        if (walk) {
          const watermark = maxUpdatedAt(walk.entries, prev!.watermark)!;
          const state: RegistryState = { endpoint: endpointId, api: api!, mode: 'incremental', watermark, incrementalCount: prev!.incrementalCount + 1 };
          if (walk.entries.length === 0 && context.previous?.revision !== undefined) {
            return { kind: 'unchanged', revision: context.previous.revision, state };
          }
          return { kind: 'entries', mode: 'incremental', entries: walk.entries, revision: revisionOf(state, walk.entries.length), state, bytes: walk.bytes };
        }
      }

      let walk: WalkResult;
      if (api === undefined) {
        try {
          walk = await this.walk(session, policy, auth, endpoint, 'v0.1', {}, context.signal, where);
          api = 'v0.1';
        } catch (e) {
          if (!(e instanceof FirstPageNotFound)) throw e;
          context.logger?.info('no /v0.1/servers; trying /v0/servers', { host: endpoint.base.host });
          try {
            walk = await this.walk(session, policy, auth, endpoint, 'v0', {}, context.signal, where);
          } catch (e2) {
            if (e2 instanceof FirstPageNotFound) {
              throw new RegistryError('source_not_found', `neither ${safeUrl(listUrl(endpoint.base, 'v0.1'))} nor ${safeUrl(listUrl(endpoint.base, 'v0'))} exists (HTTP 404)`, { where });
            }
            throw e2;
          }
          api = 'v0';
        }
      } else {
        walk = await this.walk(session, policy, auth, endpoint, api, {}, context.signal, where);
      }
      const watermark = api === 'toolhive' ? undefined : maxUpdatedAt(walk.entries);
      const state: RegistryState = { endpoint: endpointId, api, mode: 'full', ...(watermark ? { watermark } : {}), incrementalCount: 0 };
      if (walk.document) {
        const revision = `sha256:${sha256Hex(walk.document)}`;
        if (!context.force && revision === context.previous?.revision) return { kind: 'unchanged', revision, state };
        return { kind: 'document', revision, bytes: walk.document, file: 'servers.json', state };
      }
      const revision = api === 'toolhive' ? `sha256:${sha256Hex(JSON.stringify(walk.entries))}` : revisionOf(state, walk.entries.length);
      if (api === 'toolhive' && !context.force && revision === context.previous?.revision) return { kind: 'unchanged', revision, state };
      return { kind: 'entries', mode: 'full', entries: walk.entries, revision, state, bytes: walk.bytes };
    });
  }

  /**
   * Walks every page of one list query. A 404 on the first page is a FirstPageNotFound.
   *
   * Pages stay sequential (one request in flight), but parsing overlaps the next request: the
   * next cursor is read from the tail of the raw page (`peekNextCursor`; the metadata comes
   * last in the lists we know), its request starts, and the page is parsed meanwhile. The
   * parsed page decides: when its cursor is not the one guessed (or the page is bad), the
   * early request is aborted and forgotten, so order, limits and errors are those of a plain
   * sequential walk.
   */
  private async walk(
    session: HttpSession,
    policy: ResolvedPolicy,
    auth: ResolvedAuth,
    endpoint: Endpoint,
    api: ApiFlavour,
    query: { updatedSince?: string },
    signal: AbortSignal,
    where: ErrorWhere,
  ): Promise<WalkResult> {
    const seenCursors = new CursorGuard();
    const rows = new Map<string, unknown>();
    const unkeyed: unknown[] = [];
    let duplicates = 0;
    let bytes = 0;
    let cursor: string | undefined;
    const pageUrl = (next: string | undefined): URL => {
      const url = listUrl(endpoint.base, api);
      url.searchParams.set('limit', '100');
      if (api === 'toolhive') {
        url.searchParams.set('format', 'upstream');
        if (endpoint.registry) url.searchParams.set('registry', endpoint.registry);
      }
      if (query.updatedSince !== undefined) url.searchParams.set('updated_since', query.updatedSince);
      else if (api !== 'toolhive') url.searchParams.set('include_deleted', 'true');
      if (next !== undefined) url.searchParams.set('cursor', next);
      return url;
    };
    /** one page's request; `before` is the bytes of the pages before it (the byte limit holds for all pages together) */
    const request = async (url: URL, page: number, before: number, pageSignal: AbortSignal) => {
      try {
        return await httpGet(session, { url, ...(this.spec.headers ? { headers: this.spec.headers } : {}), auth, allowHttp: this.spec.allowHttp ?? false, accept: 'application/json', maxBytes: policy.maxBytes - before, signal: pageSignal });
      } catch (e) {
        if (e instanceof RegistryError && e.code === 'source_not_found' && page === 1) {
          throw new FirstPageNotFound('source_not_found', e.message, { where: e.where });
        }
        if (e instanceof RegistryError && e.code === 'too_large' && page > 1) {
          throw new RegistryError('too_large', `page ${page} took the walk past ${policy.maxBytes} bytes for all pages together (MCPREG_FETCH_MAX_BYTES; ${before} bytes in pages 1–${page - 1})`, {
            where: { ...where, url: safeUrl(url), path: `page ${page}` },
          });
        }
        throw e;
      }
    };
    type Settled = { ok: true; res: Awaited<ReturnType<typeof request>> } | { ok: false; error: unknown };
    let ahead: { cursor: string; abort: AbortController; result: Promise<Settled> } | undefined;
    const dropAhead = () => {
      ahead?.abort.abort();
      ahead = undefined;
    };
    try {
      for (let page = 1; ; page++) {
        if (page > policy.maxPages) {
          throw new RegistryError('too_large', `more than ${policy.maxPages} pages (MCPREG_REGISTRY_MAX_PAGES); stopped walking`, { where });
        }
        const url = pageUrl(cursor);
        const pageWhere: ErrorWhere = { ...where, url: safeUrl(url), path: `page ${page}` };
        let res;
        if (ahead && ahead.cursor === cursor) {
          const settled = await ahead.result;
          ahead = undefined;
          if (!settled.ok) throw settled.error;
          res = settled.res;
        } else {
          dropAhead();
          res = await request(url, page, bytes, signal);
        }
        if (res.status === 304) throw new RegistryError('source_unavailable', 'unexpected HTTP 304 to an unconditional request', { where: pageWhere });
        bytes += res.body.byteLength;
        // the next page's request goes out before this one is parsed
        const guess = page < policy.maxPages ? peekNextCursor(res.body) : undefined;
        if (guess !== undefined && guess.length <= MAX_CURSOR_LENGTH && !seenCursors.has(guess)) {
          const abort = new AbortController();
          const nextUrl = pageUrl(guess);
          const result: Promise<Settled> = request(nextUrl, page + 1, bytes, AbortSignal.any([signal, abort.signal])).then(
            (r) => ({ ok: true as const, res: r }),
            (error: unknown) => ({ ok: false as const, error }),
          );
          ahead = { cursor: guess, abort, result };
          // let the request reach the wire before the parse below holds the thread
          await headersSent(nextUrl, result);
        }
        let body: unknown;
        try {
          body = JSON.parse(Buffer.from(res.body.buffer, res.body.byteOffset, res.body.byteLength).toString('utf8'));
        } catch (e) {
          throw new RegistryError('invalid_json', `page ${page} is not JSON: ${jsonParseMessage(e)}`, { where: pageWhere });
        }
        const servers = (body as { servers?: unknown } | null)?.servers;
        if (api === 'toolhive' && page === 1 && servers && typeof servers === 'object' && !Array.isArray(servers)) {
          // a ToolHive registry document (servers as a map): the pipeline converts it
          return { entries: [], pages: 1, duplicates: 0, bytes: res.body.byteLength, document: res.body };
        }
        if (!Array.isArray(servers)) {
          throw new RegistryError('invalid_document', `page ${page} has no "servers" array; not a registry list response`, { where: pageWhere });
        }
        for (const item of servers) {
          const k = entryKey(item);
          if (!k) {
            unkeyed.push(item);
            continue;
          }
          const key = `${k.name}\u0000${k.version}`;
          if (rows.has(key)) {
            duplicates++;
            rows.delete(key); // keep insertion order of the last copy
          }
          rows.set(key, item);
        }
        if (rows.size + unkeyed.length > policy.maxEntries) {
          throw new RegistryError('too_large', `more than ${policy.maxEntries} entries (MCPREG_REGISTRY_MAX_ENTRIES); stopped walking`, { where: pageWhere });
        }
        const metadata = (body as { metadata?: Record<string, unknown> }).metadata ?? {};
        const next = metadata.nextCursor ?? metadata.next_cursor;
        if (next === undefined || next === null || next === '') {
          if (duplicates > 0) session.logger?.warn('the registry returned duplicate rows', { host: endpoint.base.host, duplicates });
          return { entries: [...rows.values(), ...unkeyed], pages: page, duplicates, bytes };
        }
        if (typeof next !== 'string') throw new RegistryError('invalid_document', 'metadata.nextCursor is not a string', { where: pageWhere });
        if (next.length > MAX_CURSOR_LENGTH) {
          throw new RegistryError('invalid_document', `page ${page}'s metadata.nextCursor is ${next.length} characters, over the ${MAX_CURSOR_LENGTH} a cursor may have; stopped walking`, {
            where: pageWhere,
          });
        }
        if (!seenCursors.add(next)) {
          throw new RegistryError('source_unavailable', `the registry repeated cursor ${JSON.stringify(next.slice(0, 100))} on page ${page}; stopped to avoid an endless walk`, {
            where: pageWhere,
          });
        }
        cursor = next;
      }
    } finally {
      // a walk that ends (done, or failed) leaves no request behind
      dropAhead();
    }
  }
}

/** longest a walk waits for an early request's headers to be written before it parses */
const SEND_WAIT_MS = 50;

/**
 * Resolves once undici has written the headers of a request to `url` (its diagnostics channel
 * `undici:client:sendHeaders`), the request settled, or SEND_WAIT_MS passed: a request started
 * just before a long synchronous parse would otherwise leave only after the parse.
 */
function headersSent(url: URL, settled: Promise<unknown>): Promise<void> {
  const path = `${url.pathname}${url.search}`;
  return new Promise<void>((resolve) => {
    const onSent = (message: unknown) => {
      const req = (message as { request?: { path?: string; origin?: string } }).request;
      if (req?.path === path && req.origin !== undefined && new URL(req.origin).host === url.host) done();
    };
    const timer = setTimeout(() => done(), SEND_WAIT_MS);
    function done() {
      clearTimeout(timer);
      diagnostics.unsubscribe('undici:client:sendHeaders', onSent);
      resolve();
    }
    diagnostics.subscribe('undici:client:sendHeaders', onSent);
    void settled.then(done, done);
  });
}

/**
 * The `metadata.nextCursor` (or `next_cursor`) of a raw list page, read from its tail without
 * parsing the page: a guess that lets the next request start early. Undefined when the tail
 * does not end in such a member; the parsed page always has the last word.
 */
export function peekNextCursor(body: Uint8Array): string | undefined {
  const tailBytes = Math.min(body.byteLength, MAX_CURSOR_LENGTH * 6 + 512);
  const tail = Buffer.from(body.buffer, body.byteOffset + body.byteLength - tailBytes, tailBytes).toString('utf8');
  const at = Math.max(tail.lastIndexOf('"nextCursor"'), tail.lastIndexOf('"next_cursor"'));
  if (at < 0) return undefined;
  const m = /^"next(?:Cursor|_cursor)"\s*:\s*("(?:[^"\\]|\\.)*")\s*[,}]/.exec(tail.slice(at));
  if (!m) return undefined;
  try {
    const value = JSON.parse(m[1]!) as unknown;
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}

export function revisionOf(state: RegistryState, count: number): string {
  return sha256Hex(JSON.stringify([state.endpoint, state.api, state.watermark ?? null, state.mode, count]));
}

export function createRegistrySource(spec: RegistrySpec): RegistrySource {
  return new RegistrySource(spec);
}
