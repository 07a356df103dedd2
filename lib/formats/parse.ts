import type { z } from 'zod';
import { compileFn, INVALID } from 'zod/v4/core';
import { RegistryError, type ErrorWhere } from '../errors.ts';
import { detectShape, describeDocument, shapeFormat, unknownFormat, type DocumentShape, type RegistryFormat } from './detect.ts';
import { checkDepth } from './depth.ts';
import { fastCheck, UnsupportedSchema } from './fast-check.ts';
import { issuesToProblems, type Problem } from './issues.ts';
import { formatPath, joinPath } from './json-path.ts';
import { DEFAULT_MAX_DEPTH, parseJsonText, type DuplicateKey } from './json-text.ts';
import { buildReverseDnsName } from './names.ts';
import { toolhiveToUpstream } from './registry-conversion.ts';
import {
  ImageMetadata,
  RemoteServerMetadata,
  ToolhiveRegistryShell,
  type Group,
  type ToolhiveRegistry,
} from './toolhive-schema.ts';
import {
  SERVER_NAME_PATTERN,
  ServerJson,
  ServerListShell,
  ServerResponse,
  UpstreamRegistryFileShell,
  type UpstreamGroup,
} from './upstream-schema.ts';

/**
 * The entry point from raw bytes (or text, or an already parsed value) to validated entries in
 * both formats. Strict mode throws the first problem as a RegistryError carrying file, JSON
 * path and server name; lenient mode keeps the valid entries and lists the invalid ones.
 * Document-level problems (not JSON, not a registry, a malformed envelope) throw in both modes.
 */

export type ValidationMode = 'strict' | 'lenient';

export interface ParseOptions {
  /** file name, URL path or object key, for messages */
  file?: string | undefined;
  /** skip detection and require this format */
  format?: RegistryFormat | undefined;
  mode: ValidationMode;
  /** size limit in bytes (default 128 MiB) */
  maxBytes?: number | undefined;
  /** nesting limit (default 64) */
  maxDepth?: number | undefined;
}

export interface ParsedDocument {
  format: RegistryFormat;
  shape: DocumentShape;
  /** the ToolHive registry with its valid entries (ToolHive input only) */
  toolhive?: ToolhiveRegistry;
  /** every valid entry in upstream form: as read for upstream input, converted for ToolHive input */
  servers: ServerResponse[];
  /** groups of ToolHive's upstream file envelope, with their valid servers */
  groups?: UpstreamGroup[];
  /** `version` of the registry (ToolHive registry or upstream file envelope), when given */
  version?: string;
  /** `last_updated` / `meta.last_updated`, when given */
  lastUpdated?: string;
  /** problems of entries left out (lenient mode; empty in strict mode) */
  invalid: Problem[];
}

// Each schema's checks are generated on first use (not at import, which the query function's
// cold start would pay; and only for the schemas a document needs), fastest first: the plain
// check of fast-check.ts, which passes the common valid entry, then zod's compiled assert-only
// path. Neither builds output (entries are kept as read, not as parsed). Only what both refuse
// goes through the regular parser, for its issues (`problemsOf`), and that parser has the last
// word: a value the fast paths refuse but the parser accepts is valid.
const SCHEMAS = { server: ServerJson, response: ServerResponse, image: ImageMetadata, remote: RemoteServerMetadata };
type SchemaName = keyof typeof SCHEMAS;
const quickChecks: { [K in SchemaName]?: (value: unknown) => boolean } = {};
const fastPaths: { [K in SchemaName]?: (value: unknown) => unknown } = {};

function quickCheck(name: SchemaName): (value: unknown) => boolean {
  let quick = quickChecks[name];
  if (!quick) {
    try {
      quick = fastCheck(SCHEMAS[name]);
    } catch (e) {
      if (!(e instanceof UnsupportedSchema)) throw e;
      quick = () => false; // a schema it does not model: zod's paths alone
    }
    quickChecks[name] = quick;
  }
  return quick;
}

function fastPath(name: SchemaName): (value: unknown) => unknown {
  let fast = fastPaths[name];
  if (!fast) {
    try {
      fast = compileFn(SCHEMAS[name], { assertOnly: true });
    } catch {
      fast = () => INVALID; // a schema the compiler cannot model (none of ours today): the parser alone
    }
    fastPaths[name] = fast;
  }
  return fast;
}

/** The problems of `value` against a schema, or undefined when it is valid. */
function problemsOf(name: SchemaName, value: unknown, path: () => string, server: () => string | undefined): Problem[] | undefined {
  if (quickCheck(name)(value)) return undefined;
  if (fastPath(name)(value) !== INVALID) return undefined;
  const r = SCHEMAS[name].safeParse(value);
  return r.success ? undefined : issuesToProblems(r.error.issues, path(), value, server());
}

