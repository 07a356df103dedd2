/**
 * Fetch limits and the URL policy against SSRF, shared by every network source (url,
 * registry, git). The policy comes from the function's environment (`policyFromEnv`); every
 * knob is documented in lib/sources/README.md.
 *
 * The address check runs twice: once before a request (IP literals never reach a DNS lookup,
 * and a refused host gets a clean error early) and once inside the connection's own DNS
 * lookup (`guardedLookup`), so that the address actually connected to is the address checked
 * and a DNS answer that changes between check and connect (rebinding) cannot slip through.
 */
import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { RegistryError, type ErrorWhere } from '../errors.ts';
import type { FetchPolicy } from './types.ts';

export const MiB = 1024 * 1024;

export const DEFAULT_POLICY: Required<Omit<FetchPolicy, 'lookup' | 'ca'>> = {
  maxBytes: 100 * MiB,
  connectTimeoutMs: 10_000,
  totalTimeoutMs: 60_000,
  maxRedirects: 5,
  allowPrivate: [],
  retries: 3,
  retryBaseMs: 500,
  retryMaxWaitMs: 30_000,
  maxPages: 5_000,
  maxEntries: 250_000,
};

/** A policy with every optional knob filled in. */
export type ResolvedPolicy = Required<Omit<FetchPolicy, 'lookup' | 'ca'>> & Pick<FetchPolicy, 'lookup' | 'ca'>;

export function resolvePolicy(policy: Partial<FetchPolicy> = {}): ResolvedPolicy {
  const out: ResolvedPolicy = { ...DEFAULT_POLICY };
  for (const [k, v] of Object.entries(policy)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Environment

const ENV = {
  maxBytes: 'MCPREG_FETCH_MAX_BYTES',
  connectTimeoutMs: 'MCPREG_FETCH_CONNECT_TIMEOUT',
  totalTimeoutMs: 'MCPREG_FETCH_TIMEOUT',
  maxRedirects: 'MCPREG_FETCH_MAX_REDIRECTS',
  allowPrivate: 'MCPREG_ALLOW_PRIVATE_NETWORKS',
  retries: 'MCPREG_FETCH_RETRIES',
  retryBaseMs: 'MCPREG_FETCH_RETRY_BASE',
  retryMaxWaitMs: 'MCPREG_FETCH_RETRY_MAX_WAIT',
  maxPages: 'MCPREG_REGISTRY_MAX_PAGES',
  maxEntries: 'MCPREG_REGISTRY_MAX_ENTRIES',
  caFile: 'MCPREG_FETCH_CA_FILE',
} as const;

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: MiB, mb: 1e6, mib: MiB, g: 1024 * MiB, gb: 1e9, gib: 1024 * MiB,
};

/** `104857600`, `100MiB`, `100M` (binary), `100MB` (decimal), `512KiB` … */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = SIZE_UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  const n = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s`, `1m30s`, `250ms`, `2h`; a plain number is seconds. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return Math.round(total);
}

function envError(name: string, value: string, expected: string): RegistryError {
  return new RegistryError('invalid_argument', `environment variable ${name}=${JSON.stringify(value)} is not ${expected}`, {
    where: { source: 'configuration' },
  });
}

/**
 * Builds the FetchPolicy from the function's environment. Unset variables take the defaults
 * (`DEFAULT_POLICY`); a malformed value is an error naming the variable, never silently ignored.
 */
export function policyFromEnv(env: NodeJS.ProcessEnv = process.env): ResolvedPolicy {
  const policy = resolvePolicy();
  const get = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v;
  };
  const size = (key: 'maxBytes', name: string) => {
    const v = get(name);
    if (v === undefined) return;
    const n = parseSize(v);
    if (n === undefined) throw envError(name, v, 'a size such as 104857600, 100MiB or 50MB');
    policy[key] = n;
  };
  const duration = (key: 'connectTimeoutMs' | 'totalTimeoutMs' | 'retryBaseMs' | 'retryMaxWaitMs', name: string) => {
    const v = get(name);
    if (v === undefined) return;
    const n = parseDuration(v);
    if (n === undefined || n <= 0) throw envError(name, v, 'a duration such as 10s, 500ms or 1m');
    policy[key] = n;
  };
  const count = (key: 'maxRedirects' | 'retries' | 'maxPages' | 'maxEntries', name: string, min: number) => {
    const v = get(name);
    if (v === undefined) return;
    if (!/^\d+$/.test(v.trim()) || Number(v) < min) throw envError(name, v, `an integer ≥ ${min}`);
    policy[key] = Number(v);
  };
  size('maxBytes', ENV.maxBytes);
  duration('connectTimeoutMs', ENV.connectTimeoutMs);
  duration('totalTimeoutMs', ENV.totalTimeoutMs);
  count('maxRedirects', ENV.maxRedirects, 0);
  count('retries', ENV.retries, 0);
  duration('retryBaseMs', ENV.retryBaseMs);
  duration('retryMaxWaitMs', ENV.retryMaxWaitMs);
  count('maxPages', ENV.maxPages, 1);
  count('maxEntries', ENV.maxEntries, 1);
  const allow = get(ENV.allowPrivate);
  if (allow !== undefined) {
    const entries = allow.split(',').map((s) => s.trim()).filter(Boolean);
    for (const e of entries) if (!isValidAllowEntry(e)) throw envError(ENV.allowPrivate, e, 'a CIDR (10.0.0.0/8, fd00::/8), an IP address or a host name');
    policy.allowPrivate = entries;
  }
  const caFile = get(ENV.caFile);
  if (caFile !== undefined) {
    let pem: string;
    try {
      pem = readFileSync(caFile, 'utf8');
    } catch (e) {
      throw envError(ENV.caFile, caFile, `a readable file (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw envError(ENV.caFile, caFile, 'a file of PEM certificates');
    policy.ca = pem;
  }
  return policy;
}

