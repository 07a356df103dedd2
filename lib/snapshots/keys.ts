import { RegistryError } from '../errors.ts';

/**
 * Object keys are `/`-separated paths relative to the store root. Both stores accept the same
 * keys, so a key that is valid here is valid everywhere; anything that could escape a
 * directory (or confuse an S3-compatible server) is refused before any I/O.
 *
 * Rules: 1–1024 bytes of UTF-8; no NUL or other control character; no backslash; no leading
 * `/`; no empty segment (`a//b`, trailing `/`); no segment that starts with `.` (this rules out
 * `.` and `..`, and keeps dot-names free for the filesystem store's temp and lock files).
 */

const MAX_KEY_BYTES = 1024;
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

function reject(key: string, why: string): never {
  throw new RegistryError('invalid_argument', `invalid object key: ${why}`, { where: { key: printable(key) } });
}

/** The key as it may appear in an error: control characters escaped, length bounded. */
function printable(key: string): string {
  const shown = JSON.stringify(key.length > 200 ? `${key.slice(0, 200)}…` : key);
  return shown.slice(1, -1);
}

export function validateKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) reject(String(key), 'empty');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) reject(key, `longer than ${MAX_KEY_BYTES} bytes`);
  if (FORBIDDEN.test(key)) reject(key, 'contains a backslash, NUL or control character');
  if (key.startsWith('/')) reject(key, 'absolute (starts with "/")');
  for (const segment of key.split('/')) {
    if (segment === '') reject(key, 'empty path segment');
    if (segment.startsWith('.')) reject(key, `segment "${segment}" starts with "."`);
  }
  return key;
}

/**
 * A listing prefix: empty (everything), or a key prefix that may end with `/` or part-way
 * through a segment (`registries/ns/na` matches `registries/ns/name/…`, as on S3).
 */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (body === '') reject(prefix, 'a prefix of "/" alone is absolute');
  validateKey(body);
  return prefix;
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Namespace and name must be Kubernetes object names, so that each is exactly one key segment. */
/** whether namespace and name are both Kubernetes object names (what validateRef accepts) */
export function isValidRef(ref: { namespace: string; name: string }): boolean {
  return [ref.namespace, ref.name].every((v) => typeof v === 'string' && v.length <= 253 && K8S_NAME.test(v));
}

export function validateRef(ref: { namespace: string; name: string }): void {
  for (const [what, value] of [
    ['namespace', ref.namespace],
    ['name', ref.name],
  ] as const) {
    if (typeof value !== 'string' || value.length > 253 || !K8S_NAME.test(value)) {
      throw new RegistryError('invalid_argument', `registry ${what} ${JSON.stringify(value)} is not a valid Kubernetes name`);
    }
  }
}

/** A store's key prefix as configured (`prod`, `/prod/`, …) → `prod/`, checked like a key; '' for none. */
export function normalisePrefix(prefix: string | undefined): string {
  if (!prefix) return '';
  const trimmed = prefix.replace(/^\/+/, '');
  const withSlash = trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
  validatePrefix(withSlash);
  return withSlash;
}
