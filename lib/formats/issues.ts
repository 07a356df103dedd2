import type { z } from 'zod';
import { joinPath } from './json-path.ts';

/** One validation problem: where (JSON path inside the document, server name) and what. */
export interface Problem {
  /** JSON path from the document root, e.g. `servers.github.env_vars[0].name` */
  path: string;
  /** the entry's name (ToolHive registry key or upstream server name) when known */
  server?: string;
  message: string;
  /** RegistryError code this problem would carry when thrown */
  code: 'invalid_document' | 'duplicate_name' | 'unsupported';
}

/** Turn zod issues into problems, with messages that say what was expected and what was found. */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], prefix: string, input: unknown, server?: string): Problem[] {
  return issues.map((issue) => {
    const problem: Problem = { path: joinPath(prefix, issue.path), message: describeIssue(issue, input), code: 'invalid_document' };
    if (server !== undefined) problem.server = server;
    return problem;
  });
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return `required field is missing (expected ${issue.expected})`;
      return `expected ${issue.expected}, found ${describeValue(value)}`;
    case 'too_small':
      if (issue.origin === 'string' && issue.minimum === 1) return 'must not be empty';
      if (issue.origin === 'string') return `too short: ${lengthOf(value)} characters, at least ${issue.minimum}`;
      if (issue.origin === 'array') return `too few items: ${lengthOf(value)}, at least ${issue.minimum}`;
      return `${String(value)} is below the minimum ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `too long: ${lengthOf(value)} characters, at most ${issue.maximum}`;
      if (issue.origin === 'array') return `too many items: ${lengthOf(value)}, at most ${issue.maximum}`;
      return `${String(value)} is above the maximum ${issue.maximum}`;
    case 'invalid_value':
      return `${describeValue(value)} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      {
        const options = (issue as { options?: unknown }).options;
        if (Array.isArray(options)) return `${describeValue(value)} is not one of ${options.map((v) => JSON.stringify(v)).join(', ')}`;
      }
      return issue.message;
    case 'invalid_format':
      return `${issue.message} (found ${describeValue(value)})`;
    default:
      return issue.message;
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function lengthOf(value: unknown): number | string {
  return typeof value === 'string' || Array.isArray(value) ? value.length : '?';
}

/** A short description of a value for messages: never the whole of a long string. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'string':
      return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value);
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}