export function parseRegistryDocument(input: Uint8Array | string, options: ParseOptions): ParsedDocument {
  const duplicates: DuplicateKey[] = [];
  const doc = parseJsonText(input, { file: options.file, maxBytes: options.maxBytes, maxDepth: options.maxDepth, duplicates });
  return validate(doc, options, duplicates);
}

/** For a value that is already parsed (its nesting is checked here, without recursion). */
export function parseRegistryValue(doc: unknown, options: ParseOptions): ParsedDocument {
  checkDepth(doc, options.maxDepth ?? DEFAULT_MAX_DEPTH, options.file);
  return validate(doc, options);
}

function validate(doc: unknown, options: ParseOptions, duplicates: DuplicateKey[] = []): ParsedDocument {
  const base: ErrorWhere = options.file === undefined ? {} : { file: options.file };
  const shape = detectShape(doc);
  // duplicate keys are only survivable where they name ToolHive entries; elsewhere the
  // document itself is ambiguous
  const entryDuplicates = duplicates.filter((d) => shape === 'toolhive' && d.parent.length === 1 && (d.parent[0] === 'servers' || d.parent[0] === 'remote_servers'));
  const fatal = duplicates.find((d) => !entryDuplicates.includes(d));
  if (fatal) {
    throw new RegistryError('duplicate_name', `key ${JSON.stringify(fatal.key)} appears twice in the same object (again at ${fatal.at}); JSON keeps only the last, so the document is ambiguous`, {
      where: { ...base, path: formatPath([...fatal.parent, fatal.key]) },
    });
  }
  if (options.format !== undefined && (shape === undefined || shapeFormat(shape) !== options.format)) {
    throw new RegistryError('invalid_document', `expected ${options.format === 'toolhive' ? 'a ToolHive registry (an object with a "servers" map)' : 'an upstream document (a "servers" array, a "data.servers" array or a server.json)'}; found ${shape ? `${shapeFormat(shape) === 'upstream' ? 'an upstream' : 'a ToolHive'} document, ` : ''}${describeDocument(doc)}`, { where: base });
  }
  if (shape === undefined) throw unknownFormat(doc, base);
  const collector = new Collector(options.mode, base);
  const result = shape === 'toolhive' ? validateToolhive(doc, collector, entryDuplicates) : validateUpstream(doc, shape, collector);
  return { ...result, invalid: collector.problems };
}

class Collector {
  readonly problems: Problem[] = [];
  readonly mode: ValidationMode;
  readonly where: ErrorWhere;
  constructor(mode: ValidationMode, where: ErrorWhere) {
    this.mode = mode;
    this.where = where;
  }
  add(problems: Problem[]): void {
    if (problems.length === 0) return;
    if (this.mode === 'strict') throw this.toError(problems[0] as Problem);
    for (const p of problems) this.problems.push(p);
  }
  toError(p: Problem): RegistryError {
    const where: ErrorWhere = { ...this.where, path: p.path };
    if (p.server !== undefined) where.server = p.server;
    return new RegistryError(p.code, p.message, { where });
  }
  /** a problem with the envelope itself: always fatal */
  fatal(result: { error: z.ZodError }, input: unknown): never {
    const problems = issuesToProblems(result.error.issues, '', input);
    const first = problems[0] as Problem;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw new RegistryError('invalid_document', `${first.message}${more}`, { where: { ...this.where, path: first.path } });
  }
}

type Validated = Omit<ParsedDocument, 'invalid'>;

function validateToolhive(doc: unknown, c: Collector, textDuplicates: DuplicateKey[]): Validated {
  const shell = ToolhiveRegistryShell.safeParse(doc);
  if (!shell.success) c.fatal(shell, doc);
  const reg = doc as Record<string, unknown> & ToolhiveRegistry;
  const maps = validateToolhiveMaps(reg, '', c, textDuplicates);
  let groups: Group[] | undefined;
  if (Array.isArray(reg.groups)) {
    groups = reg.groups.map((g, i) => {
      const m = validateToolhiveMaps(g, formatPath(['groups', i]), c);
      const out: Group = { ...g };
      if (g.servers !== undefined) out.servers = m.servers;
      if (g.remote_servers !== undefined) out.remote_servers = m.remote_servers;
      return out;
    });
  }
  const toolhive: ToolhiveRegistry = c.problems.length === 0 ? reg : { ...reg };
  if (c.problems.length > 0) {
    if (reg.servers !== undefined) toolhive.servers = maps.servers;
    if (reg.remote_servers !== undefined) toolhive.remote_servers = maps.remote_servers;
    if (groups !== undefined) toolhive.groups = groups;
  }
  const out: Validated = {
    format: 'toolhive',
    shape: 'toolhive',
    toolhive,
    servers: toolhiveToUpstream(toolhive).map((server) => ({ server })),
  };
  if (typeof reg.version === 'string') out.version = reg.version;
  if (typeof reg.last_updated === 'string') out.lastUpdated = reg.last_updated;
  return out;
}

