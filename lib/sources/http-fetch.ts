/**
 * The HTTP client shared by the url, registry and git sources: undici with the SSRF-checked
 * connection lookup, redirects followed by hand (each hop re-checked, https→http refused
 * unless allowed, credentials dropped when the origin changes), connect and total timeouts,
 * gzip/deflate/br decoding with a streaming size cap, conditional GET, auth from a Secret, and
 * retries of transient failures with jittered exponential backoff (429 honours Retry-After).
 *
 * Errors are RegistryError values whose `where.url` carries scheme, host and path only — never
 * credentials, query strings or header values.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform, pipeline } from 'node:stream';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { Agent, request, type Dispatcher } from 'undici';
import { RegistryError, type ErrorCode, type ErrorWhere } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { AuthSecretRef } from '../kube/mcpregistry-spec.ts';
import { checkUrl, guardedLookup, AllowList, type ResolvedPolicy } from './policy.ts';
import { excerpt } from './scrub.ts';
import { outgoing } from '../telemetry/outgoing.ts';
import type { SecretReader } from './types.ts';

// ---------------------------------------------------------------------------------------------
// Sessions: one undici Agent per source fetch, closed afterwards (no sockets outlive a sync)

export interface HttpSession {
  readonly policy: ResolvedPolicy;
  readonly source: string;
  readonly dispatcher: Dispatcher;
  readonly allow: AllowList;
  /** hosts whose addresses passed the pre-request check in this session */
  readonly checkedHosts: Set<string>;
  readonly logger?: Logger;
  close(): Promise<void>;
}

export function createHttpSession(policy: ResolvedPolicy, source: string, logger?: Logger): HttpSession {
  const agent = new Agent({
    connect: {
      timeout: policy.connectTimeoutMs,
      lookup: guardedLookup(policy, source) as never,
      ...(policy.ca ? { ca: [...tls.rootCertificates, policy.ca] } : {}),
    },
    headersTimeout: policy.totalTimeoutMs,
    bodyTimeout: policy.totalTimeoutMs,
    keepAliveTimeout: 4_000,
  });
  return {
    policy,
    source,
    dispatcher: agent,
    allow: new AllowList(policy.allowPrivate),
    checkedHosts: new Set(),
    ...(logger ? { logger } : {}),
    close: () => agent.close(),
  };
}

