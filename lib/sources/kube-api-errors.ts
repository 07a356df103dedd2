/**
 * Maps errors thrown by `@kubernetes/client-node` (ApiException with an HTTP `code`, or a
 * network error) to RegistryError. The exception's own message embeds response bodies and
 * headers, so it is never copied into our message.
 */
import { RegistryError, type ErrorCode } from '../errors.ts';

export interface KubeObjectRef {
  kind: string;
  namespace: string;
  name: string;
  /** code for a 404 (e.g. 'source_not_found' for a ConfigMap, 'secret_not_found' for a Secret) */
  notFound: ErrorCode;
}

function statusMessage(body: unknown): string | undefined {
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return undefined;
    }
  }
  const m = (b as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' ? m.slice(0, 300) : undefined;
}

export function kubeApiError(e: unknown, ref: KubeObjectRef): RegistryError {
  if (e instanceof RegistryError) return e;
  const where = { source: `${ref.kind.toLowerCase()} ${ref.namespace}/${ref.name}` };
  const status = (e as { code?: unknown }).code;
  if (typeof status === 'number') {
    const detail = statusMessage((e as { body?: unknown }).body);
    if (status === 404) return new RegistryError(ref.notFound, `${ref.kind} ${ref.namespace}/${ref.name} not found`, { where });
    if (status === 401 || status === 403) {
      return new RegistryError('auth_failed', `not allowed to read ${ref.kind} ${ref.namespace}/${ref.name} (HTTP ${status}; check the sync function's RBAC)`, { where });
    }
    return new RegistryError('source_unavailable', `reading ${ref.kind} ${ref.namespace}/${ref.name}: Kubernetes API answered HTTP ${status}${detail ? `: ${detail}` : ''}`, {
      where,
      transient: status >= 500 || status === 429,
    });
  }
  let code: string | undefined;
  for (let cur: unknown = e, i = 0; cur && i < 6 && code === undefined; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') code = c;
    cur = (cur as { cause?: unknown }).cause;
  }
  const name = (e as { name?: string } | undefined)?.name;
  if (name === 'AbortError') return new RegistryError('aborted', `reading ${ref.kind} ${ref.namespace}/${ref.name} was aborted`, { where, cause: e });
  return new RegistryError('source_unavailable', `Kubernetes API unreachable while reading ${ref.kind} ${ref.namespace}/${ref.name}${code ? ` (${code})` : ''}`, {
    where,
    transient: true,
    cause: e,
  });
}
