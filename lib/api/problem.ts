/**
 * RFC 9457 problem details (`application/problem+json`), shaped like the official registry's
 * (Huma) errors: `title` is the reason phrase, `detail` a human message, `errors` an optional
 * list of `{message, location, value}` for parameter failures. Pure values; the HTTP layer
 * serialises them. Never put internal error text or stack traces in a problem.
 */

export interface ProblemError {
  message: string;
  /** where the problem is, e.g. `query.limit` or `path.serverName` */
  location?: string;
  value?: unknown;
}

export interface Problem {
  title: string;
  status: number;
  detail: string;
  errors?: ProblemError[];
  /** extension members (e.g. `candidates` of an ambiguous name) */
  [extension: string]: unknown;
}

export const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export function problem(status: number, detail: string, extra: Omit<Partial<Problem>, 'status' | 'detail'> = {}): Problem {
  return { title: REASONS[status] ?? 'Error', status, detail, ...extra };
}

/** A value that is either a result or the problem that prevented it. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; problem: Problem };

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = <T = never>(p: Problem): Outcome<T> => ({ ok: false, problem: p });

/** A 422 for query parameters that fail validation, in Huma's shape. */
export function validationProblem(errors: ProblemError[]): Problem {
  return problem(422, 'validation failed', { errors });
}

export function endpointNotFound(path: string): Problem {
  const versioned = /^\/(v0|v0\.1)(\/|$)/.test(path) || /^\/registries\/[^/]+\/[^/]+\/(v0|v0\.1)(\/|$)/.test(path) || path.startsWith('/api/v1/');
  const hint = versioned ? '' : " Did you mean '/v0.1/…' or '/v0/…'?";
  return problem(404, `Endpoint not found.${hint}`);
}