// ---------------------------------------------------------------------------------------------
// Addresses

/** Ranges a source may not reach unless allowed: loopback, private, link-local, CGNAT, … */
const FORBIDDEN_V4: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved / broadcast'],
];
const FORBIDDEN_V6: Array<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'discard-only'],
  ['64:ff9b:1::', 48, 'NAT64 local use (RFC 8215)'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

interface Range {
  list: net.BlockList;
  label: string;
}
const FORBIDDEN: Range[] = [
  ...FORBIDDEN_V4.map(([a, p, label]) => rangeOf(a, p, 'ipv4', label)),
  ...FORBIDDEN_V6.map(([a, p, label]) => rangeOf(a, p, 'ipv6', label)),
];

function rangeOf(address: string, prefix: number, family: 'ipv4' | 'ipv6', label: string): Range {
  const list = new net.BlockList();
  list.addSubnet(address, prefix, family);
  return { list, label };
}

/** 16 bytes of an IPv6 address (no zone), or undefined. */
function ipv6Bytes(address: string): number[] | undefined {
  let a = address.replace(/%.*$/, '');
  if (net.isIPv6(a) === false) return undefined;
  // embedded dotted quad at the end
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted) {
    const q = dotted[1]!.split('.').map(Number);
    a = a.slice(0, -dotted[1]!.length) + ((q[0]! << 8) | q[1]!).toString(16) + ':' + ((q[2]! << 8) | q[3]!).toString(16);
  }
  const [head, tail] = a.includes('::') ? a.split('::') as [string, string] : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  const bytes: number[] = [];
  for (const g of groups) {
    const n = parseInt(g, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  return bytes;
}

/**
 * An IPv4 address carried inside an IPv6 one (IPv4-mapped ::ffff:0:0/96, IPv4-translated
 * ::ffff:0:0:0/96, IPv4-compatible ::/96,
 * NAT64 64:ff9b::/96, 6to4 2002::/16), so that `::ffff:169.254.169.254` is judged as the IPv4
 * address it reaches.
 */
export function embeddedIPv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  if (!b) return undefined;
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const quad = (i: number) => `${b[i]}.${b[i + 1]}.${b[i + 2]}.${b[i + 3]}`;
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return quad(12);
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return quad(12); // IPv4-translated ::ffff:0:a.b.c.d (RFC 2765)
  if (zero(0, 12) && !zero(12, 14)) return quad(12); // ::a.b.c.d (not :: or ::1)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return quad(12);
  if (b[0] === 0x20 && b[1] === 0x02) return quad(2);
  return undefined;
}

/** Why an address is off limits (e.g. `loopback`), or undefined when it is a public address. */
export function forbiddenReason(address: string): string | undefined {
  const family = net.isIP(address.replace(/%.*$/, ''));
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const v4 = embeddedIPv4(address);
    if (v4 !== undefined) {
      const inner = forbiddenReason(v4);
      return inner ? `${inner}, embedded in IPv6` : undefined;
    }
  }
  const plain = address.replace(/%.*$/, '');
  for (const r of FORBIDDEN) if (r.list.check(plain, family === 4 ? 'ipv4' : 'ipv6')) return r.label;
  return undefined;
}

