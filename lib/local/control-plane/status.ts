/**
 * API errors as Kubernetes `Status` objects. `ApiError` is the wire-level error of the
 * control plane (an HTTP code plus the Status reason and details kubectl and client-node read);
 * it is not a RegistryError because it never leaves this server: clients see its JSON.
 */
import { aggregate, type FieldError } from './field-errors.ts';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** What an error message names: `configmaps`, `mcpregistries.toolhive.stacklok.io`. */
export interface Target {
  group: string;
  resource: string;
  name?: string;
}

const qualified = (t: Target) => (t.group ? `${t.resource}.${t.group}` : t.resource);
const detailsOf = (t: Target): StatusDetails => ({ ...(t.name !== undefined ? { name: t.name } : {}), group: t.group, kind: t.resource });

export const apiError = {
  badRequest: (message: string, causes?: StatusCause[]) => new ApiError(400, 'BadRequest', message, causes ? { causes } : undefined),
  unauthorized: (message = 'Unauthorized') => new ApiError(401, 'Unauthorized', message),
  forbidden: (message: string, t?: Target) => new ApiError(403, 'Forbidden', message, t ? detailsOf(t) : undefined),
  notFound: (t: Target) => new ApiError(404, 'NotFound', `${qualified(t)} "${t.name ?? ''}" not found`, detailsOf(t)),
  pathNotFound: () => new ApiError(404, 'NotFound', 'the server could not find the requested resource'),
  methodNotAllowed: (method: string) =>
    new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`),
  notAcceptable: (accept: string) =>
    new ApiError(406, 'NotAcceptable', `the server was unable to respond with a content type that the client supports (${accept})`),
  alreadyExists: (t: Target) => new ApiError(409, 'AlreadyExists', `${qualified(t)} "${t.name ?? ''}" already exists`, detailsOf(t)),
  conflict: (t: Target, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
    new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(t)} "${t.name ?? ''}": ${why}`, detailsOf(t)),
  expired: (message: string) => new ApiError(410, 'Expired', message),
  tooLarge: (limit: number) => new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`),
  unsupportedMediaType: (message: string) => new ApiError(415, 'UnsupportedMediaType', message),
  invalid: (kind: string, group: string, name: string, errors: readonly FieldError[]) =>
    new ApiError(422, 'Invalid', `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${aggregate(errors)}`, {
      name,
      group,
      kind,
      causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
    }),
  /** a patch that cannot be applied, or an apply that conflicts with another manager */
  unprocessable: (message: string, causes?: StatusCause[]) => new ApiError(422, 'Invalid', message, causes ? { causes } : undefined),
  internal: (message: string) => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`),
};

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
