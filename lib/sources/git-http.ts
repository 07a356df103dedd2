/**
 * An isomorphic-git HTTP client built on the shared HTTP layer, so that git traffic gets the
 * same SSRF checks (on every connection and redirect), credential handling (dropped when a
 * redirect leaves the origin), timeouts and the same abort signal as every other source, plus a
 * cap on the total bytes received by one git operation.
 */
import type { HttpClient, GitHttpRequest, GitHttpResponse } from 'isomorphic-git';
import { RegistryError, type ErrorWhere } from '../errors.ts';
import { checkPack, packOfResponse } from './git-pack-limits.ts';
import { send, safeUrl, type HttpSession, type ResolvedAuth } from './http-fetch.ts';

/** the inflated size of all objects of one pack together may be this many times maxBytes */
export const PACK_INFLATE_FACTOR = 2;

export interface GitHttpLimits {
  maxBytes: number;
  signal: AbortSignal;
  allowHttp: boolean;
  auth: ResolvedAuth;
  where: ErrorWhere;
}

/** The client plus what happened: bytes received, and the first limit that stopped it. */
export interface LimitedGitHttp {
  http: HttpClient;
  received(): number;
  /** the RegistryError that ended the operation (size cap, SSRF, timeout), if any */
  failure(): RegistryError | undefined;
  /** every request made, method and path only */
  requests: Array<{ method: string; path: string; status: number }>;
}

async function collect(body: GitHttpRequest['body']): Promise<Uint8Array | undefined> {
  if (!body) return undefined;
  const chunks: Uint8Array[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(c);
  return Buffer.concat(chunks);
}

export function createGitHttp(session: HttpSession, limits: GitHttpLimits): LimitedGitHttp {
  let total = 0;
  let failure: RegistryError | undefined;
  const requests: LimitedGitHttp['requests'] = [];
  const controller = new AbortController();
  const signal = AbortSignal.any([limits.signal, controller.signal]);
  const fail = (e: RegistryError) => {
    failure ??= e;
    controller.abort(e);
    return failure;
  };

  const http: HttpClient = {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      if (failure) throw failure;
      const url = new URL(req.url);
      const method = (req.method ?? 'GET').toUpperCase() as 'GET' | 'POST';
      // git sends small request bodies (want/have lines): buffering lets a redirect replay them
      const body = await collect(req.body);
      const plain: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers ?? {})) if (k.toLowerCase() !== 'authorization') plain[k] = v;
      let res;
      try {
        res = await send(session, {
          url,
          method,
          headers: plain,
          auth: limits.auth,
          ...(body ? { body } : {}),
          allowHttp: limits.allowHttp,
          signal,
        });
      } catch (e) {
        throw e instanceof RegistryError ? fail(e) : e;
      }
      requests.push({ method, path: res.url.pathname, status: res.statusCode });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const where = { ...limits.where, url: safeUrl(res.url) };
      const stream = res.body;
      // a pack is held (it is within maxBytes) and its objects' sizes checked before
      // isomorphic-git inflates any of them
      const holdsPack = method === 'POST' && url.pathname.endsWith('/git-upload-pack');
      async function* counted(): AsyncGenerator<Uint8Array> {
        const held: Buffer[] = [];
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            total += chunk.length;
            if (total > limits.maxBytes) {
              throw fail(new RegistryError('too_large', `git transfer passed the limit of ${limits.maxBytes} bytes (MCPREG_FETCH_MAX_BYTES)`, { where }));
            }
            if (holdsPack) held.push(chunk);
            else yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          }
        } finally {
          stream.destroy();
        }
        if (!holdsPack) return;
        const body = Buffer.concat(held);
        const pack = packOfResponse(body);
        if (pack) {
          try {
            checkPack(pack, { maxObjectBytes: limits.maxBytes, maxTotalBytes: PACK_INFLATE_FACTOR * limits.maxBytes }, where);
          } catch (e) {
            throw e instanceof RegistryError ? fail(e) : e;
          }
        }
        yield new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      }
      return {
        url: res.url.toString(),
        method,
        statusCode: res.statusCode,
        statusMessage: String(res.statusCode),
        headers,
        body: counted(),
      };
    },
  };
  return { http, received: () => total, failure: () => failure, requests };
}
