/**
 * Generators of registry documents for tests and measurements: realistic upstream entries in
 * the registry API's list envelope (varied package types, remotes, ToolHive extensions and
 * several versions per name), built from the real fixtures' shapes.
 */
import type { ServerList, ServerResponse } from '../../lib/formats/index.ts';

const REGISTRY_TYPES = ['npm', 'pypi', 'oci', 'nuget', 'mcpb'] as const;

/** deterministic pseudo-random numbers (mulberry32) */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenerateOptions {
  /** number of entries (server versions) */
  count: number;
  /** versions per server name (default 3) */
  versionsPerName?: number;
  seed?: number;
}

/** `count` entries, sorted by (name, version) like the registry API returns them */
export function generateUpstreamEntries(options: GenerateOptions): ServerResponse[] {
  const random = rng(options.seed ?? 1);
  const perName = options.versionsPerName ?? 3;
  const out: ServerResponse[] = [];
  for (let i = 0; out.length < options.count; i++) {
    const name = `io.github.user${i % 997}/server-${i.toString(36)}`;
    for (let v = 0; v < perName && out.length < options.count; v++) {
      out.push(generateEntry(name, `1.${v}.${Math.floor(random() * 20)}`, v === perName - 1, random));
    }
  }
  return out;
}

function generateEntry(name: string, version: string, isLatest: boolean, random: () => number): ServerResponse {
  const kind = random();
  const registryType = REGISTRY_TYPES[Math.floor(random() * REGISTRY_TYPES.length)] as string;
  const [namespace = '', simple = ''] = name.split('/');
  const identifier = registryType === 'oci' ? `ghcr.io/${name.replace('/', '-')}:${version}` : `@${namespace}/${simple}`;
  const server: ServerResponse['server'] = {
    $schema: 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json',
    name,
    description: `An MCP server number ${Math.floor(random() * 1e6)} that talks to an API and returns data`,
    title: `Server ${simple}`,
    version,
    repository: { url: `https://github.com/${namespace.slice(10)}/${simple}`, source: 'github' },
  };
  if (kind < 0.75) {
    server.packages = [
      {
        registryType,
        identifier,
        ...(registryType === 'oci' ? {} : { version }),
        transport: { type: 'stdio' },
        environmentVariables: [
          { name: 'API_KEY', description: 'API key for the service', isRequired: true, isSecret: true },
          { name: 'API_URL', description: 'Base URL', default: 'https://api.example.com' },
        ],
        packageArguments: [{ type: 'named', name: '--port', value: '8080' }],
      },
    ];
  }
  if (kind >= 0.5) {
    server.remotes = [
      {
        type: random() < 0.5 ? 'sse' : 'streamable-http',
        url: `https://mcp.example.com/${name}`,
        headers: [{ name: 'Authorization', description: 'Bearer token', isRequired: true, isSecret: true }],
      },
    ];
  }
  if (random() < 0.3) {
    const key = server.packages?.[0]?.identifier ?? server.remotes?.[0]?.url ?? 'x';
    server._meta = {
      'io.modelcontextprotocol.registry/publisher-provided': {
        'io.github.stacklok': {
          [key]: {
            status: 'Active',
            tier: random() < 0.5 ? 'Official' : 'Community',
            tags: ['api', random() < 0.5 ? 'database' : 'search'],
            tools: ['query', 'list', 'get'],
            metadata: { stars: Math.floor(random() * 1000), last_updated: '2025-11-15T02:31:08Z' },
          },
        },
      },
    };
  }
  const published = new Date(Date.UTC(2025, 8, 1) + Math.floor(random() * 1e10)).toISOString();
  return {
    server,
    _meta: {
      'io.modelcontextprotocol.registry/official': { status: 'active', publishedAt: published, updatedAt: published, isLatest },
    },
  };
}

export function generateServerList(options: GenerateOptions): ServerList {
  const servers = generateUpstreamEntries(options);
  return { servers, metadata: { count: servers.length } };
}
