/**
 * An isomorphic-git HTTP client built on the shared HTTP layer, so that git traffic gets the
 * same SSRF checks (on every connection and redirect), credential handling (dropped when a
 * redirect leaves the origin), timeouts and the same abort signal as every other source, plus a
 * cap on the total bytes received by one git operation.
 */
import type { HttpClient, GitHttpRequest, GitHttpResponse } from 'isomorphic-git';
import { RegistryError, type ErrorWhere } from '../errors.ts';
import { asUint8, TransferBudget, type LimitedGitHttp } from './git-transfer.ts';
import { send, safeUrl, type HttpSession, type ResolvedAuth } from './http-fetch.ts';

export { PACK_INFLATE_FACTOR, type LimitedGitHttp } from './git-transfer.ts';

export interface GitHttpLimits {
  maxBytes: number;
  signal: AbortSignal;
  allowHttp: boolean;
  auth: ResolvedAuth;
  where: ErrorWhere;
}

async function collect(body: GitHttpRequest['body']): Promise<Uint8Array | undefined> {
  if (!body) return undefined;
  const chunks: Uint8Array[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(c);
  return Buffer.concat(chunks);
}

export function createGitHttp(session: HttpSession, limits: GitHttpLimits): LimitedGitHttp {
  const budget = new TransferBudget(limits.maxBytes, limits.signal);
  const requests: LimitedGitHttp['requests'] = [];
  const { signal } = budget;
  const fail = (e: RegistryError) => budget.fail(e);

  const http: HttpClient = {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const failed = budget.failure();
      if (failed) throw failed;
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
            budget.count(chunk.length, where);
            if (holdsPack) held.push(chunk);
            else yield asUint8(chunk);
          }
        } finally {
          stream.destroy();
        }
        if (!holdsPack) return;
        const body = Buffer.concat(held);
        budget.checkResponse(body, where);
        yield asUint8(body);
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
  return { http, received: () => budget.received(), failure: () => budget.failure(), requests };
}