interface ToolhiveMaps {
  servers: Record<string, ImageMetadata>;
  remote_servers: Record<string, RemoteServerMetadata>;
}

function validateToolhiveMaps(reg: { servers?: unknown; remote_servers?: unknown }, prefix: string, c: Collector, textDuplicates: DuplicateKey[] = []): ToolhiveMaps {
  const valid: { map: 'servers' | 'remote_servers'; key: string; entry: ImageMetadata | RemoteServerMetadata }[] = [];
  const seen = new Map<string, string[]>();
  const upstreamNames = new Map<string, string[]>();
  const duplicates = new Set<string>();
  for (const d of textDuplicates) {
    if (duplicates.has(d.key)) continue;
    duplicates.add(d.key);
    c.add([{ path: joinPath(prefix, [...d.parent, d.key]), server: d.key, code: 'duplicate_name', message: `server ${JSON.stringify(d.key)} is defined more than once in ${formatPath(d.parent)} (again at ${d.at}); none of them is used` }]);
  }
  for (const map of ['servers', 'remote_servers'] as const) {
    const entries = reg[map] as Record<string, unknown> | undefined;
    if (entries === undefined) continue;
    for (const key in entries) {
      const path = joinPath(prefix, [map, key]);
      const list = seen.get(key);
      if (list) list.push(path);
      else seen.set(key, [path]);
      if (duplicates.has(key)) continue; // reported above; JSON kept only one of the values
      if (key.trim() === '') {
        c.add([{ path, message: 'server name (the map key) must not be empty', code: 'invalid_document' }]);
        continue;
      }
      const entry = entries[key];
      const problems = problemsOf(map === 'servers' ? 'image' : 'remote', entry, () => path, () => key);
      if (problems) {
        c.add(problems);
        continue;
      }
      const typed = entry as ImageMetadata | RemoteServerMetadata;
      const upstream = typed.name || buildReverseDnsName(key);
      if (!SERVER_NAME_PATTERN.test(upstream) || upstream.length > 200) {
        c.add([{ path: typed.name ? joinPath(path, ['name']) : path, server: key, code: 'invalid_document', message: `${JSON.stringify(upstream)} is not a valid upstream server name (a reverse-DNS namespace and a name of letters, digits, ".", "_" or "-", separated by one "/")` }]);
        continue;
      }
      const names = upstreamNames.get(upstream);
      if (names) names.push(path);
      else upstreamNames.set(upstream, [path]);
      valid.push({ map, key, entry: typed });
    }
  }
  for (const [key, paths] of seen) {
    if (paths.length < 2 || duplicates.has(key)) continue;
    duplicates.add(key);
    c.add(paths.map((path) => ({ path, server: key, code: 'duplicate_name' as const, message: `server ${JSON.stringify(key)} is defined ${paths.length} times (${paths.join(', ')}); none of them is used` })));
  }
  for (const [upstream, paths] of upstreamNames) {
    if (paths.length < 2) continue;
    for (const path of paths) {
      const key = valid.find((v) => joinPath(prefix, [v.map, v.key]) === path)?.key ?? upstream;
      if (duplicates.has(key)) continue;
      duplicates.add(key);
      c.add([{ path, server: key, code: 'duplicate_name', message: `entries ${paths.join(', ')} have the same upstream name ${JSON.stringify(upstream)}; none of them is used` }]);
    }
  }
  const out: ToolhiveMaps = { servers: {}, remote_servers: {} };
  for (const v of valid) {
    if (duplicates.has(v.key)) continue;
    (out[v.map] as Record<string, unknown>)[v.key] = v.entry;
  }
  return out;
}

