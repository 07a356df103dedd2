/**
 * Deterministic generators of realistic registry data for benchmarks and large-input tests,
 * shaped after the real fixtures (../../../shared/fixtures/real/: ToolHive's registry.json and
 * ToolHive's upstream server.json documents) and the official registry API's list entries.
 *
 * - Same seed and arguments, same output (a small PRNG, no clock, no Math.random).
 * - Fast and light: entries are produced one at a time (`iterate…`), and the `…Json` helpers
 *   serialise straight to bytes without holding every object, so a 100k-version document
 *   costs its bytes plus one entry.
 *
 * Upstream (`ServerResponse`, what `GET /v0.1/servers` lists): `n` is the number of entries,
 * i.e. server *versions*; names get 1 to 2·v−1 versions (v = `versionsPerServer`, default 3,
 * average ≈ v), published in ascending semver order over a year, the last one `isLatest`.
 * Roughly: 70 % packages only (npm, pypi, oci), 20 % remotes only, 10 % both; 30 % carry
 * ToolHive's publisher-provided extension; statuses mostly active, some deprecated, a few
 * deleted. About 1.1 KB of JSON per entry (the official API's are 1–3 KB); 100k versions are
 * 111 MB, generated in about a second.
 *
 * ToolHive (`registry.json`): `n` entries, 80 % container images in `servers` and 20 % remote
 * servers in `remote_servers`, with tools, tool definitions (about two thirds of the images,
 * with input schemas), env vars, permissions, provenance and tags; image entries average
 * ≈ 12 KB like the real registry's (1.6 MB for 102 entries); 1k entries are 9.5 MB.
 */
import type { ServerResponse } from '../../lib/formats/upstream-schema.ts';
import type { ImageMetadata, RemoteServerMetadata, ToolhiveRegistry } from '../../lib/formats/toolhive-schema.ts';

