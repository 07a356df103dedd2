/** Small ToolHive registry documents for tests: one stdio image server per name. */
export function registryJson(names: string[]): string {
  const servers = Object.fromEntries(names.map((n) => [n, { description: `${n} server`, image: `ghcr.io/example/${n}:1.0.0`, transport: 'stdio', tier: 'Community', status: 'Active', tools: ['t'] }]));
  return JSON.stringify({ version: '1.0.0', last_updated: '2026-03-01T00:00:00Z', servers, remote_servers: {} });
}
