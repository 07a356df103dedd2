import type { RegistryRef } from '../snapshots/layout.ts';

/**
 * Maps a request path to a route. Pure; works on the raw (still percent-encoded) path so that
 * an encoded slash in a server name (`io.github.x%2Fweather`) stays one segment while an
 * unencoded one makes the route not match (404 "Endpoint not found", as upstream).
 */

export type ApiVersion = 'v0' | 'v0.1';

/** a registry named in the path, or the configured default */
export type RegistryTarget = RegistryRef | 'default';

export type Route =
  | { kind: 'healthz' }
  | { kind: 'readyz' }
  | { kind: 'openapi' }
  | { kind: 'events' }
  | { kind: 'up-list'; registry: RegistryTarget; api: ApiVersion }
  | { kind: 'up-versions'; registry: RegistryTarget; api: ApiVersion; server: string }
  | { kind: 'up-version'; registry: RegistryTarget; api: ApiVersion; server: string; version: string }
  | { kind: 'up-ping'; registry: RegistryTarget; api: ApiVersion }
  | { kind: 'up-health'; registry: RegistryTarget; api: ApiVersion }
  | { kind: 'up-publish'; registry: RegistryTarget; api: ApiVersion }
  /** the official API's status updates (PATCH): a synced registry answers every method 405 */
  | { kind: 'up-status'; registry: RegistryTarget; api: ApiVersion; of: 'server' | 'version' }
  | { kind: 'th-registries' }
  | { kind: 'th-registry'; registry: RegistryRef }
  | { kind: 'th-servers' }
  | { kind: 'th-server'; name: string }
  | { kind: 'th-search' }
  | { kind: 'registry-file'; registry: RegistryRef }
  | { kind: 'bad-registry' }
  | { kind: 'bad-encoding'; location: string; value: string }
  | { kind: 'not-found' };

/** methods each route answers (OPTIONS is answered for every route by the CORS layer) */
export function allowedMethods(route: Route): readonly string[] {
  switch (route.kind) {
    case 'events':
    case 'up-publish':
      return ['POST'];
    case 'up-status':
      return [];
    case 'not-found':
    case 'bad-encoding':
    case 'bad-registry':
      return ['GET', 'HEAD', 'POST'];
    default:
      return ['GET', 'HEAD'];
  }
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** a Kubernetes namespace (DNS label) and object name (DNS subdomain) */
export function isRegistryRef(namespace: string, name: string): boolean {
  return namespace.length <= 63 && NAMESPACE.test(namespace) && name.length <= 253 && OBJECT_NAME.test(name);
}

/** `ns/name` → ref, or undefined when it is not one */
export function parseRegistryRef(text: string): RegistryRef | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const namespace = text.slice(0, slash);
  const name = text.slice(slash + 1);
  return isRegistryRef(namespace, name) ? { namespace, name } : undefined;
}

/**
 * Decodes a path segment. Like the official server, a second round of unescaping is applied
 * when the result still holds an escape, so a double-encoded `%252F` is tolerated.
 */
export function decodeSegment(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  let once: string;
  try {
    once = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (/%[0-9A-Fa-f]{2}/.test(once)) {
    try {
      return decodeURIComponent(once);
    } catch {
      return once;
    }
  }
  return once;
}

function upstream(registry: RegistryTarget, api: ApiVersion, rest: readonly string[]): Route {
  const [a, b, c, d, ...extra] = rest;
  if (a === 'servers' && b) {
    if (c === 'status' && d === undefined) return { kind: 'up-status', registry, api, of: 'server' };
    if (c === 'versions' && d && extra.length === 1 && extra[0] === 'status') return { kind: 'up-status', registry, api, of: 'version' };
  }
  if (extra.length > 0) return { kind: 'not-found' };
  if (a === 'servers') {
    if (b === undefined) return { kind: 'up-list', registry, api };
    if (c !== 'versions' || b === '') return { kind: 'not-found' };
    const server = decodeSegment(b);
    if (server === undefined) return { kind: 'bad-encoding', location: 'path.serverName', value: b };
    if (d === undefined) return { kind: 'up-versions', registry, api, server };
    if (d === '') return { kind: 'not-found' };
    const version = decodeSegment(d);
    if (version === undefined) return { kind: 'bad-encoding', location: 'path.version', value: d };
    return { kind: 'up-version', registry, api, server, version };
  }
  if (b !== undefined) return { kind: 'not-found' };
  if (a === 'ping') return { kind: 'up-ping', registry, api };
  if (a === 'health') return { kind: 'up-health', registry, api };
  if (a === 'publish') return { kind: 'up-publish', registry, api };
  return { kind: 'not-found' };
}

function apiVersion(segment: string | undefined): ApiVersion | undefined {
  return segment === 'v0' || segment === 'v0.1' ? segment : undefined;
}

/** `path` is the raw path of the request target, without the query string. */
export function matchRoute(path: string): Route {
  if (path.length === 0 || path[0] !== '/') return { kind: 'not-found' };
  const segments = path.slice(1).split('/');
  const [first, second, third, fourth, ...rest] = segments;
  switch (first) {
    case 'healthz':
      return segments.length === 1 ? { kind: 'healthz' } : { kind: 'not-found' };
    case 'readyz':
      return segments.length === 1 ? { kind: 'readyz' } : { kind: 'not-found' };
    case 'openapi.json':
      return segments.length === 1 ? { kind: 'openapi' } : { kind: 'not-found' };
    case 'events':
      return segments.length === 1 ? { kind: 'events' } : { kind: 'not-found' };
    case 'v0':
    case 'v0.1':
      return upstream('default', first, segments.slice(1));
    case 'registries': {
      if (second !== undefined && third !== undefined && fourth === 'registry.json' && rest.length === 0) {
        return isRegistryRef(second, third) ? { kind: 'registry-file', registry: { namespace: second, name: third } } : { kind: 'bad-registry' };
      }
      const api = apiVersion(fourth);
      if (second === undefined || third === undefined || api === undefined) return { kind: 'not-found' };
      if (!isRegistryRef(second, third)) return { kind: 'bad-registry' };
      return upstream({ namespace: second, name: third }, api, rest);
    }
    case 'api': {
      if (second !== 'v1') return { kind: 'not-found' };
      if (third === 'registries') {
        if (fourth === undefined) return { kind: 'th-registries' };
        const [name, ...more] = rest;
        if (name === undefined || more.length > 0) return { kind: 'not-found' };
        if (!isRegistryRef(fourth, name)) return { kind: 'bad-registry' };
        return { kind: 'th-registry', registry: { namespace: fourth, name } };
      }
      if (third === 'search') return fourth === undefined ? { kind: 'th-search' } : { kind: 'not-found' };
      if (third === 'servers') {
        if (fourth === undefined) return { kind: 'th-servers' };
        if (rest.length > 0 || fourth === '') return { kind: 'not-found' };
        const name = decodeSegment(fourth);
        if (name === undefined) return { kind: 'bad-encoding', location: 'path.name', value: fourth };
        return { kind: 'th-server', name };
      }
      return { kind: 'not-found' };
    }
    default:
      return { kind: 'not-found' };
  }
}
