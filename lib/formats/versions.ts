import { OFFICIAL_META_KEY, type ServerResponse } from './upstream-schema.ts';

/**
 * Which version of a server is the latest, decided the way the official registry does
 * (reference: upstream-registry-api.md §9):
 *   1. both versions are semver (exactly three numeric parts, optional `v`, optional
 *      pre-release and build metadata) → semver precedence; pre-releases sort below the
 *      release; build metadata is ignored (a tie);
 *   2. neither is semver → the more recently published one wins;
 *   3. mixed → the semver one wins.
 * Among versions that compare equal, the one published first stays latest (the registry does
 * not let a tying newcomer take the flag), then the smaller version string, for determinism.
 * Deleted versions are only considered when every version is deleted.
 */

export interface Semver {
  major: string;
  minor: string;
  patch: string;
  prerelease: string[];
}

const IDENT = '(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)';
const SEMVER = new RegExp(
  `^v?(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-(${IDENT}(?:\\.${IDENT})*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`,
);

export function parseSemver(version: string): Semver | undefined {
  const m = SEMVER.exec(version);
  if (!m) return undefined;
  return { major: m[1] as string, minor: m[2] as string, patch: m[3] as string, prerelease: m[4] ? m[4].split('.') : [] };
}

/** numeric strings without leading zeros, compared without overflow */
function compareNumeric(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

const NUMERIC = /^\d+$/;

export function compareSemver(a: Semver, b: Semver): number {
  const core = compareNumeric(a.major, b.major) || compareNumeric(a.minor, b.minor) || compareNumeric(a.patch, b.patch);
  if (core !== 0) return core;
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return b.prerelease.length - a.prerelease.length;
  const n = Math.min(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < n; i++) {
    const x = a.prerelease[i] as string;
    const y = b.prerelease[i] as string;
    if (x === y) continue;
    const xn = NUMERIC.test(x);
    const yn = NUMERIC.test(y);
    if (xn && yn) return compareNumeric(x, y);
    if (xn) return -1;
    if (yn) return 1;
    return x < y ? -1 : 1;
  }
  return a.prerelease.length - b.prerelease.length;
}

export interface VersionCandidate {
  version: string;
  /** RFC 3339; used when neither version is semver */
  publishedAt?: string | undefined;
  /** `deleted` versions are only latest when every version is deleted */
  status?: string | undefined;
}

function publishedMs(c: VersionCandidate): number {
  const t = c.publishedAt ? Date.parse(c.publishedAt) : Number.NaN;
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/** < 0 when `a` is older than `b`, > 0 when newer, 0 when the registry's rule ties them */
export function compareVersions(a: VersionCandidate, b: VersionCandidate): number {
  const sa = parseSemver(a.version);
  const sb = parseSemver(b.version);
  if (sa && sb) return Math.sign(compareSemver(sa, sb));
  if (sa) return 1;
  if (sb) return -1;
  return Math.sign(publishedMs(a) - publishedMs(b));
}

/** the candidate of a registry API entry (version, publishedAt, status) */
export function responseCandidate(item: ServerResponse): VersionCandidate {
  const official = item._meta?.[OFFICIAL_META_KEY];
  return { version: item.server.version, publishedAt: official?.publishedAt, status: official?.status };
}

/** The latest of several versions of one server, or undefined for an empty list. */
export function pickLatest<T>(items: readonly T[], candidate: (item: T) => VersionCandidate): T | undefined {
  let pool = items.filter((item) => candidate(item).status !== 'deleted');
  if (pool.length === 0) pool = items.slice();
  let best: T | undefined;
  let bestC: VersionCandidate | undefined;
  for (const item of pool) {
    const c = candidate(item);
    if (best === undefined || bestC === undefined || beats(c, bestC)) {
      best = item;
      bestC = c;
    }
  }
  return best;
}

function beats(c: VersionCandidate, current: VersionCandidate): boolean {
  const cmp = compareVersions(c, current);
  if (cmp !== 0) return cmp > 0;
  const published = publishedMs(c) - publishedMs(current);
  if (published !== 0) return published < 0;
  return c.version < current.version;
}