function validateUpstream(doc: unknown, shape: DocumentShape, c: Collector): Validated {
  const out: Validated = { format: 'upstream', shape, servers: [] };
  switch (shape) {
    case 'list': {
      const shell = ServerListShell.safeParse(doc);
      if (!shell.success) c.fatal(shell, doc);
      out.servers = validateEntries((doc as { servers: unknown[] }).servers, 'servers', 'response', c);
      break;
    }
    case 'file': {
      const shell = UpstreamRegistryFileShell.safeParse(doc);
      if (!shell.success) c.fatal(shell, doc);
      const file = doc as { version: string; meta: { last_updated: string }; data: { servers: unknown[]; groups?: { name: string; description: string; servers: unknown[] }[] } };
      out.version = file.version;
      out.lastUpdated = file.meta.last_updated;
      out.servers = validateEntries(file.data.servers, 'data.servers', 'server', c);
      if (file.data.groups) {
        out.groups = file.data.groups.map((g, i) => ({
          ...g,
          servers: validateEntries(g.servers, formatPath(['data', 'groups', i, 'servers']), 'server', c).map((r) => r.server),
        }));
      }
      break;
    }
    case 'server':
      out.servers = validateEntries([doc], '', 'server', c, true);
      break;
    case 'response':
      out.servers = validateEntries([doc], '', 'response', c, true);
      break;
    case 'array':
      out.servers = validateEntries(doc as unknown[], '', 'auto', c);
      break;
    default:
      throw new RegistryError('internal', `unexpected shape ${shape}`);
  }
  return out;
}

/** Validate entries one by one; duplicates of (name, version) are left out, all of them. */
function validateEntries(items: readonly unknown[], prefix: string, kind: 'server' | 'response' | 'auto', c: Collector, single = false): ServerResponse[] {
  // paths are only built for entries that are reported
  const pathOf = (i: number) => (single ? prefix : joinPath(prefix, [i]));
  const valid: ServerResponse[] = [];
  const at: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const asResponse = kind === 'response' || (kind === 'auto' && isObject(item) && isObject(item.server));
    const problems = problemsOf(asResponse ? 'response' : 'server', item, () => pathOf(i), () => nameOf(item, asResponse));
    if (problems) {
      c.add(problems);
      continue;
    }
    const response = asResponse ? (item as ServerResponse) : { server: item as ServerJson };
    valid.push(response);
    at.push(i);
  }
  if (!hasDuplicateVersions(valid)) return valid;
  const paths = new Map<string, string[]>();
  for (let k = 0; k < valid.length; k++) {
    const r = valid[k] as ServerResponse;
    const id = `${r.server.name}\u0000${r.server.version}`;
    const list = paths.get(id);
    if (list) list.push(pathOf(at[k] as number));
    else paths.set(id, [pathOf(at[k] as number)]);
  }
  const out: ServerResponse[] = [];
  for (let k = 0; k < valid.length; k++) {
    const r = valid[k] as ServerResponse;
    const dup = paths.get(`${r.server.name}\u0000${r.server.version}`) as string[];
    if (dup.length < 2) {
      out.push(r);
      continue;
    }
    const path = pathOf(at[k] as number);
    const serverPath = path === '' ? 'server' : path;
    c.add([{ path: serverPath, server: r.server.name, code: 'duplicate_name', message: `version ${JSON.stringify(r.server.version)} of ${JSON.stringify(r.server.name)} appears ${dup.length} times (${dup.join(', ')}); none of them is used` }]);
  }
  return out;
}

/**
 * Whether two entries have the same name and version. Sources list a name's versions together,
 * so each run of a name is compared within itself, without a set of every name and version;
 * a name in two runs falls back to that set.
 */
function hasDuplicateVersions(entries: readonly ServerResponse[]): boolean {
  const names = new Set<string>();
  let i = 0;
  while (i < entries.length) {
    const name = (entries[i] as ServerResponse).server.name;
    if (names.has(name)) return hasDuplicateIds(entries);
    names.add(name);
    let j = i + 1;
    while (j < entries.length && (entries[j] as ServerResponse).server.name === name) j++;
    if (j - i > 16) {
      const versions = new Set<string>();
      for (let k = i; k < j; k++) {
        const v = (entries[k] as ServerResponse).server.version;
        if (versions.has(v)) return true;
        versions.add(v);
      }
    } else {
      for (let a = i; a < j; a++) for (let b = a + 1; b < j; b++) if ((entries[a] as ServerResponse).server.version === (entries[b] as ServerResponse).server.version) return true;
    }
    i = j;
  }
  return false;
}

function hasDuplicateIds(entries: readonly ServerResponse[]): boolean {
  const ids = new Set<string>();
  for (const r of entries) {
    const id = `${r.server.name}\u0000${r.server.version}`;
    if (ids.has(id)) return true;
    ids.add(id);
  }
  return false;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nameOf(item: unknown, asResponse: boolean): string | undefined {
  const server = asResponse ? (isObject(item) ? item.server : undefined) : item;
  return isObject(server) && typeof server.name === 'string' && server.name !== '' ? server.name : undefined;
}