function isValidAllowEntry(entry: string): boolean {
  const [addr, prefix, extra] = entry.split('/');
  if (extra !== undefined) return false;
  if (prefix !== undefined) {
    const fam = net.isIP(addr!);
    if (fam === 0 || !/^\d+$/.test(prefix)) return false;
    return Number(prefix) <= (fam === 4 ? 32 : 128);
  }
  return net.isIP(entry) !== 0 || /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(entry);
}

/** The compiled allow-list: CIDRs / addresses, and host names (`*.example.com` matches sub-domains). */
export class AllowList {
  private readonly blocks = new net.BlockList();
  private readonly hosts: string[] = [];
  private readonly suffixes: string[] = [];

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim();
      if (!entry) continue;
      const [addr, prefix] = entry.split('/');
      const fam = net.isIP(addr!);
      if (fam !== 0) {
        const type = fam === 4 ? 'ipv4' : 'ipv6';
        if (prefix !== undefined) this.blocks.addSubnet(addr!, Number(prefix), type);
        else this.blocks.addAddress(addr!, type);
      } else if (entry.startsWith('*.')) {
        this.suffixes.push(normaliseHost(entry.slice(1)));
      } else {
        this.hosts.push(normaliseHost(entry));
      }
    }
  }

  allowsHost(host: string): boolean {
    const h = normaliseHost(host);
    return this.hosts.includes(h) || this.suffixes.some((s) => h.endsWith(s));
  }

  allowsAddress(address: string): boolean {
    const plain = address.replace(/%.*$/, '');
    const fam = net.isIP(plain);
    if (fam === 0) return false;
    if (this.blocks.check(plain, fam === 4 ? 'ipv4' : 'ipv6')) return true;
    const v4 = fam === 6 ? embeddedIPv4(plain) : undefined;
    return v4 !== undefined && this.blocks.check(v4, 'ipv4');
  }
}

function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '').replace(/^\[|\]$/g, '');
}

/** Throws url_forbidden when `address` (reached through `host`) is off limits. */
export function checkAddress(host: string, address: string, allow: AllowList, where: ErrorWhere): void {
  const reason = forbiddenReason(address);
  if (reason === undefined) return;
  if (allow.allowsHost(host) || allow.allowsAddress(address)) return;
  const shown = normaliseHost(host) === address ? address : `${normaliseHost(host)} (${address})`;
  throw new RegistryError(
    'url_forbidden',
    `refusing to connect to ${shown}: ${reason} address; add it to MCPREG_ALLOW_PRIVATE_NETWORKS to permit it`,
    { where },
  );
}

export type LookupFunction = NonNullable<FetchPolicy['lookup']>;

const systemLookup: LookupFunction = (hostname, options, callback) => dns.lookup(hostname, options, callback);

/** `host` and `https:` style → `where` for errors: scheme, host and port only. */
export function hostWhere(url: URL, source?: string): ErrorWhere {
  const w: ErrorWhere = { url: `${url.protocol}//${url.host}` };
  if (source) w.source = source;
  return w;
}

/**
 * Checks a URL before any request: scheme (https, or http when allowed), no credentials in it,
 * and every address its host resolves to. IP literals are checked here because a connection to
 * a literal never calls the DNS lookup.
 */
