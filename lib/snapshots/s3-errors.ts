import { RegistryError } from '../errors.ts';

/**
 * Maps what the AWS SDK throws to RegistryError. Messages name the S3 error code and HTTP
 * status, never request headers or credentials.
 */

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
  $retryable?: unknown;
}

export function s3Status(e: unknown): number | undefined {
  const err = e as SdkError | null;
  return err?.$metadata?.httpStatusCode ?? err?.$response?.statusCode;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const AUTH_NAMES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'TokenRefreshRequired',
  'InvalidToken',
  'CredentialsProviderError',
  'AuthorizationHeaderMalformed',
]);

export function s3Failure(e: unknown, at: { key: string; where: string }): never {
  if (e instanceof RegistryError) throw e;
  const err = (e ?? {}) as SdkError;
  const status = s3Status(e);
  const name = err.name ?? 'Error';
  const where = { key: at.key, file: at.where };
  const label = status ? `${name}, HTTP ${status}` : name;

  if (name === 'AbortError') throw new RegistryError('aborted', 'S3 request aborted', { where, cause: e });
  if (AUTH_NAMES.has(name) || status === 401 || status === 403) {
    const hint =
      name === 'CredentialsProviderError'
        ? 'no usable AWS credentials (environment, profile, web identity, container or instance metadata)'
        : 'S3 refused the credentials or the permission';
    throw new RegistryError('auth_failed', `${hint} (${label})`, { where, cause: e });
  }
  if (name === 'NoSuchBucket') {
    throw new RegistryError('store_unavailable', 'the S3 bucket does not exist (NoSuchBucket)', { where, cause: e });
  }
  const code = err.code ?? (e as { cause?: { code?: string } })?.cause?.code;
  if ((code && NETWORK_CODES.has(code)) || name === 'TimeoutError' || name === 'RequestTimeout' || /socket hang up/i.test(err.message ?? '')) {
    throw new RegistryError('store_unavailable', `cannot reach S3 (${code ?? name})`, { where, transient: true, cause: e });
  }
  if ((status !== undefined && status >= 500) || status === 429 || name === 'SlowDown' || err.$fault === 'server') {
    throw new RegistryError('store_unavailable', `S3 server error (${label})`, { where, transient: true, cause: e });
  }
  throw new RegistryError('store_unavailable', `S3 request failed (${label})`, { where, cause: e });
}
