import type { Route } from './router.ts';

/**
 * The route template of a matched route (`http.route`), and the registry it names: what
 * metrics are labelled with instead of the raw path, so that 1,000 server names make one
 * series, not 1,000. Pure.
 */
export function routeTemplate(route: Route): string {
  switch (route.kind) {
    case 'healthz':
      return '/healthz';
    case 'readyz':
      return '/readyz';
    case 'openapi':
      return '/openapi.json';
    case 'events':
      return '/events';
    case 'up-list':
    case 'up-versions':
    case 'up-version':
    case 'up-ping':
    case 'up-health':
    case 'up-publish': {
      const base = route.registry === 'default' ? `/${route.api}` : `/registries/{namespace}/{name}/${route.api}`;
      const tail = { 'up-list': '/servers', 'up-versions': '/servers/{serverName}/versions', 'up-version': '/servers/{serverName}/versions/{version}', 'up-ping': '/ping', 'up-health': '/health', 'up-publish': '/publish' }[route.kind];
      return base + tail;
    }
    case 'up-status': {
      const base = route.registry === 'default' ? `/${route.api}` : `/registries/{namespace}/{name}/${route.api}`;
      return base + (route.of === 'server' ? '/servers/{serverName}/status' : '/servers/{serverName}/versions/{version}/status');
    }
    case 'th-registries':
      return '/api/v1/registries';
    case 'th-registry':
      return '/api/v1/registries/{namespace}/{name}';
    case 'th-servers':
      return '/api/v1/servers';
    case 'th-server':
      return '/api/v1/servers/{name}';
    case 'th-search':
      return '/api/v1/search';
    case 'registry-file':
      return '/registries/{namespace}/{name}/registry.json';
    // unmatched paths share one template (the semantic conventions leave http.route unset;
    // a fixed value keeps the series countable)
    case 'bad-registry':
    case 'bad-encoding':
    case 'not-found':
      return '_unmatched';
  }
}

/** `namespace/name` of the registry a route names, or undefined (`default` is the default registry) */
export function routeRegistry(route: Route, defaultRegistry: string | undefined): string | undefined {
  if ('registry' in route) return route.registry === 'default' ? defaultRegistry : `${route.registry.namespace}/${route.registry.name}`;
  return undefined;
}
