/**
 * What every git transport shares, whatever carries the bytes (smart HTTP in git-http.ts, SSH
 * in git-ssh.ts): the isomorphic-git `HttpClient` seam, a byte budget over one whole git
 * operation (MCPREG_FETCH_MAX_BYTES), and the pack check before isomorphic-git inflates
 * anything (git-pack-limits.ts). The protocol itself (ref listing, shallow fetch, pack
 * parsing) stays isomorphic-git's; a transport only maps its two requests — the ref
 * advertisement (`GET …/info/refs?service=git-upload-pack`) and an upload-pack exchange
 * (`POST …/git-upload-pack`) — onto its own channel.
 */
import type { HttpClient } from 'isomorphic-git';
import { RegistryError, type ErrorWhere } from '../errors.ts';
import { checkPack, packOfResponse } from './git-pack-limits.ts';

/** the inflated size of all objects of one pack together may be this many times maxBytes */
export const PACK_INFLATE_FACTOR = 2;

/** A transport for isomorphic-git plus what happened: bytes received, and the first limit that stopped it. */
export interface LimitedGitHttp {
  http: HttpClient;
  received(): number;
  /** the RegistryError that ended the operation (size cap, SSRF, host key, timeout), if any */
  failure(): RegistryError | undefined;
  /** every request made, method and path only */
  requests: Array<{ method: string; path: string; status: number }>;
}

/** The byte budget and first failure of one git operation, shared by its requests. */
export class TransferBudget {
  private total = 0;
  private first: RegistryError | undefined;
  private readonly controller = new AbortController();
  /** aborted when the operation fails (a limit, or the caller's signal) */
  readonly signal: AbortSignal;
  readonly maxBytes: number;

  constructor(maxBytes: number, signal: AbortSignal) {
    this.maxBytes = maxBytes;
    this.signal = AbortSignal.any([signal, this.controller.signal]);
  }

  received(): number {
    return this.total;
  }

  failure(): RegistryError | undefined {
    return this.first;
  }

  /** Records the first failure, aborts the operation, and returns the failure to throw. */
  fail(e: RegistryError): RegistryError {
    this.first ??= e;
    this.controller.abort(e);
    return this.first;
  }

  /** Counts received bytes; passing the limit fails the operation with `too_large`. */
  count(bytes: number, where: ErrorWhere): void {
    this.total += bytes;
    if (this.total > this.maxBytes) {
      throw this.fail(new RegistryError('too_large', `git transfer passed the limit of ${this.maxBytes} bytes (MCPREG_FETCH_MAX_BYTES)`, { where }));
    }
  }

  /** Checks the pack inside a whole upload-pack response (if it holds one) before anyone inflates it. */
  checkResponse(body: Uint8Array, where: ErrorWhere): void {
    const pack = packOfResponse(body);
    if (!pack) return;
    try {
      checkPack(pack, { maxObjectBytes: this.maxBytes, maxTotalBytes: PACK_INFLATE_FACTOR * this.maxBytes }, where);
    } catch (e) {
      throw e instanceof RegistryError ? this.fail(e) : e;
    }
  }
}

export function asUint8(chunk: Buffer): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