export async function withHttpSession<T>(policy: ResolvedPolicy, source: string, logger: Logger | undefined, fn: (s: HttpSession) => Promise<T>): Promise<T> {
  const session = createHttpSession(policy, source, logger);
  try {
    return await fn(session);
  } finally {
    await session.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Auth from a Secret

export interface ResolvedAuth {
  headers: Record<string, string>;
  /** the values, so that they can be scrubbed from anything a server echoes back */
  secrets: string[];
}

export const NO_AUTH: ResolvedAuth = { headers: {}, secrets: [] };

function cleanSecretValue(value: string, secretName: string, key: string, where: ErrorWhere): string {
  const v = value.replace(/[\r\n]+$/, '');
  if (v === '') throw new RegistryError('auth_failed', `key ${JSON.stringify(key)} of Secret ${secretName} is empty`, { where });
  if (/[\r\n\0]/.test(v)) {
    throw new RegistryError('auth_failed', `key ${JSON.stringify(key)} of Secret ${secretName} contains a line break or NUL and cannot be sent in a header`, { where });
  }
  return v;
}

/**
 * Reads the Secret keys named by `ref` and builds the request headers: bearer (`tokenKey`),
 * basic (`usernameKey` + `passwordKey`) or a named header (`headerName` + `headerValueKey`).
 * Trailing newlines (common when a Secret is created from a file) are removed.
 */
export async function resolveAuth(ref: AuthSecretRef | undefined, secrets: SecretReader, where: ErrorWhere): Promise<ResolvedAuth> {
  if (!ref) return NO_AUTH;
  const read = async (key: string) => cleanSecretValue(await secrets.read(ref.name, key), ref.name, key, where);
  if (ref.tokenKey) {
    const token = await read(ref.tokenKey);
    return { headers: { authorization: `Bearer ${token}` }, secrets: [token] };
  }
  if (ref.usernameKey || ref.passwordKey) {
    if (!ref.usernameKey || !ref.passwordKey) {
      throw new RegistryError('invalid_argument', `authSecret ${ref.name}: basic auth needs both usernameKey and passwordKey`, { where });
    }
    const user = await read(ref.usernameKey);
    const pass = await read(ref.passwordKey);
    if (user.includes(':')) throw new RegistryError('auth_failed', `key ${JSON.stringify(ref.usernameKey)} of Secret ${ref.name}: a basic-auth user name cannot contain ':'`, { where });
    const encoded = Buffer.from(`${user}:${pass}`).toString('base64');
    return { headers: { authorization: `Basic ${encoded}` }, secrets: [user, pass, `${user}:${pass}`, encoded] };
  }
  if (ref.headerName || ref.headerValueKey) {
    if (!ref.headerName || !ref.headerValueKey) {
      throw new RegistryError('invalid_argument', `authSecret ${ref.name}: a header needs both headerName and headerValueKey`, { where });
    }
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(ref.headerName)) {
      throw new RegistryError('invalid_argument', `authSecret ${ref.name}: ${JSON.stringify(ref.headerName)} is not a valid header name`, { where });
    }
    const value = await read(ref.headerValueKey);
    return { headers: { [ref.headerName.toLowerCase()]: value }, secrets: [value] };
  }
  throw new RegistryError('invalid_argument', `authSecret ${ref.name} names no keys: set tokenKey, usernameKey+passwordKey, or headerName+headerValueKey`, { where });
}

/** scheme://host/path — no credentials, no query, no fragment */
export function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Drops a response body we do not read, without an unhandled 'error' event. */
export function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'EADDRNOTAVAIL',
]);

