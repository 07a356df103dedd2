/**
 * Authentication: bearer tokens from a kube-apiserver static token file
 * (`token,user,uid,"group1,group2"` per line), tokens added at run time (tests, TokenRequest),
 * and optional anonymous access as `system:anonymous`.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { RegistryError } from '../../errors.ts';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface TokenEntry {
  token: string;
  user: string;
  uid?: string;
  groups?: string[];
  /** epoch ms; absent = never expires */
  expires?: number;
  /** where the token came from, persisted only for `issued` */
  origin?: 'file' | 'added' | 'issued' | 'admin';
}

export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

/** Splits one CSV line (RFC 4180 quoting: `"a,b"`, `""` for a quote), as Go's encoding/csv reads the token file. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new Error('unterminated quoted field');
  out.push(cur);
  return out;
}

/** Parses a static token file; errors name the file and line. Lines starting with `#` are comments. */
export function parseTokenFile(text: string, file: string): TokenEntry[] {
  const out: TokenEntry[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = { file, path: `line ${i + 1}` };
    let fields: string[];
    try {
      fields = splitCsvLine(line);
    } catch (e) {
      throw new RegistryError('invalid_argument', `token file: ${(e as Error).message}`, { where });
    }
    if (fields.length < 3) throw new RegistryError('invalid_argument', 'token file lines need at least 3 columns: token,user,uid[,"group1,group2"]', { where });
    const [token, user, uid, groups] = fields.map((f) => f.trim());
    if (!token) throw new RegistryError('invalid_argument', 'token file: empty token', { where });
    if (!user) throw new RegistryError('invalid_argument', 'token file: empty user name', { where });
    out.push({
      token,
      user,
      ...(uid ? { uid } : {}),
      groups: groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : [],
      origin: 'file',
    });
  });
  return out;
}

export async function readTokenFile(file: string): Promise<TokenEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new RegistryError('not_found', `cannot read token file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { where: { file }, cause: e });
  }
  return parseTokenFile(text, file);
}

export function newToken(prefix: string): string {
  return `${prefix}.${randomBytes(24).toString('base64url')}`;
}

export class Authenticator {
  readonly #tokens = new Map<string, TokenEntry>();
  readonly anonymous: boolean;

  constructor(options: { anonymous: boolean }) {
    this.anonymous = options.anonymous;
  }

  add(entry: TokenEntry): void {
    this.#tokens.set(entry.token, entry);
  }

  entries(): TokenEntry[] {
    return [...this.#tokens.values()];
  }

  tokenFor(user: string): string | undefined {
    for (const e of this.#tokens.values()) if (e.user === user && (e.expires === undefined || e.expires > Date.now())) return e.token;
    return undefined;
  }

  /** The user a token stands for, or undefined for unknown and expired tokens. */
  review(token: string): UserInfo | undefined {
    const e = this.#tokens.get(token);
    if (!e) return undefined;
    if (e.expires !== undefined && e.expires <= Date.now()) {
      this.#tokens.delete(token);
      return undefined;
    }
    const groups = [...(e.groups ?? [])];
    if (!groups.includes('system:authenticated')) groups.push('system:authenticated');
    return { username: e.user, ...(e.uid ? { uid: e.uid } : {}), groups };
  }

  /** undefined: reject with 401 */
  authenticate(authorization: string | undefined): UserInfo | undefined {
    if (authorization === undefined || authorization === '') return this.anonymous ? ANONYMOUS : undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return undefined;
    return this.review(m[1]!);
  }
}
