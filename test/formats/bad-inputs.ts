/**
 * A corpus of bad registry documents, generated from the real fixtures: each case names what is
 * wrong and what error a reader must give (code, and where: path and server when they apply).
 */
import { readFileSync } from 'node:fs';
import { REAL_THV_UPSTREAM, REAL_TOOLHIVE } from './support.ts';

export interface BadInput {
  name: string;
  bytes: Uint8Array;
  /** the RegistryError code, in strict mode */
  code: string;
  /** the JSON path the error names (undefined: the document as a whole) */
  path?: string;
  /** the server it names */
  server?: string;
  /** a piece of the message that makes it precise */
  message: RegExp;
  /** in lenient mode the document is still read, leaving this many valid entries */
  lenientValid?: number;
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

export function badInputs(): BadInput[] {
  const toolhiveText = readFileSync(REAL_TOOLHIVE, 'utf8');
  const toolhive = JSON.parse(toolhiveText) as { servers: Record<string, Record<string, unknown>>; remote_servers: Record<string, unknown> };
  const upstream = JSON.parse(readFileSync(REAL_THV_UPSTREAM, 'utf8')) as { data: { servers: Record<string, unknown>[] } };
  const total = Object.keys(toolhive.servers).length + Object.keys(toolhive.remote_servers).length;
  const clone = <T>(v: T): T => structuredClone(v);

  const cases: BadInput[] = [];

  cases.push({ name: 'not JSON at all', bytes: utf8('registry:\n  servers: []\n'), code: 'invalid_json', message: /not valid JSON/ });
  cases.push({ name: 'empty file', bytes: utf8('  \n'), code: 'invalid_json', message: /empty document/ });
  cases.push({
    name: 'truncated JSON (the real registry cut in half)',
    bytes: utf8(toolhiveText.slice(0, Math.floor(toolhiveText.length / 2))),
    code: 'invalid_json',
    message: /truncated JSON.*line \d+ column \d+/,
  });
  cases.push({ name: 'trailing garbage', bytes: utf8('{"servers":{}} x'), code: 'invalid_json', message: /line 1 column 16/ });
  cases.push({
    name: 'wrong format: JSON, but neither registry format',
    bytes: utf8(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', data: {} })),
    code: 'unknown_format',
    message: /found an object with keys "apiVersion", "kind", "data"/,
  });
  cases.push({ name: 'wrong format: a JSON array of numbers', bytes: utf8('[1,2,3]'), code: 'unknown_format', message: /an array of 3 whose first item is number 1/ });
  cases.push({ name: 'wrong format: a string', bytes: utf8('"registry"'), code: 'unknown_format', message: /found "registry"/ });

  const wrongTypes = clone(toolhive);
  (wrongTypes.servers.github as Record<string, unknown>).tools = 'create_issue';
  cases.push({
    name: 'wrong types: tools is a string',
    bytes: utf8(JSON.stringify(wrongTypes)),
    code: 'invalid_document',
    path: 'servers.github.tools',
    server: 'github',
    message: /expected array, found "create_issue"/,
    lenientValid: total - 1,
  });
  const wrongPort = clone(toolhive);
  (wrongPort.servers.fetch as Record<string, unknown>).target_port = '8080';
  cases.push({
    name: 'wrong types: target_port is a string',
    bytes: utf8(JSON.stringify(wrongPort)),
    code: 'invalid_document',
    path: 'servers.fetch.target_port',
    server: 'fetch',
    message: /expected number, found "8080"/,
    lenientValid: total - 1,
  });
  const wrongEnv = clone(toolhive);
  ((wrongEnv.servers.github as { env_vars: Record<string, unknown>[] }).env_vars[1] as Record<string, unknown>).required = 'yes';
  cases.push({
    name: 'wrong types deep inside: env_vars[1].required is a string',
    bytes: utf8(JSON.stringify(wrongEnv)),
    code: 'invalid_document',
    path: 'servers.github.env_vars[1].required',
    server: 'github',
    message: /expected boolean, found "yes"/,
    lenientValid: total - 1,
  });
  const upstreamWrong = clone(upstream);
  (upstreamWrong.data.servers[2] as Record<string, unknown>).version = 3;
  cases.push({
    name: 'wrong types in an upstream file: version is a number',
    bytes: utf8(JSON.stringify(upstreamWrong)),
    code: 'invalid_document',
    path: 'data.servers[2].version',
    server: 'io.github.stacklok/arxiv-mcp-server',
    message: /expected string, found number 3/,
    lenientValid: 11,
  });
  const badTransport = clone(upstream);
  ((badTransport.data.servers[0] as { packages: { transport: Record<string, unknown> }[] }).packages[0] as { transport: Record<string, unknown> }).transport = { type: 'websocket' };
  cases.push({
    name: 'an unknown transport type',
    bytes: utf8(JSON.stringify(badTransport)),
    code: 'invalid_document',
    path: 'data.servers[0].packages[0].transport.type',
    server: 'io.github.stacklok/adb-mysql-mcp-server',
    message: /"websocket" is not one of "stdio", "streamable-http", "sse"/,
    lenientValid: 11,
  });

  const missingName = clone(upstream);
  delete (missingName.data.servers[4] as Record<string, unknown>).name;
  cases.push({
    name: 'missing name (upstream)',
    bytes: utf8(JSON.stringify(missingName)),
    code: 'invalid_document',
    path: 'data.servers[4].name',
    message: /required field is missing \(expected string\)/,
    lenientValid: 11,
  });
  const badName = clone(upstream);
  (badName.data.servers[5] as Record<string, unknown>).name = 'no-namespace';
  cases.push({
    name: 'a name without a namespace',
    bytes: utf8(JSON.stringify(badName)),
    code: 'invalid_document',
    path: 'data.servers[5].name',
    server: 'no-namespace',
    message: /reverse-DNS namespace.*found "no-namespace"/,
    lenientValid: 11,
  });
  cases.push({
    name: 'missing name (an empty ToolHive key)',
    bytes: utf8(toolhiveText.replace('"adb-mysql-mcp-server": {', '"": {')),
    code: 'invalid_document',
    path: 'servers[""]',
    message: /must not be empty/,
    lenientValid: total - 1,
  });
  const missingImage = clone(toolhive);
  delete (missingImage.servers.github as Record<string, unknown>).image;
  cases.push({
    name: 'missing image',
    bytes: utf8(JSON.stringify(missingImage)),
    code: 'invalid_document',
    path: 'servers.github.image',
    server: 'github',
    message: /required field is missing/,
    lenientValid: total - 1,
  });

  cases.push({
    name: 'duplicate names: the same key twice in servers',
    bytes: utf8(toolhiveText.replace('"servers": {', '"servers": {\n    "github": {"image": "ghcr.io/evil/github:latest", "description": "an impostor"},')),
    code: 'duplicate_name',
    path: 'servers.github',
    server: 'github',
    message: /defined more than once in servers \(again at line \d+ column \d+\)/,
    lenientValid: total - 1,
  });
  const crossDup = clone(toolhive);
  crossDup.remote_servers.github = { url: 'https://api.githubcopilot.com/mcp/', description: 'the remote one', transport: 'streamable-http' };
  cases.push({
    name: 'duplicate names: one name in servers and remote_servers',
    bytes: utf8(JSON.stringify(crossDup)),
    code: 'duplicate_name',
    path: 'servers.github',
    server: 'github',
    message: /defined 2 times \(servers\.github, remote_servers\.github\)/,
    lenientValid: total - 1,
  });
  const upstreamDup = clone(upstream);
  upstreamDup.data.servers.push(clone(upstreamDup.data.servers[3] as Record<string, unknown>));
  cases.push({
    name: 'duplicate names: the same name and version twice (upstream)',
    bytes: utf8(JSON.stringify(upstreamDup)),
    code: 'duplicate_name',
    path: 'data.servers[3]',
    server: 'io.github.stacklok/aws-api',
    message: /version "1\.0\.0" of "io\.github\.stacklok\/aws-api" appears 2 times \(data\.servers\[3\], data\.servers\[12\]\)/,
    lenientValid: 11,
  });
  cases.push({
    name: 'duplicate top-level keys',
    bytes: utf8('{"servers": {}, "servers": {"a": {"image": "x", "description": "d"}}}'),
    code: 'duplicate_name',
    path: 'servers',
    message: /appears twice in the same object/,
  });

  const huge = clone(toolhive);
  (huge.servers.github as Record<string, unknown>).description = 'x'.repeat(10 * 1024 * 1024);
  cases.push({
    name: '10 MB description',
    bytes: utf8(JSON.stringify(huge)),
    code: 'invalid_document',
    path: 'servers.github.description',
    server: 'github',
    message: /too long: 10485760 characters, at most 4096/,
    lenientValid: total - 1,
  });
  const hugeUp = clone(upstream);
  (hugeUp.data.servers[0] as Record<string, unknown>).description = 'y'.repeat(10 * 1024 * 1024);
  cases.push({
    name: '10 MB description (upstream)',
    bytes: utf8(JSON.stringify(hugeUp)),
    code: 'invalid_document',
    path: 'data.servers[0].description',
    server: 'io.github.stacklok/adb-mysql-mcp-server',
    message: /too long: 10485760 characters/,
    lenientValid: 11,
  });

  const deep = clone(upstream);
  const deepText = JSON.stringify(deep).replace('"_meta":{', `"_meta":{"x":${'{"a":'.repeat(10000)}1${'}'.repeat(10000)},`);
  cases.push({
    name: 'deeply nested _meta (10 000 levels)',
    bytes: utf8(deepText),
    code: 'too_deep',
    path: `data.servers[0]._meta.x${'.a'.repeat(59)}`,
    message: /nesting deeper than 64 levels at line 1 column \d+/,
  });
  cases.push({ name: '10 000 nested arrays', bytes: utf8(`${'['.repeat(10000)}${']'.repeat(10000)}`), code: 'too_deep', path: '[0]'.repeat(64), message: /nesting deeper than 64 levels at line 1 column 65/ });

  const latin1 = Buffer.from(toolhiveText.replace('Official MCP server for AnalyticDB', 'Offiziell f\u00fcr AnalyticDB'), 'latin1');
  cases.push({ name: 'non-UTF-8 bytes (Latin-1 encoded)', bytes: latin1, code: 'invalid_json', message: /not UTF-8: invalid byte 0xfc at byte offset \d+/ });
  cases.push({ name: 'non-UTF-8 bytes (a lone continuation byte)', bytes: Buffer.from([0x7b, 0x22, 0x80, 0x22, 0x3a, 0x31, 0x7d]), code: 'invalid_json', message: /invalid byte 0x80 at byte offset 2/ });
  cases.push({ name: 'non-UTF-8 bytes (UTF-16 with a byte order mark)', bytes: Buffer.from('\ufeff{"servers":{}}', 'utf16le'), code: 'invalid_json', message: /not UTF-8: invalid byte 0xff at byte offset 0/ });

  return cases;
}