export async function checkUrl(
  url: URL,
  policy: Pick<FetchPolicy, 'allowPrivate' | 'lookup'>,
  options: { allowHttp: boolean; source?: string; allow?: AllowList; checkedHosts?: Set<string> },
): Promise<void> {
  const where = hostWhere(url, options.source);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RegistryError('url_forbidden', `scheme ${url.protocol.replace(/:$/, '')} is not allowed; use https`, { where });
  }
  if (url.protocol === 'http:' && !options.allowHttp) {
    throw new RegistryError('url_forbidden', `plain http is not allowed for ${url.host}; use https or set allowHttp: true`, { where });
  }
  if (url.username || url.password) {
    throw new RegistryError('invalid_argument', `credentials in the URL are not allowed (host ${url.hostname}); use authSecret`, { where });
  }
  const allow = options.allow ?? new AllowList(policy.allowPrivate);
  const host = normaliseHost(url.hostname);
  if (allow.allowsHost(host)) return;
  if (net.isIP(host)) {
    checkAddress(host, host, allow, where);
    return;
  }
  // a host already checked in this session is not resolved again here: every new connection
  // is still checked by guardedLookup
  if (options.checkedHosts?.has(host)) return;
  const addresses = await lookupAll(host, policy.lookup ?? systemLookup, where);
  for (const a of addresses) checkAddress(host, a.address, allow, where);
  options.checkedHosts?.add(host);
}

/**
 * The addresses to connect to for a host that is not reached through undici (the SSH
 * transport): every address the host resolves to must pass the policy, as in `checkUrl`, and
 * the caller connects to one of the returned literals, so the address connected to is the
 * address checked (no rebinding between the check and the connection).
 */
export async function checkedAddresses(host: string, policy: Pick<FetchPolicy, 'allowPrivate' | 'lookup'>, where: ErrorWhere): Promise<string[]> {
  const allow = new AllowList(policy.allowPrivate);
  const name = normaliseHost(host);
  if (net.isIP(name)) {
    checkAddress(name, name, allow, where);
    return [name];
  }
  const addresses = await lookupAll(name, policy.lookup ?? systemLookup, where);
  if (addresses.length === 0) throw new RegistryError('source_unavailable', `cannot resolve host ${name}: no addresses`, { where, transient: true });
  for (const a of addresses) checkAddress(name, a.address, allow, where);
  return addresses.map((a) => a.address);
}

async function lookupAll(host: string, lookup: LookupFunction, where: ErrorWhere): Promise<dns.LookupAddress[]> {
  return new Promise((resolve, reject) => {
    lookup(host, { all: true }, (err, addresses) => {
      if (err) {
        reject(new RegistryError('source_unavailable', `cannot resolve host ${host}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, {
          where,
          transient: true,
          cause: err,
        }));
      } else resolve(Array.isArray(addresses) ? addresses : [{ address: addresses as unknown as string, family: 4 }]);
    });
  });
}

/**
 * A `lookup` for net/tls.connect (undici `connect.lookup`) that resolves every address of the
 * host and refuses the connection when any of them is off limits. This is the check on the
 * address actually connected to.
 */
export function guardedLookup(policy: Pick<FetchPolicy, 'allowPrivate' | 'lookup'>, source?: string): LookupFunction {
  const allow = new AllowList(policy.allowPrivate);
  const lookup = policy.lookup ?? systemLookup;
  return ((hostname: string, options: dns.LookupOptions, callback: (err: Error | null, address: any, family?: number) => void) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, undefined);
      const list = Array.isArray(addresses) ? addresses : [{ address: addresses as unknown as string, family: 4 }];
      if (list.length === 0) return callback(Object.assign(new Error(`no addresses for ${hostname}`), { code: 'ENOTFOUND' }), undefined);
      try {
        for (const a of list) checkAddress(hostname, a.address, allow, { url: hostname, ...(source ? { source } : {}) });
      } catch (e) {
        return callback(e as Error, undefined);
      }
      if (options.all) callback(null, list);
      else callback(null, list[0]!.address, list[0]!.family);
    });
  }) as LookupFunction;
}
