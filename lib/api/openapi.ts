import { z } from 'zod';
import type { Reply } from './context.ts';
import { PreparedResponse } from './prepared.ts';
import * as S from './schemas.ts';

/**
 * GET /openapi.json: an OpenAPI 3.1 document generated from the zod schemas (schemas.ts),
 * built on the first request (this module, and zod with it, is loaded only then).
 */

type Json = Record<string, unknown>;

function parameters(query: z.ZodObject): Json[] {
  const json = z.toJSONSchema(query, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, Json & { description?: string }>; required?: string[] };
  return Object.entries(json.properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: 'query', required: json.required?.includes(name) === true, ...(description ? { description } : {}), schema: rest };
  });
}

const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

export function buildOpenApi(): Json {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries({
    ServerResponse: S.ServerResponse,
    ServerList: S.ServerList,
    Problem: S.Problem,
    RegistryInfo: S.RegistryInfo,
    RegistryList: S.RegistryList,
    ToolhiveServer: S.ToolhiveServer,
    ToolhiveServerList: S.ToolhiveServerList,
    UpstreamServerList: S.UpstreamServerList,
    SearchResult: S.SearchResult,
    SearchResults: S.SearchResults,
  })) {
    registry.add(schema, { id });
  }
  const components = z.toJSONSchema(registry, { io: 'output', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Json> };
  for (const s of Object.values(components.schemas)) delete s.$schema;

  const serverName = { name: 'serverName', in: 'path', required: true, description: 'URL-encoded server name (`/` as `%2F`)', schema: { type: 'string' } };
  const version = { name: 'version', in: 'path', required: true, description: 'an exact version (`+` as `%2B`) or `latest`', schema: { type: 'string' } };
  const includeDeleted = { name: 'include_deleted', in: 'query', required: false, schema: { type: 'boolean', default: false } };
  const ns = { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } };
  const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };

  const paths: Json = {};
  for (const prefix of ['/registries/{namespace}/{name}', '']) {
    const regParams = prefix ? [ns, name] : [];
    const which = prefix ? 'of the registry' : 'of the default registry (MCPREG_DEFAULT_REGISTRY)';
    for (const api of ['v0.1', 'v0']) {
      const base = `${prefix}/${api}`;
      paths[`${base}/servers`] = {
        get: {
          summary: `List server versions ${which}`,
          description: 'Keyset pagination by (name, version); one row per version. `/v0` and `/v0.1` behave identically.',
          parameters: [...regParams, ...parameters(S.ListQuery)],
          responses: { 200: { description: 'a page', content: json('ServerList') }, 400: problem('bad updated_since'), 404: problem('registry not found'), 422: problem('invalid parameter') },
        },
      };
      paths[`${base}/servers/{serverName}/versions`] = {
        get: {
          summary: `All versions of a server ${which}, newest published first`,
          parameters: [...regParams, serverName, includeDeleted],
          responses: { 200: { description: 'versions (not paginated)', content: json('ServerList') }, 404: problem('Server not found'), 422: problem('invalid include_deleted') },
        },
      };
      paths[`${base}/servers/{serverName}/versions/{version}`] = {
        get: {
          summary: `One version of a server ${which}`,
          parameters: [...regParams, serverName, version, includeDeleted],
          responses: { 200: { description: 'the version', content: json('ServerResponse') }, 404: problem('Server not found'), 422: problem('invalid include_deleted') },
        },
      };
    }
  }
  paths['/registries/{namespace}/{name}/registry.json'] = {
    get: {
      summary: 'The registry as a file: ToolHive upstream file envelope (latest visible version of each server), or with ?format=toolhive its ToolHive registry.json',
      parameters: [ns, name, { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['upstream', 'toolhive'], default: 'upstream' } }],
      responses: {
        200: { description: 'the registry file', content: { 'application/json': { schema: { type: 'object' } } } },
        304: { description: 'not modified (If-None-Match)' },
        400: problem('bad format'),
        401: problem('no or invalid token'),
        403: problem('not allowed'),
        404: problem('Registry not found'),
      },
    },
  };
  paths['/api/v1/registries'] = {
    get: { summary: 'Registries the caller may read', responses: { 200: { description: 'registries', content: json('RegistryList') }, 401: problem('no or invalid token') } },
  };
  paths['/api/v1/registries/{namespace}/{name}'] = {
    get: { summary: 'One registry', parameters: [ns, name], responses: { 200: { description: 'the registry', content: json('RegistryInfo') }, 403: problem('not allowed'), 404: problem('Registry not found') } },
  };
  paths['/api/v1/servers'] = {
    get: {
      summary: 'Latest servers across readable registries (ToolHive format; upstream with ?format=upstream or Accept: application/json; format=upstream)',
      parameters: parameters(S.ServersQuery),
      responses: {
        200: { description: 'servers', content: { 'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/ToolhiveServerList' }, { $ref: '#/components/schemas/UpstreamServerList' }] } } } },
        400: problem('bad filter'),
        403: problem('a registry filter names a registry the caller may not read'),
      },
    },
  };
  paths['/api/v1/servers/{name}'] = {
    get: {
      summary: 'One server by name (ToolHive key or upstream name)',
      parameters: [{ ...name, description: 'URL-encoded' }, ...parameters(S.ServersQuery).filter((p) => p.name === 'registry' || p.name === 'format')],
      responses: {
        200: { description: 'the server', content: { 'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/ToolhiveServer' }, { $ref: '#/components/schemas/ServerResponse' }] } } } },
        400: problem('bad registry or format, or invalid percent-encoding in the name'),
        404: problem('Server not found'),
        409: problem('the name exists in several registries; `candidates` lists them'),
      },
    },
  };
  paths['/api/v1/search'] = {
    get: {
      summary: 'Relevance-ranked full-text search over the latest servers of the readable registries',
      description: 'Each hit names its registry and score; ranked hits are paged with limit and offset. Filters as on /api/v1/servers.',
      parameters: parameters(S.SearchQuery),
      responses: { 200: { description: 'hits, best first', content: json('SearchResults') }, 400: problem('missing q or a bad parameter'), 401: problem('no or invalid token'), 403: problem('a registry filter names a registry the caller may not read') },
    },
  };
  paths['/healthz'] = { get: { summary: 'Liveness', responses: { 200: { description: 'alive' } } } };
  paths['/readyz'] = { get: { summary: 'Readiness: the snapshot store is configured and reachable', responses: { 200: { description: 'ready' }, 503: problem('store unreachable') } } };
  paths['/events'] = {
    post: {
      summary: 'CloudEvent io.toolhive.registry.snapshot.published (binary or structured; subject namespace/name)',
      description:
        'The sync function’s CloudEvent, as a Knative Trigger delivers it. Structured mode is the body below; binary mode sends the attributes as ce-* headers and the pointer as an application/json body. The CloudEvents SDK validates the attributes (RFC 3986 source, non-empty id).',
      requestBody: {
        required: true,
        content: {
          'application/cloudevents+json': {
            schema: {
              type: 'object',
              required: ['specversion', 'id', 'source', 'type', 'subject'],
              properties: {
                specversion: { const: '1.0' },
                id: { type: 'string', minLength: 1 },
                source: { type: 'string', format: 'uri-reference', minLength: 1 },
                type: { const: 'io.toolhive.registry.snapshot.published' },
                subject: { type: 'string', pattern: `^${S.REGISTRY_REF}$`, description: 'namespace/name of the registry' },
                data: { type: 'object', description: 'the new snapshot pointer; its hash (64 hex digits), when present, drops a loaded snapshot of another hash', properties: { hash: { type: 'string' } } },
              },
            },
          },
        },
      },
      responses: {
        204: { description: 'the registry’s cache was invalidated' },
        400: problem('not a valid event, another type, or a subject that is not namespace/name'),
        401: problem('no or invalid token (MCPREG_EVENTS_TOKEN or MCPREG_EVENTS_OIDC_*)'),
        403: problem('the token is not the sync function’s'),
        503: problem('the token could not be checked now'),
        413: problem('body over the event size limit'),
        415: problem('batched CloudEvents'),
        422: problem('data that the event type does not allow'),
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'knative-mcp-registry query API',
      version: '0.1.0',
      description: 'MCP registry API (compatible with the official /v0.1 API) served from published snapshots, plus a ToolHive-format API across registries.',
    },
    paths,
    components: { schemas: components.schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Kubernetes token (MCPREG_AUTH=kubernetes)' } } },
  };
}

export function openApiReply(): Reply {
  const response = new PreparedResponse(200, 'application/json', Buffer.from(JSON.stringify(buildOpenApi())));
  return { response, cacheControl: 'public, max-age=3600' };
}