function findRegistryError(e: unknown): RegistryError | undefined {
  for (let cur = e, depth = 0; cur && depth < 6; depth++) {
    if (cur instanceof RegistryError) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function errCode(e: unknown): string | undefined {
  for (let cur = e, depth = 0; cur && depth < 6; depth++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Turns anything a request threw into a RegistryError; `signal` tells a cancelled sync from a timeout. */
export function networkError(e: unknown, context: { where: ErrorWhere; signal: AbortSignal; timeoutMs: number; phase: string }): RegistryError {
  const known = findRegistryError(e);
  if (known) return known;
  if (context.signal.aborted && (context.signal.reason as { name?: string } | undefined)?.name !== 'TimeoutError') {
    const reason = context.signal.reason;
    if (reason instanceof RegistryError) return reason;
    return new RegistryError('aborted', `${context.phase} aborted: the sync was cancelled`, { where: context.where, cause: e });
  }
  const code = errCode(e);
  const name = (e as { name?: string } | undefined)?.name;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    const err = new RegistryError('source_timeout', `${context.phase}: connection not established in time (MCPREG_FETCH_CONNECT_TIMEOUT)`, {
      where: context.where,
      transient: true,
      cause: e,
    });
    CONNECT_TIMEOUTS.add(err);
    return err;
  }
  if (name === 'TimeoutError' || (context.signal.reason as { name?: string } | undefined)?.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ABORT_ERR' || name === 'AbortError') {
    return new RegistryError('source_timeout', `${context.phase} did not finish within ${context.timeoutMs} ms (MCPREG_FETCH_TIMEOUT)`, {
      where: context.where,
      transient: true,
      cause: e,
    });
  }

  const detail = code ?? (e instanceof Error ? e.message : String(e));
  return new RegistryError('source_unavailable', `${context.phase} failed: ${detail}`, {
    where: context.where,
    transient: code === undefined || CONNECT_CODES.has(code),
    cause: e,
  });
}

const CONNECT_TIMEOUTS = new WeakSet<RegistryError>();

/** Errors the retry loop may retry: network-level failures and connect timeouts, not a whole request's timeout. */
function isRetryableNetwork(e: RegistryError): boolean {
  return (e.code === 'source_unavailable' && e.transient) || CONNECT_TIMEOUTS.has(e);
}

// ---------------------------------------------------------------------------------------------
// One request, redirects followed by hand

export interface SendOptions {
  url: URL;
  method?: 'GET' | 'POST' | 'HEAD';
  /** plain headers (user headers, Accept, conditionals) */
  headers?: Record<string, string>;
  /** credential headers: dropped when a redirect leaves the original origin */
  auth?: ResolvedAuth;
  body?: Uint8Array;
  allowHttp: boolean;
  signal: AbortSignal;
}

export interface SentResponse {
  url: URL;
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** redirects followed */
  redirects: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function header(headers: SentResponse['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function send(session: HttpSession, options: SendOptions): Promise<SentResponse> {
  let url = options.url;
  let method = options.method ?? 'GET';
  let body = options.body;
  const originalOrigin = url.origin;
  const plain = { ...options.headers };
  for (let redirects = 0; ; redirects++) {
    const where = { source: session.source, url: safeUrl(url) };
    await checkUrl(url, session.policy, { allowHttp: options.allowHttp, source: session.source, allow: session.allow, checkedHosts: session.checkedHosts });
    const auth = url.origin === originalOrigin ? options.auth?.headers : undefined;
    let res: Dispatcher.ResponseData;
    try {
      const hop = url;
      const sent = body;
      // a client span per hop, until the response headers; host and path only, never the query
      res = await outgoing().child(
        method,
        { 'http.request.method': method, 'server.address': hop.hostname, 'server.port': Number(hop.port) || (hop.protocol === 'https:' ? 443 : 80), 'url.path': hop.pathname.slice(0, 200), 'mcpreg.source': session.source },
        async (span) => {
          const r = await request(hop, {
            dispatcher: session.dispatcher,
            method,
            headers: { 'user-agent': 'knative-mcp-registry', ...plain, ...auth },
            ...(sent !== undefined && method !== 'GET' && method !== 'HEAD' ? { body: sent } : {}),
            signal: options.signal,
          });
          span.setAttributes({ 'http.response.status_code': r.statusCode });
          if (r.statusCode >= 500) span.fail(`HTTP ${r.statusCode}`);
          return r;
        },
      );
    } catch (e) {
      throw networkError(e, { where, signal: options.signal, timeoutMs: session.policy.totalTimeoutMs, phase: `${method} ${where.url}` });
    }
    const location = header(res.headers, 'location');
    if (!REDIRECTS.has(res.statusCode) || location === undefined) {
      return { url, statusCode: res.statusCode, headers: res.headers, body: res.body, redirects };
    }
    discard(res.body);
    if (redirects >= session.policy.maxRedirects) {
      throw new RegistryError('source_unavailable', `more than ${session.policy.maxRedirects} redirects (MCPREG_FETCH_MAX_REDIRECTS)`, { where });
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new RegistryError('source_unavailable', `HTTP ${res.statusCode} redirect with an invalid Location header`, { where });
    }
    if (url.protocol === 'https:' && next.protocol === 'http:' && !options.allowHttp) {
      throw new RegistryError('url_forbidden', `redirect from https to plain http (${next.host}) refused; set allowHttp: true to permit it`, {
        where: { source: session.source, url: `${next.protocol}//${next.host}` },
      });
    }
    if (res.statusCode === 303 && method !== 'HEAD') {
      method = 'GET';
      body = undefined;
    }
    session.logger?.debug('following redirect', { status: res.statusCode, from: url.host, to: next.host });
    url = next;
  }
}

// ---------------------------------------------------------------------------------------------
// Bodies: decoding, size cap, truncation

function decoderFor(encoding: string, where: ErrorWhere): Transform | undefined {
  switch (encoding) {
    case 'identity':
    case '':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      throw new RegistryError('source_unavailable', `unsupported Content-Encoding ${JSON.stringify(encoding)}`, { where });
  }
}

export const ACCEPT_ENCODING = 'gzip, deflate, br';

/**
 * Reads the whole (decoded) body, aborting as soon as it grows past `maxBytes`. A body that
 * ends before its Content-Length, or a corrupt compressed stream, is a precise error.
 */
export async function readBody(res: SentResponse, options: { maxBytes: number; where: ErrorWhere; signal: AbortSignal; timeoutMs: number }): Promise<Uint8Array> {
  const { where, maxBytes } = options;
  const encodings = (header(res.headers, 'content-encoding') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s && s !== 'identity');
  const declared = Number(header(res.headers, 'content-length'));
  const hasLength = Number.isFinite(declared) && header(res.headers, 'content-length') !== undefined;
  if (encodings.length === 0 && hasLength && declared > maxBytes) {
    discard(res.body);
    throw new RegistryError('too_large', `response declares ${declared} bytes, over the limit of ${maxBytes} (MCPREG_FETCH_MAX_BYTES)`, { where });
  }
  let decoders: Transform[];
  try {
    decoders = encodings.reverse().map((e) => decoderFor(e, where)).filter((d): d is Transform => d !== undefined);
  } catch (e) {
    discard(res.body);
    throw e;
  }
  let raw = 0;
  let streams: Readable[];
  let out: Readable;
  if (decoders.length === 0) {
    // identity: the body is read as it comes, counted in the loop below
    streams = [res.body];
    out = res.body;
  } else {
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        raw += chunk.length;
        cb(null, chunk);
      },
    });
    streams = [res.body, counter, ...decoders];
    out = pipeline(streams as unknown as [Readable, Transform], () => {}) as unknown as Readable;
  }
  // With a declared length and no decoding the body goes straight into one buffer of that
  // size: no list of chunks that a final concat copies again (twice the body at the end).
  const target = decoders.length === 0 && hasLength ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of out as AsyncIterable<Buffer>) {
      if (decoders.length === 0) raw += chunk.length;
      if (target !== undefined && size + chunk.length <= declared) chunk.copy(target, size);
      else {
        if (target !== undefined && chunks.length === 0) chunks.push(target.subarray(0, size)); // more than declared: collect
        chunks.push(chunk);
      }
      size += chunk.length;
      if (size > maxBytes) {
        for (const s of streams) s.destroy();
        throw new RegistryError('too_large', `response body passed the limit of ${maxBytes} bytes${decoders.length ? ' after decompression' : ''} (MCPREG_FETCH_MAX_BYTES)`, { where });
      }
    }
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    if (options.signal.aborted || isTimeout(e)) throw networkError(e, { where, signal: options.signal, timeoutMs: options.timeoutMs, phase: 'reading the response body' });
    const code = errCode(e);
    if (code?.startsWith('Z_') || code === 'ERR_BROTLI_DECOMPRESSION_FAILED' || /incorrect header|unexpected end of file|invalid/i.test((e as Error).message ?? '')) {
      if (!hasLength || raw >= declared) {
        throw new RegistryError('source_unavailable', `the ${encodings.join('+')} body is corrupt or truncated: ${(e as Error).message}`, { where, cause: e });
      }
    }
    if (hasLength && raw < declared) {
      throw new RegistryError('source_unavailable', `response body ended after ${raw} of ${declared} bytes (connection closed early)`, {
        where,
        transient: true,
        cause: e,
      });
    }
    throw networkError(e, { where, signal: options.signal, timeoutMs: options.timeoutMs, phase: 'reading the response body' });
  }
  if (hasLength && raw < declared) {
    throw new RegistryError('source_unavailable', `response body ended after ${raw} of ${declared} bytes (connection closed early)`, { where, transient: true });
  }
  const buf = target !== undefined && chunks.length === 0 ? target : Buffer.concat(chunks, size);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function isTimeout(e: unknown): boolean {
  const code = errCode(e);
  return (e as { name?: string })?.name === 'TimeoutError' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT';
}

async function readSmall(res: SentResponse, limit: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let n = 0;
  let truncated = false;
  try {
    for await (const c of res.body as AsyncIterable<Buffer>) {
      chunks.push(c);
      n += c.length;
      if (n >= limit) {
        truncated = true;
        break;
      }
    }
  } catch {
    // the excerpt is best effort
  } finally {
    discard(res.body);
  }
  return { text: Buffer.concat(chunks).subarray(0, limit).toString('utf8'), truncated };
}

/**
 * An error response's body never goes into an error (status and Events show the message): a
 * source may echo our credentials in any encoding. A bounded, scrubbed excerpt is logged at
 * debug level for whoever debugs the source.
 */
async function logErrorBody(session: HttpSession, res: SentResponse, secrets: readonly string[]): Promise<void> {
  const logger = session.logger;
  if (!logger) {
    discard(res.body);
    return;
  }
  const { text, truncated } = await readSmall(res, 4096);
  if (text === '') return;
  logger.debug('source error response', { host: res.url.host, status: res.statusCode, excerpt: excerpt(text, secrets, { truncated }) });
}

// ---------------------------------------------------------------------------------------------
// Retries

/** Seconds or an HTTP-date → milliseconds from now (never negative), or undefined. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

export function backoffDelay(attempt: number, policy: Pick<ResolvedPolicy, 'retryBaseMs' | 'retryMaxWaitMs'>, random = Math.random): number {
  const exp = Math.min(policy.retryMaxWaitMs, policy.retryBaseMs * 2 ** attempt);
  return Math.round(exp / 2 + (random() * exp) / 2);
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

// ---------------------------------------------------------------------------------------------
// The whole GET: retries, status mapping, body

export interface GetOptions {
  url: URL;
  headers?: Record<string, string>;
  auth?: ResolvedAuth;
  allowHttp: boolean;
  accept?: string;
  /** previous validators: a 304 answer yields `{status: 304}` */
  conditional?: { etag?: string; lastModified?: string };
  /** a smaller body limit than the policy's (what is left of a walk's budget) */
  maxBytes?: number;
  signal: AbortSignal;
}

