import { fail, ok, problem, validationProblem, type Outcome, type ProblemError } from './problem.ts';
import { instantKey } from './time.ts';

/**
 * Query parameters of the upstream endpoints, validated the way the official registry does:
 * schema failures (limit out of range or not an integer, a boolean that is not one) are
 * collected into one 422; semantic failures of `updated_since` are 400s checked afterwards.
 * An empty value counts as absent; unknown parameters are ignored; the first of repeated
 * parameters wins. `+` in a query string is a space (as in Go): a literal `+` must be `%2B`.
 */

export const DEFAULT_LIMIT = 30;
export const MAX_LIMIT = 100;

/** Keyset position: rows strictly after (name, version); without a version, names after `name`. */
export interface Cursor {
  name: string;
  version?: string;
}

export interface ListParams {
  limit: number;
  cursor?: Cursor;
  /** lower-cased search term */
  search?: string;
  /** instant key (see time.ts) of `updated_since` */
  updatedSince?: string;
  /** `latest` or an exact version */
  version?: string;
  includeDeleted: boolean;
}

export function parseCursor(raw: string): Cursor {
  const colon = raw.indexOf(':');
  return colon < 0 ? { name: raw } : { name: raw.slice(0, colon), version: raw.slice(colon + 1) };
}

export function formatCursor(name: string, version: string): string {
  return `${name}:${version}`;
}

const INTEGER = /^[+-]?\d+$/;
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function nonEmpty(query: URLSearchParams, name: string): string | undefined {
  const v = query.get(name);
  return v === null || v === '' ? undefined : v;
}

/** Go's strconv.ParseBool; undefined when the text is not a boolean. */
export function parseBool(text: string): boolean | undefined {
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return undefined;
}

function boolParam(query: URLSearchParams, name: string, errors: ProblemError[]): boolean | undefined {
  const raw = nonEmpty(query, name);
  if (raw === undefined) return undefined;
  const value = parseBool(raw);
  if (value === undefined) errors.push({ message: 'invalid boolean', location: `query.${name}`, value: raw });
  return value;
}

export const UPDATED_SINCE_FORMAT = 'Invalid updated_since format: expected RFC3339 timestamp (e.g., 2025-08-07T13:15:04.280Z)';
export const INCLUDE_DELETED_CONFLICT = 'Cannot set include_deleted=false when using updated_since (incremental sync requires deleted servers)';

export function parseListParams(query: URLSearchParams): Outcome<ListParams> {
  const errors: ProblemError[] = [];
  let limit = DEFAULT_LIMIT;
  const rawLimit = nonEmpty(query, 'limit');
  if (rawLimit !== undefined) {
    if (!INTEGER.test(rawLimit)) errors.push({ message: 'invalid integer', location: 'query.limit', value: rawLimit });
    else {
      limit = Number(rawLimit);
      if (limit < 1) errors.push({ message: 'expected number >= 1', location: 'query.limit', value: limit });
      else if (limit > MAX_LIMIT) errors.push({ message: `expected number <= ${MAX_LIMIT}`, location: 'query.limit', value: limit });
    }
  }
  const includeDeleted = boolParam(query, 'include_deleted', errors);
  if (errors.length > 0) return fail(validationProblem(errors));

  const params: ListParams = { limit, includeDeleted: includeDeleted ?? false };
  const rawUpdated = nonEmpty(query, 'updated_since');
  if (rawUpdated !== undefined) {
    const key = instantKey(rawUpdated);
    if (key === null) return fail(problem(400, UPDATED_SINCE_FORMAT, { errors: [{ message: UPDATED_SINCE_FORMAT, location: 'query.updated_since', value: rawUpdated }] }));
    if (includeDeleted === false) return fail(problem(400, INCLUDE_DELETED_CONFLICT));
    params.updatedSince = key;
    // incremental sync must see deletions
    params.includeDeleted = true;
  }
  const cursor = nonEmpty(query, 'cursor');
  if (cursor !== undefined) params.cursor = parseCursor(cursor);
  const search = nonEmpty(query, 'search');
  if (search !== undefined) params.search = search.toLowerCase();
  const version = nonEmpty(query, 'version');
  if (version !== undefined) params.version = version;
  return ok(params);
}

/** A stable text naming exactly the result set of these parameters (cache keys). */
export function listParamsKey(p: ListParams): string {
  return JSON.stringify([p.limit, p.includeDeleted, p.cursor?.name ?? null, p.cursor?.version ?? null, p.search ?? null, p.updatedSince ?? null, p.version ?? null]);
}

/** `include_deleted` of the versions endpoints (default false). */
export function parseIncludeDeleted(query: URLSearchParams): Outcome<boolean> {
  const errors: ProblemError[] = [];
  const value = boolParam(query, 'include_deleted', errors);
  if (errors.length > 0) return fail(validationProblem(errors));
  return ok(value ?? false);
}
