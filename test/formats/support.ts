/**
 * Test support for the formats: paths of the real fixtures and published schemas (next to the
 * repository, in ../shared), JSON Schema validators (ajv, with formats), and a structural diff.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SHARED = resolve(ROOT, '../shared');
export const REAL = join(SHARED, 'fixtures/real');
export const SCHEMAS = join(SHARED, 'schemas/mcp');

export const REAL_TOOLHIVE = join(REAL, 'toolhive-registry.2026-02-20.json');
export const REAL_THV_UPSTREAM = join(REAL, 'thv-registry-server-upstream-registry.json');
export const REAL_EXAMPLE_UPSTREAM = join(REAL, 'toolhive-example-upstream-with-remotes.json');
export const CONVERTERS = join(REAL, 'toolhive-converters');

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** every .json file under the real fixtures, as paths relative to REAL */
export function realJsonFiles(dir = REAL, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...realJsonFiles(join(dir, e.name), `${prefix}${e.name}/`));
    else if (e.name.endsWith('.json')) out.push(`${prefix}${e.name}`);
  }
  return out.sort();
}

// ajv-formats is CommonJS with a default export; under ESM its callable may sit on .default
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv | Ajv2020) => void;

let official: ValidateFunction | undefined;
let legacy: ValidateFunction | undefined;
let upstreamFile: ValidateFunction | undefined;

function serverSchema(): Record<string, unknown> {
  return readJson<Record<string, unknown>>(join(SCHEMAS, 'server.schema.2025-12-11.json'));
}

/** the official server.json schema (draft-07) */
export function officialServerValidator(): ValidateFunction {
  if (!official) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    official = ajv.compile(serverSchema());
  }
  return official;
}

/** ToolHive's registry.json schema (draft-07) */
export function toolhiveLegacyValidator(): ValidateFunction {
  if (!legacy) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    legacy = ajv.compile(readJson<Record<string, unknown>>(join(SCHEMAS, 'toolhive-toolhive-legacy-registry.schema.json')));
  }
  return legacy;
}

/** ToolHive's upstream file envelope (2020-12), referring to the official server schema by URL */
export function upstreamFileValidator(): ValidateFunction {
  if (!upstreamFile) {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const server = serverSchema();
    delete server.$schema; // a draft-07 document inside a 2020-12 instance: same keywords here
    ajv.addSchema(server);
    const file = readJson<Record<string, unknown>>(join(SCHEMAS, 'toolhive-upstream-registry.schema.json'));
    const props = (file.properties as Record<string, Record<string, unknown>>).data?.properties as Record<string, unknown> | undefined;
    if (props) delete props.skills; // refers to a skill schema that is not published with it
    upstreamFile = ajv.compile(file);
  }
  return upstreamFile;
}

export function schemaErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('; ');
}

export interface Difference {
  path: string;
  kind: 'added' | 'removed' | 'changed';
}

/** where two JSON values differ (key order ignored) */
export function differences(before: unknown, after: unknown, path = ''): Difference[] {
  if (Object.is(before, after)) return [];
  const bothObjects = typeof before === 'object' && before !== null && typeof after === 'object' && after !== null && Array.isArray(before) === Array.isArray(after);
  if (!bothObjects) {
    if (before === undefined) return [{ path, kind: 'added' }];
    if (after === undefined) return [{ path, kind: 'removed' }];
    return [{ path, kind: 'changed' }];
  }
  const out: Difference[] = [];
  if (Array.isArray(before) && Array.isArray(after)) {
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) out.push(...differences(before[i], after[i], `${path}[${i}]`));
    return out;
  }
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) out.push(...differences(a[key], b[key], path === '' ? key : `${path}.${key}`));
  return out;
}