export type GetResult =
  | { status: 304; url: URL; etag?: string; lastModified?: string }
  | { status: 200; url: URL; body: Uint8Array; etag?: string; lastModified?: string; contentType?: string };

const RETRY_STATUS = new Set([502, 503, 504, 429]);

function statusError(status: number, where: ErrorWhere, host: string): RegistryError {
  let code: ErrorCode;
  let message: string;
  let transient = false;
  if (status === 401 || status === 403) {
    code = 'auth_failed';
    message = `HTTP ${status} from ${host}: credentials missing or refused; check authSecret`;
  } else if (status === 404 || status === 410) {
    code = 'source_not_found';
    message = `HTTP ${status} from ${host}: nothing at this URL`;
  } else if (status === 429) {
    code = 'rate_limited';
    transient = true;
    message = `HTTP 429 from ${host}: rate limited after retries`;
  } else if (status === 400 || status === 422) {
    code = 'invalid_argument';
    message = `HTTP ${status} from ${host}: the server rejected the request`;
  } else if (status >= 500) {
    code = 'source_unavailable';
    transient = true;
    message = `HTTP ${status} from ${host}`;
  } else {
    code = 'source_unavailable';
    message = `unexpected HTTP ${status} from ${host}`;
  }
  return new RegistryError(code, message, { where, transient });
}