// ---------------------------------------------------------------------------------------------
// PRNG: sfc32 seeded through splitmix32, enough for data generation
// ---------------------------------------------------------------------------------------------

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** uniform in [0, 1) */
  next(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t / 4294967296;
  }

  /** integer in [min, max] */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** k distinct items (k ≤ items.length), in pick order */
  sample<T>(items: readonly T[], k: number): T[] {
    const out: T[] = [];
    const used = new Set<number>();
    while (out.length < Math.min(k, items.length)) {
      const i = Math.floor(this.next() * items.length);
      if (!used.has(i)) {
        used.add(i);
        out.push(items[i]!);
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// vocabulary
// ---------------------------------------------------------------------------------------------

const SERVICES = [
  'github', 'gitlab', 'jira', 'confluence', 'slack', 'notion', 'postgres', 'mysql', 'mongodb', 'redis', 'elasticsearch',
  'kubernetes', 'docker', 'terraform', 'aws', 'azure', 'gcp', 'cloudflare', 'stripe', 'shopify', 'salesforce', 'hubspot',
  'zendesk', 'linear', 'asana', 'trello', 'figma', 'sentry', 'datadog', 'grafana', 'prometheus', 'snowflake', 'bigquery',
  'airtable', 'dropbox', 'gdrive', 'gmail', 'calendar', 'twilio', 'sendgrid', 'openapi', 'graphql', 'kafka', 'rabbitmq',
  'vault', 'okta', 'auth0', 'supabase', 'firebase', 'vercel', 'netlify', 'heroku', 'pagerduty', 'opsgenie', 'splunk',
  'arxiv', 'wikipedia', 'youtube', 'spotify', 'weather', 'maps', 'browser', 'filesystem', 'sqlite', 'duckdb', 'neo4j',
] as const;
const NOUNS = [
  'issues', 'pull requests', 'repositories', 'pages', 'documents', 'tables', 'queries', 'dashboards', 'alerts', 'incidents',
  'deployments', 'clusters', 'buckets', 'invoices', 'customers', 'tickets', 'messages', 'channels', 'files', 'records',
  'metrics', 'logs', 'traces', 'secrets', 'users', 'projects', 'workflows', 'pipelines', 'releases', 'schemas',
] as const;
const VERBS = ['list', 'get', 'create', 'update', 'delete', 'search', 'query', 'describe', 'run', 'export', 'sync', 'analyze'] as const;
const ADJECTIVES = ['secure', 'read-only', 'fast', 'typed', 'unified', 'lightweight', 'official', 'community', 'self-hosted', 'managed'] as const;
const OWNERS = [
  'acme', 'stacklok', 'octo-labs', 'datakit', 'cloudcraft', 'mcp-tools', 'devhub', 'opsworks', 'nimbus', 'bluefin', 'quartz',
  'lumen', 'atlas-ai', 'kestrel', 'pinecone-labs', 'rivet', 'sundial', 'tandem', 'vectorly', 'zephyr',
] as const;
const DOMAINS = ['com.acme', 'io.nimbus', 'dev.quartz', 'ai.lumen', 'com.datakit', 'org.opsworks', 'app.tandem', 'net.rivet'] as const;
const TAGS = [
  'database', 'sql', 'analytics', 'devops', 'ci-cd', 'monitoring', 'observability', 'security', 'cloud', 'kubernetes',
  'productivity', 'documentation', 'search', 'ai', 'llm', 'version-control', 'project-management', 'collaboration',
  'communication', 'storage', 'api', 'automation', 'testing', 'data-warehouse', 'remote', 'oauth', 'payments', 'crm',
] as const;
const ENV_PURPOSES = [
  ['API_KEY', 'API key for authentication', true],
  ['API_TOKEN', 'Access token used to call the API', true],
  ['BASE_URL', 'Base URL of the API endpoint', false],
  ['HOST', 'Host address of the server', false],
  ['PORT', 'Port number to connect to', false],
  ['USER', 'User name for authentication', false],
  ['PASSWORD', 'Password for authentication', true],
  ['DATABASE', 'Database name to connect to', false],
  ['REGION', 'Region to operate in', false],
  ['READ_ONLY', "When set to 'true', restricts the server to read-only operations", false],
  ['LOG_LEVEL', 'Logging verbosity (debug, info, warn, error)', false],
  ['PROJECT_ID', 'Default project identifier', false],
] as const;
const PROPERTY_NAMES = ['query', 'id', 'name', 'limit', 'cursor', 'project', 'owner', 'repo', 'path', 'body', 'title', 'state', 'labels', 'since', 'format'] as const;
const PROPERTY_TYPES = ['string', 'string', 'string', 'integer', 'boolean', 'array'] as const;
const TOOL_SENTENCES = [
  'Returns a paginated list; pass the cursor from a previous call to continue where it stopped.',
  'Requires write permission on the target and fails with a clear error otherwise.',
  'Results are sorted by most recent first and include the identifiers needed by follow-up calls.',
  'Use this before making changes to confirm the current state of the item.',
  'Large results are truncated to the configured limit; narrow the query to see more.',
  'The operation is idempotent: repeating it with the same arguments has no further effect.',
  'Only items visible to the authenticated account are returned.',
] as const;
const PROPERTY_NOTES = [
  'Optional; defaults to the value configured for the server.',
  'Must match an existing item, otherwise the call fails.',
  'Accepts the same syntax as the web interface.',
  'Case-insensitive.',
  'Leave empty to include everything.',
] as const;

const BASE_TIME = Date.UTC(2025, 8, 1); // 2025-09-01
const DAY = 86_400_000;

function slugFor(rng: Rng, index: number): string {
  return `${rng.pick(SERVICES)}-${rng.pick(['mcp', 'mcp-server', 'server', 'tools', 'connector', 'bridge'])}-${index.toString(36)}`;
}

function title(slug: string): string {
  return slug
    .split('-')
    .slice(0, -1)
    .map((w) => (w === 'mcp' ? 'MCP' : w[0]!.toUpperCase() + w.slice(1)))
    .join(' ');
}

function description(rng: Rng, service: string): string {
  const forms = [
    () => `MCP server for ${service}: ${rng.pick(VERBS)} and ${rng.pick(VERBS)} ${rng.pick(NOUNS)}`,
    () => `Provides ${rng.pick(ADJECTIVES)} access to ${service} ${rng.pick(NOUNS)} and ${rng.pick(NOUNS)}`,
    () => `Official MCP server for ${service} ${rng.pick(NOUNS)}`,
    () => `Interact with ${service} ${rng.pick(NOUNS)} from any MCP client`,
  ];
  return rng.pick(forms)();
}

/** RFC 3339 with microseconds, as the official registry writes them */
function timestamp(rng: Rng, ms: number): string {
  return new Date(ms).toISOString().replace('Z', `${String(rng.int(0, 999)).padStart(3, '0')}Z`);
}

function toolNames(rng: Rng, count: number): string[] {
  const names = new Set<string>();
  while (names.size < count) names.add(`${rng.pick(VERBS)}_${rng.pick(NOUNS).replace(' ', '_')}`);
  return [...names];
}

function envVars(rng: Rng, prefix: string, count: number) {
  return rng.sample(ENV_PURPOSES, count).map(([suffix, text, secret]) => ({ name: `${prefix}_${suffix}`, description: text, required: rng.chance(0.5), ...(secret ? { secret: true } : {}) }));
}

// ---------------------------------------------------------------------------------------------
// upstream
// ---------------------------------------------------------------------------------------------

export interface UpstreamOptions {
  seed?: number;
  /** average versions per server name (default 3) */
  versionsPerServer?: number;
}

const PUBLISHER_PROVIDED = 'io.modelcontextprotocol.registry/publisher-provided';
const OFFICIAL = 'io.modelcontextprotocol.registry/official';

function nextVersion(rng: Rng, [major, minor, patch]: [number, number, number]): [number, number, number] {
  const roll = rng.next();
  if (roll < 0.05) return [major + 1, 0, 0];
  if (roll < 0.3) return [major, minor + 1, 0];
  return [major, minor, patch + rng.int(1, 3)];
}

function upstreamPackage(rng: Rng, slug: string, version: string, prefix: string) {
  const registryType = rng.pick(['npm', 'npm', 'pypi', 'oci'] as const);
  const identifier =
    registryType === 'npm' ? `@${rng.pick(OWNERS)}/${slug}` : registryType === 'pypi' ? slug.replace(/-/g, '_') : `ghcr.io/${rng.pick(OWNERS)}/${slug}:${version}`;
  const http = registryType === 'oci' && rng.chance(0.4);
  const pkg: Record<string, unknown> = {
    registryType,
    identifier,
    ...(registryType === 'oci' ? {} : { version }),
    ...(registryType === 'npm' ? { runtimeHint: 'npx' } : registryType === 'pypi' ? { runtimeHint: 'uvx' } : {}),
    transport: http ? { type: 'streamable-http', url: `http://localhost:${rng.pick([3000, 8000, 8080])}/mcp` } : { type: 'stdio' },
    environmentVariables: envVars(rng, prefix, rng.int(0, 5)).map((e) => ({
      name: e.name,
      description: e.description,
      ...(e.required ? { isRequired: true } : {}),
      ...(e.secret ? { isSecret: true } : {}),
    })),
  };
  if (rng.chance(0.3)) pkg.packageArguments = [{ type: 'named', name: '--transport', value: 'stdio', description: 'Transport to use' }];
  if (rng.chance(0.2)) pkg.runtimeArguments = [{ type: 'named', name: '--quiet', description: 'Suppress installer output' }];
  return { pkg, identifier };
}

function upstreamRemote(rng: Rng, slug: string) {
  const host = `${slug.split('-')[0]}.${rng.pick(['example.com', 'example.dev', 'mcp.example.net'])}`;
  return {
    type: rng.pick(['streamable-http', 'streamable-http', 'sse'] as const),
    url: `https://${host}/${rng.pick(['mcp', 'v1/mcp', 'sse'])}`,
    ...(rng.chance(0.5)
      ? { headers: [{ name: rng.pick(['Authorization', 'X-API-Key']), description: 'Credential sent with every request', isRequired: true, isSecret: true }] }
      : {}),
  };
}

/** Entries one at a time: `n` server versions in total. */
export function* iterateUpstreamServers(n: number, options: UpstreamOptions = {}): Generator<ServerResponse> {
  const rng = new Rng(options.seed ?? 1);
  const average = Math.max(1, options.versionsPerServer ?? 3);
  let produced = 0;
  for (let index = 0; produced < n; index++) {
    const versions = Math.min(n - produced, rng.int(1, 2 * average - 1));
    const slug = slugFor(rng, index);
    const service = slug.split('-')[0]!;
    const name = rng.chance(0.8) ? `io.github.${rng.pick(OWNERS)}/${slug}` : `${rng.pick(DOMAINS)}/${slug}`;
    const kind = rng.next();
    const hasPackages = kind < 0.8;
    const hasRemotes = kind >= 0.7;
    const hasRepo = rng.chance(0.85);
    const withExtension = rng.chance(0.35);
    const prefix = service.toUpperCase();
    const serviceTags = rng.sample(TAGS, rng.int(2, 5));
    const desc = description(rng, service);
    const serverTitle = rng.chance(0.6) ? title(slug) : undefined;
    let semver: [number, number, number] = [rng.int(0, 1), rng.int(0, 5), rng.int(0, 9)];
    let time = BASE_TIME + rng.next() * 300 * DAY;
    for (let v = 0; v < versions; v++, produced++) {
      if (v > 0) {
        semver = nextVersion(rng, semver);
        time += rng.next() * 20 * DAY + 60_000;
      }
      const version = semver.join('.');
      const server: Record<string, unknown> = {
        $schema: rng.chance(0.9)
          ? 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json'
          : 'https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json',
        name,
        description: desc,
        ...(serverTitle ? { title: serverTitle } : {}),
        version,
      };
      if (hasRepo) server.repository = { url: `https://github.com/${name.split('/')[0]!.split('.').pop()}/${slug}`, source: 'github' };
      if (rng.chance(0.2)) server.websiteUrl = `https://${service}.example.com/mcp`;
      if (rng.chance(0.15)) server.icons = [{ src: `https://${service}.example.com/icon.png`, mimeType: 'image/png', sizes: ['48x48'] }];
      const extensionKeys: string[] = [];
      if (hasPackages) {
        const { pkg, identifier } = upstreamPackage(rng, slug, version, prefix);
        server.packages = [pkg];
        extensionKeys.push(identifier);
      }
      if (hasRemotes) {
        const remote = upstreamRemote(rng, slug);
        server.remotes = [remote];
        extensionKeys.push(remote.url);
      }
      if (withExtension && extensionKeys.length > 0) {
        server._meta = {
          [PUBLISHER_PROVIDED]: {
            'io.github.stacklok': {
              [extensionKeys[0]!]: {
                status: 'Active',
                tier: rng.pick(['Official', 'Community']),
                tags: serviceTags,
                tools: toolNames(rng, rng.int(1, 8)),
                metadata: { stars: rng.int(0, 5000), pulls: rng.int(0, 100_000), last_updated: timestamp(rng, time).replace(/\.\d+Z$/, 'Z') },
                ...(rng.chance(0.6) ? { permissions: { network: { outbound: { allow_host: [`.${service}.example.com`], allow_port: [443] } } } } : {}),
              },
            },
          },
        };
      }
      const isLatest = v === versions - 1;
      const roll = rng.next();
      const status = isLatest ? (roll < 0.03 ? 'deleted' : roll < 0.08 ? 'deprecated' : 'active') : roll < 0.15 ? 'deprecated' : 'active';
      const publishedAt = timestamp(rng, time);
      const updatedAt = isLatest && rng.chance(0.7) ? publishedAt : timestamp(rng, time + rng.next() * 30 * DAY);
      yield {
        server: server as ServerResponse['server'],
        _meta: {
          [OFFICIAL]: { status, publishedAt, updatedAt, isLatest, statusChangedAt: status === 'active' ? publishedAt : updatedAt },
        },
      };
    }
  }
}

export function generateUpstreamServers(n: number, options: UpstreamOptions = {}): ServerResponse[] {
  return Array.from(iterateUpstreamServers(n, options));
}

/** `{"servers":[…],"metadata":{"count":n}}` as UTF-8 bytes, built entry by entry. */
export function upstreamListJson(n: number, options: UpstreamOptions = {}): Buffer {
  return Buffer.concat(upstreamListChunks(n, options));
}

/** The same bytes in ~1 MB pieces (for a server that streams them: half the peak memory). */
export function upstreamListChunks(n: number, options: UpstreamOptions = {}): Buffer[] {
  const out = new ByteSink();
  out.write('{"servers":[');
  let first = true;
  for (const entry of iterateUpstreamServers(n, options)) {
    out.write(first ? JSON.stringify(entry) : `,${JSON.stringify(entry)}`);
    first = false;
  }
  out.write(`],"metadata":{"count":${n}}}`);
  return out.finish();
}

/** Collects text as UTF-8 in ~1 MB pieces, so memory stays near the size of the bytes. */
class ByteSink {
  #pending: string[] = [];
  #pendingLength = 0;
  #buffers: Buffer[] = [];

  write(text: string): void {
    this.#pending.push(text);
    this.#pendingLength += text.length;
    if (this.#pendingLength >= 1 << 20) this.#flush();
  }

  #flush(): void {
    this.#buffers.push(Buffer.from(this.#pending.join('')));
    this.#pending = [];
    this.#pendingLength = 0;
  }

  finish(): Buffer[] {
    this.#flush();
    const all = this.#buffers;
    this.#buffers = [];
    return all;
  }
}

// ---------------------------------------------------------------------------------------------
// ToolHive
// ---------------------------------------------------------------------------------------------

export interface ToolhiveOptions {
  seed?: number;
  /** share of remote servers (default 0.2) */
  remoteShare?: number;
}

function toolDefinition(rng: Rng, tool: string) {
  const properties: Record<string, unknown> = {};
  const names = rng.sample(PROPERTY_NAMES, rng.int(1, 8));
  for (const property of names) {
    const type = rng.pick(PROPERTY_TYPES);
    properties[property] = {
      type,
      description: `The ${property} ${rng.pick(['to use', 'to filter by', 'of the item', 'for the request'])}. ${rng.sample(PROPERTY_NOTES, rng.int(1, 2)).join(' ')}`,
      ...(type === 'array' ? { items: { type: 'string' } } : {}),
      ...(type === 'integer' && rng.chance(0.5) ? { default: 30, minimum: 1, maximum: 100 } : {}),
    };
  }
  return {
    name: tool,
    description: `${tool.split('_')[0]![0]!.toUpperCase()}${tool.replace('_', ' ').slice(1)} in the connected account. ${rng
      .sample(TOOL_SENTENCES, rng.int(2, 5))
      .join(' ')}`,
    inputSchema: { type: 'object', properties, ...(rng.chance(0.7) ? { required: [names[0]] } : {}) },
    annotations: rng.chance(0.5) ? {} : { readOnlyHint: tool.startsWith('list') || tool.startsWith('get') || tool.startsWith('search') },
  };
}

function imageEntry(rng: Rng, slug: string, lastUpdated: string): ImageMetadata {
  const service = slug.split('-')[0]!;
  const transport = rng.next() < 0.76 ? 'stdio' : rng.chance(0.75) ? 'streamable-http' : 'sse';
  const tools = toolNames(rng, rng.int(1, 30));
  const version = `${rng.int(0, 3)}.${rng.int(0, 20)}.${rng.int(0, 30)}`;
  const registry = rng.next();
  const image =
    registry < 0.45
      ? `ghcr.io/stacklok/dockyard/${rng.pick(['npx', 'uvx'])}/${slug}:${version}`
      : registry < 0.65
        ? `ghcr.io/${rng.pick(OWNERS)}/${slug}:v${version}`
        : registry < 0.9
          ? `docker.io/${rng.pick(OWNERS)}/${slug}:${version}`
          : `${rng.pick(['public.ecr.aws/awslabs-mcp', 'quay.io/mcp', 'mcr.microsoft.com/mcp'])}/${slug}:${version}`;
  const entry: ImageMetadata = {
    title: title(slug),
    description: description(rng, service),
    tier: rng.chance(0.67) ? 'Official' : 'Community',
    status: rng.chance(0.98) ? 'Active' : 'Deprecated',
    transport,
    tools,
    metadata: { stars: rng.int(0, 20_000), ...(rng.chance(0.5) ? { pulls: rng.int(0, 500_000) } : {}), last_updated: lastUpdated },
    repository_url: `https://github.com/${rng.pick(OWNERS)}/${slug}`,
    tags: rng.sample(TAGS, rng.int(2, 8)),
    image,
  };
  if (rng.chance(0.65)) entry.tool_definitions = tools.map((tool) => toolDefinition(rng, tool));
  if (rng.chance(0.96)) {
    entry.permissions = {
      network: {
        outbound: rng.chance(0.4) ? { insecure_allow_all: true } : { allow_host: [`.${service}.com`, `api.${service}.com`].slice(0, rng.int(1, 2)), allow_port: [443] },
      },
    };
  }
  if (rng.chance(0.82)) entry.env_vars = envVars(rng, service.toUpperCase(), rng.int(1, 6));
  if (rng.chance(0.47)) {
    entry.provenance = {
      sigstore_url: 'tuf-repo-cdn.sigstore.dev',
      repository_uri: 'https://github.com/stacklok/dockyard',
      signer_identity: '/.github/workflows/build-containers.yml',
      runner_environment: 'github-hosted',
      cert_issuer: 'https://token.actions.githubusercontent.com',
    };
  }
  if (transport !== 'stdio') {
    entry.target_port = rng.pick([3000, 5000, 8000, 8080, 9900]);
    if (rng.chance(0.5)) entry.args = ['--transport', transport, '--port', String(entry.target_port)];
  } else if (rng.chance(0.1)) {
    entry.args = ['stdio'];
  }
  return entry;
}

function remoteEntry(rng: Rng, slug: string, lastUpdated: string): RemoteServerMetadata {
  const service = slug.split('-')[0]!;
  const entry: RemoteServerMetadata = {
    title: `${title(slug)} (Remote)`,
    description: description(rng, service),
    tier: rng.chance(0.7) ? 'Official' : 'Community',
    status: 'Active',
    transport: rng.chance(0.7) ? 'streamable-http' : 'sse',
    tools: toolNames(rng, rng.int(1, 25)),
    metadata: { last_updated: lastUpdated },
    tags: ['remote', ...rng.sample(TAGS, rng.int(2, 7))],
    custom_metadata: { author: rng.pick(OWNERS), homepage: `https://${service}.example.com/mcp` },
    url: `https://mcp.${service}.example.com/${rng.pick(['mcp', 'v1/sse', 'sse'])}`,
  };
  if (rng.chance(0.35)) entry.repository_url = `https://github.com/${rng.pick(OWNERS)}/${slug}`;
  if (rng.chance(0.3)) entry.headers = [{ name: 'Authorization', description: 'Bearer token for the API', required: true, secret: true }];
  if (rng.chance(0.05)) {
    entry.oauth_config = { authorize_url: `https://${service}.example.com/oauth/authorize`, token_url: `https://${service}.example.com/oauth/token`, scopes: ['read', 'write'], use_pkce: true };
  }
  return entry;
}

/** ToolHive entries one at a time: `[kind, key, entry]`, keys unique across both maps. */
export function* iterateToolhiveEntries(
  n: number,
  options: ToolhiveOptions = {},
): Generator<['image', string, ImageMetadata] | ['remote', string, RemoteServerMetadata]> {
  const rng = new Rng(options.seed ?? 1);
  const remoteShare = options.remoteShare ?? 0.2;
  for (let index = 0; index < n; index++) {
    const slug = slugFor(rng, index);
    const lastUpdated = new Date(BASE_TIME + rng.next() * 365 * DAY).toISOString().replace(/\.\d+Z$/, 'Z');
    if (rng.chance(remoteShare)) yield ['remote', `${slug}-remote`, remoteEntry(rng, slug, lastUpdated)];
    else yield ['image', slug, imageEntry(rng, slug, lastUpdated)];
  }
}

const REGISTRY_HEAD = {
  $schema: 'https://raw.githubusercontent.com/stacklok/toolhive/main/pkg/registry/data/toolhive-legacy-registry.schema.json',
  version: '1.0.0',
  last_updated: '2026-09-01T00:00:00Z',
};

export function generateToolhiveRegistry(n: number, options: ToolhiveOptions = {}): ToolhiveRegistry {
  const servers: Record<string, ImageMetadata> = {};
  const remote_servers: Record<string, RemoteServerMetadata> = {};
  for (const [kind, key, entry] of iterateToolhiveEntries(n, options)) {
    if (kind === 'image') servers[key] = entry;
    else remote_servers[key] = entry;
  }
  return { ...REGISTRY_HEAD, servers, remote_servers };
}

/** The registry.json as UTF-8 bytes, built entry by entry. */
export function toolhiveRegistryJson(n: number, options: ToolhiveOptions = {}): Buffer {
  return Buffer.concat(toolhiveRegistryChunks(n, options));
}

/** The same bytes in ~1 MB pieces. */
export function toolhiveRegistryChunks(n: number, options: ToolhiveOptions = {}): Buffer[] {
  // two passes over the same deterministic sequence: images first, then remotes
  const out = new ByteSink();
  out.write(`${JSON.stringify(REGISTRY_HEAD).slice(0, -1)},"servers":{`);
  for (const wanted of ['image', 'remote'] as const) {
    if (wanted === 'remote') out.write('},"remote_servers":{');
    let first = true;
    for (const [kind, key, entry] of iterateToolhiveEntries(n, options)) {
      if (kind !== wanted) continue;
      out.write(`${first ? '' : ','}${JSON.stringify(key)}:${JSON.stringify(entry)}`);
      first = false;
    }
  }
  out.write('}}');
  return out.finish();
}
