/**
 * The url source: one registry document over http(s).
 *
 * Revision: the response's ETag, else its Last-Modified, else `sha256:<hex>` of the body.
 * With a previous ETag / Last-Modified the GET is conditional and a 304 answers "unchanged";
 * without validators an identical body (same sha256) also answers "unchanged".
 */
import { RegistryError } from '../errors.ts';
import type { UrlSource as UrlSpec } from '../kube/mcpregistry-spec.ts';
import { httpGet, resolveAuth, safeUrl, sha256Hex, withHttpSession } from './http-fetch.ts';
import { resolvePolicy } from './policy.ts';
import type { FetchResult, Source, SourceContext } from './types.ts';

/** What the url source persists between syncs (FetchResult.state). */
export interface UrlState {
  etag?: string;
  lastModified?: string;
}

function readState(state: unknown): UrlState {
  if (!state || typeof state !== 'object') return {};
  const s = state as Record<string, unknown>;
  return {
    ...(typeof s.etag === 'string' ? { etag: s.etag } : {}),
    ...(typeof s.lastModified === 'string' ? { lastModified: s.lastModified } : {}),
  };
}

export function parseSourceUrl(text: string, source: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new RegistryError('invalid_argument', 'the source URL is not a valid absolute URL', { where: { source } });
  }
}

export function fileNameOf(url: URL): string {
  const last = decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? '');
  return last || url.host;
}

export class UrlSource implements Source {
  readonly type = 'url' as const;
  readonly spec: UrlSpec;

  constructor(spec: UrlSpec) {
    this.spec = spec;
  }

  async fetch(context: SourceContext): Promise<FetchResult> {
    const source = 'url';
    const url = parseSourceUrl(this.spec.url, source);
    const policy = resolvePolicy(context.policy);
    const auth = await resolveAuth(this.spec.authSecret, context.secrets, { source, url: safeUrl(url) });
    const previous = context.force ? {} : readState(context.previous?.state);
    const previousRevision = context.force ? undefined : context.previous?.revision;
    return withHttpSession(policy, source, context.logger, async (session) => {
      const res = await httpGet(session, {
        url,
        ...(this.spec.headers ? { headers: this.spec.headers } : {}),
        auth,
        allowHttp: this.spec.allowHttp ?? false,
        accept: 'application/json, application/yaml;q=0.9, */*;q=0.5',
        conditional: previous,
        signal: context.signal,
      });
      if (res.status === 304) {
        if (previousRevision === undefined) {
          throw new RegistryError('source_unavailable', 'HTTP 304 Not Modified without a previous revision to reuse', {
            where: { source, url: safeUrl(res.url) },
          });
        }
        return { kind: 'unchanged', revision: previousRevision };
      }
      const revision = res.etag ?? res.lastModified ?? `sha256:${sha256Hex(res.body)}`;
      const state: UrlState = { ...(res.etag ? { etag: res.etag } : {}), ...(res.lastModified ? { lastModified: res.lastModified } : {}) };
      if (previousRevision !== undefined && revision === previousRevision && !res.etag && !res.lastModified) {
        return { kind: 'unchanged', revision };
      }
      return { kind: 'document', revision, bytes: res.body, file: fileNameOf(res.url), state };
    });
  }
}

export function createUrlSource(spec: UrlSpec): UrlSource {
  return new UrlSource(spec);
}