/**
 * GET with retries. Transient failures (connection errors, a body cut short, 502/503/504, 429)
 * are retried up to `policy.retries` times with jittered exponential backoff; a Retry-After
 * longer than `retryMaxWaitMs` is not waited for (rate_limited). Everything stays inside
 * `signal`.
 */
export async function httpGet(session: HttpSession, options: GetOptions): Promise<GetResult> {
  const { policy } = session;
  const headers: Record<string, string> = { ...options.headers, 'accept-encoding': ACCEPT_ENCODING };
  if (options.accept) headers.accept = options.accept;
  if (options.conditional?.etag) headers['if-none-match'] = options.conditional.etag;
  else if (options.conditional?.lastModified) headers['if-modified-since'] = options.conditional.lastModified;
  const secrets = options.auth?.secrets ?? [];
  for (let attempt = 0; ; attempt++) {
    const attemptSignal = AbortSignal.any([options.signal, AbortSignal.timeout(policy.totalTimeoutMs)]);
    let wait: number | undefined;
    let failure: RegistryError;
    let final: RegistryError | undefined;
    try {
      const res = await send(session, { url: options.url, headers, ...(options.auth ? { auth: options.auth } : {}), allowHttp: options.allowHttp, signal: attemptSignal });
      const where = { source: session.source, url: safeUrl(res.url) };
      const etag = header(res.headers, 'etag');
      const lastModified = header(res.headers, 'last-modified');
      if (res.statusCode === 304) {
        discard(res.body);
        return { status: 304, url: res.url, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
      }
      if (res.statusCode >= 200 && res.statusCode < 300) {
        const body = await readBody(res, { maxBytes: Math.min(options.maxBytes ?? policy.maxBytes, policy.maxBytes), where, signal: attemptSignal, timeoutMs: policy.totalTimeoutMs });
        const contentType = header(res.headers, 'content-type');
        return {
          status: 200,
          url: res.url,
          body,
          ...(etag ? { etag } : {}),
          ...(lastModified ? { lastModified } : {}),
          ...(contentType ? { contentType } : {}),
        };
      }
      await logErrorBody(session, res, secrets);
      failure = statusError(res.statusCode, where, res.url.host);
      if (!RETRY_STATUS.has(res.statusCode)) throw (final = failure);
      const retryAfter = parseRetryAfter(header(res.headers, 'retry-after'));
      if (retryAfter !== undefined && (res.statusCode === 429 || res.statusCode === 503)) {
        if (retryAfter > policy.retryMaxWaitMs) {
          throw final = new RegistryError(
            res.statusCode === 429 ? 'rate_limited' : 'source_unavailable',
            `HTTP ${res.statusCode} from ${res.url.host} asks to retry after ${Math.ceil(retryAfter / 1000)} s, longer than the ${Math.ceil(policy.retryMaxWaitMs / 1000)} s waited inside a sync (MCPREG_FETCH_RETRY_MAX_WAIT)`,
            { where, transient: true },
          );
        }
        wait = retryAfter;
      }
    } catch (e) {
      if (final !== undefined && e === final) throw e;
      const err = e instanceof RegistryError ? e : networkError(e, { where: { source: session.source, url: safeUrl(options.url) }, signal: options.signal, timeoutMs: policy.totalTimeoutMs, phase: `GET ${safeUrl(options.url)}` });
      if (!isRetryableNetwork(err) || options.signal.aborted) throw err;
      failure = err;
    }
    if (attempt >= policy.retries) throw failure;
    const delay = wait ?? backoffDelay(attempt, policy);
    session.logger?.warn('retrying a transient failure', { host: options.url.host, attempt: attempt + 1, waitMs: delay, reason: failure.message });
    try {
      await sleep(delay, options.signal);
    } catch {
      throw networkError(options.signal.reason, { where: failure.where, signal: options.signal, timeoutMs: policy.totalTimeoutMs, phase: 'waiting to retry' });
    }
  }
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
