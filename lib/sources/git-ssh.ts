/**
 * The SSH transport of the git source: git's upload-pack protocol over one SSH connection
 * (the `ssh2` library), presented to isomorphic-git as its `HttpClient`, so that ref listing,
 * the shallow fetch and pack parsing stay the HTTP path's (git.ts) and only the carrier
 * differs. Over SSH git runs `git-upload-pack '<path>'` on the server, which first advertises
 * (v0: the refs; v2, asked for with the GIT_PROTOCOL environment variable as git does: the
 * capabilities) and then answers one request on the same channel:
 *
 * - `GET …/info/refs?service=git-upload-pack` opens a channel, reads the advertisement up to
 *   its flush-pkt and answers it as smart HTTP would (`# service=git-upload-pack` first). The
 *   channel is kept for the request that follows; one that is not needed is closed with a
 *   flush-pkt, so a ref lookup that finds nothing new costs one channel.
 * - `POST …/git-upload-pack` writes the request (ls-refs, or wants + deepen + done) on the
 *   kept channel (or a new one whose advertisement is skipped), ends its input and reads the
 *   answer to the end of the channel.
 *
 * Before anything is sent: the host's addresses pass the SSRF policy and the connection goes
 * to a checked address; the server's host key must match known_hosts entries for the host
 * and/or the fingerprint in the spec (never accepted unchecked); the client offers only the
 * host key algorithms of the known keys. Bytes received count against MCPREG_FETCH_MAX_BYTES
 * over the whole operation, packs are checked before isomorphic-git inflates them
 * (git-transfer.ts), and the operation's signal (MCPREG_FETCH_TIMEOUT) closes the connection.
 */
import net from 'node:net';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { RegistryError, type ErrorWhere } from '../errors.ts';
import { asUint8, TransferBudget, type LimitedGitHttp } from './git-transfer.ts';
import { uploadPackCommand, type SshRemote } from './git-remote.ts';
import { backoffDelay, sleep } from './http-fetch.ts';
import { hostKeyAlgorithms, knownHostName, lineMatchesHost, verifyHostKey, type HostKeyVerdict, type KnownHostLine } from './known-hosts.ts';
import { checkedAddresses, type ResolvedPolicy } from './policy.ts';
import { excerpt } from './scrub.ts';
import { outgoing } from '../telemetry/outgoing.ts';

type Ssh2 = typeof import('ssh2');
let loaded: Promise<Ssh2> | undefined;
/** ssh2 is loaded on first use: only SSH git sources need it */
function loadSsh2(): Promise<Ssh2> {
  loaded ??= import('ssh2').then((m) => ((m as { default?: Ssh2 }).default ?? m) as Ssh2);
  return loaded;
}

export interface SshTrust {
  /** known_hosts entries (all of them: the ones for this host are picked here) */
  knownHosts?: KnownHostLine[];
  /** a normalised `SHA256:…` fingerprint */
  fingerprint?: string;
}

export interface GitSshOptions {
  remote: SshRemote;
  /** the private key's text (OpenSSH or PEM) */
  privateKey: string;
  /** where the key came from, for errors: `Secret ns/name key k` */
  keyLabel: string;
  trust: SshTrust;
  policy: ResolvedPolicy;
  /** the whole operation's signal (the sync's, and MCPREG_FETCH_TIMEOUT) */
  signal: AbortSignal;
  where: ErrorWhere;
  /** scrubbed from anything the server writes to stderr before it reaches an error */
  secrets: string[];
}

/** Reads a private key as ssh2 does; a precise `auth_failed` when it cannot be used (never its content). */
export async function checkPrivateKey(text: string, keyLabel: string, where: ErrorWhere): Promise<void> {
  const { utils } = await loadSsh2();
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error) {
    const encrypted = /encrypted|passphrase/i.test(parsed.message);
    throw new RegistryError(
      'auth_failed',
      encrypted
        ? `${keyLabel} is a private key encrypted with a passphrase; deploy keys must be stored unencrypted`
        : `${keyLabel} is not a private key ssh2 can read (OpenSSH or PEM format expected)`,
      { where },
    );
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || !key.isPrivateKey()) throw new RegistryError('auth_failed', `${keyLabel} holds a public key, not a private key`, { where });
}

/** the host key algorithms ssh2 verifies (its SUPPORTED_SERVER_HOST_KEY without ssh-dss) */
const SSH2_HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

const TRANSIENT_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

function connectTcp(address: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    const done = (e?: Error) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.off('error', done);
      if (e) {
        socket.destroy();
        reject(e);
      } else resolve(socket);
    };
    const onAbort = () => done(signal.reason as Error);
    const timer = setTimeout(() => done(Object.assign(new Error('connect timeout'), { code: 'SSH_CONNECT_TIMEOUT' })), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done());
    socket.once('error', done);
  });
}

interface Connection {
  client: import('ssh2').Client;
  close(): void;
}

async function connect(o: GitSshOptions): Promise<Connection> {
  const { remote, policy, where } = o;
  const name = knownHostName(remote.host, remote.port);
  const addresses = await checkedAddresses(remote.host, policy, where);
  const { Client } = await loadSsh2();
  const forHost = o.trust.knownHosts?.filter((e) => lineMatchesHost(e, remote.host, remote.port) && !e.marker) ?? [];
  // offer only the host key algorithms of the keys known for the host (so that the server
  // shows one of them), among those ssh2 speaks
  const algorithms = hostKeyAlgorithms(forHost.map((e) => e.keyType)).filter((a) => SSH2_HOST_KEY_ALGORITHMS.includes(a));
  if (forHost.length > 0 && algorithms.length === 0) {
    const types = [...new Set(forHost.map((e) => e.keyType))].join(', ');
    throw new RegistryError('host_key_rejected', `known_hosts has only keys of types the SSH client cannot check for ${name} (${types}); add its ssh-ed25519, ECDSA or RSA key`, { where });
  }

  for (let attempt = 0; ; attempt++) {
    // every address passed the policy; the first that accepts a connection is used
    let socket: net.Socket | undefined;
    let failure: unknown;
    for (const address of addresses) {
      try {
        socket = await connectTcp(address, remote.port, policy.connectTimeoutMs, o.signal);
        break;
      } catch (e) {
        if (o.signal.aborted) throw o.signal.reason;
        failure = e;
      }
    }
    if (!socket) {
      const e = failure;
      const code = (e as { code?: string }).code ?? 'error';
      const err =
        code === 'SSH_CONNECT_TIMEOUT'
          ? new RegistryError('source_timeout', `connecting to ${name}: connection not established in time (MCPREG_FETCH_CONNECT_TIMEOUT)`, { where, transient: true })
          : new RegistryError('source_unavailable', `connecting to ${name} failed: ${code}`, { where, transient: TRANSIENT_SOCKET.has(code), cause: e });
      if (!err.transient || attempt >= policy.retries) throw err;
      await sleep(backoffDelay(attempt + 1, policy), o.signal);
      continue;
    }
    let verdict: HostKeyVerdict | undefined;
    const client = new Client();
    const config: ConnectConfig = {
      sock: socket,
      username: remote.user,
      privateKey: o.privateKey,
      readyTimeout: policy.connectTimeoutMs,
      tryKeyboard: false,
      hostVerifier: (key: Buffer) => {
        verdict = verifyHostKey(key, remote.host, remote.port, o.trust);
        return verdict.ok;
      },
      ...(algorithms.length > 0 ? { algorithms: { serverHostKey: algorithms as never } } : {}),
    };
    const close = () => {
      client.end();
      socket.destroy();
    };
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(o.signal.reason);
        o.signal.addEventListener('abort', onAbort, { once: true });
        client.once('ready', () => {
          o.signal.removeEventListener('abort', onAbort);
          resolve();
        });
        client.once('error', (e: Error & { level?: string }) => {
          o.signal.removeEventListener('abort', onAbort);
          reject(e);
        });
        client.connect(config);
      });
    } catch (e) {
      close();
      if (o.signal.aborted) throw o.signal.reason;
      if (verdict && !verdict.ok) {
        throw new RegistryError('host_key_rejected', `${verdict.message}; refusing to connect`, { where });
      }
      const level = (e as { level?: string }).level;
      if (level === 'client-authentication') {
        throw new RegistryError('auth_failed', `the SSH server ${name} refused the deploy key (${o.keyLabel}) for user ${remote.user}: publickey authentication failed`, { where });
      }
      if (level === 'client-timeout') {
        throw new RegistryError('source_timeout', `the SSH handshake with ${name} did not finish in time (MCPREG_FETCH_CONNECT_TIMEOUT)`, { where, transient: true });
      }
      const message = e instanceof Error ? e.message : String(e);
      const known = /no matching|handshake failed/i.test(message) ? ' (no host key, cipher or key exchange algorithm in common)' : '';
      throw new RegistryError('source_unavailable', `the SSH connection to ${name} failed: ${message}${known}`, { where, transient: level === 'client-socket', cause: e });
    }
    // a late error (the server closing) must not be unhandled; reads see the channel close
    client.on('error', () => {});
    return { client, close };
  }
}

const FLUSH = Buffer.from('0000');
const SERVICE_HEAD = Buffer.from('001e# service=git-upload-pack\n0000');

/**
 * Finds where the advertisement ends (through its flush-pkt) in a stream fed chunk by chunk,
 * in one pass: pkt-line headers are read, payloads skipped, nothing is copied. `end` is the
 * advertisement's length once its flush-pkt has arrived; `bad` when the stream is not pkt-lines.
 */
export class AdvertisementScanner {
  end = -1;
  bad = false;
  private header = '';
  private skip = 0;
  private offset = 0;

  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && this.end < 0 && !this.bad) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.header += String.fromCharCode(chunk[i]!);
      i++;
      if (this.header.length < 4) continue;
      const len = /^[0-9a-f]{4}$/i.test(this.header) ? parseInt(this.header, 16) : -1;
      this.header = '';
      if (len === 0) this.end = this.offset + i;
      else if (len < 4) this.bad = true; // not hex, or a delimiter an advertisement does not hold
      else this.skip = len - 4;
    }
    this.offset += i;
  }
}

/** One exec channel running git-upload-pack: its output as it arrives, its stderr, how it ended. */
class UploadPack {
  /** output not yet taken, as it arrived (joined once when taken: no copying per chunk) */
  private chunks: Buffer[] = [];
  private scanner: AdvertisementScanner | undefined = new AdvertisementScanner();
  private stderr = '';
  private ended = false;
  private exitCode: number | undefined;
  private wake: (() => void) | undefined;
  readonly v2: boolean;
  readonly channel: ClientChannel;
  private readonly o: GitSshOptions;
  private readonly budget: TransferBudget;

  constructor(channel: ClientChannel, v2: boolean, o: GitSshOptions, budget: TransferBudget) {
    this.channel = channel;
    this.v2 = v2;
    this.o = o;
    this.budget = budget;
    channel.on('data', (chunk: Buffer) => {
      try {
        budget.count(chunk.length, o.where);
      } catch {
        channel.destroy();
        return this.notify();
      }
      this.chunks.push(chunk);
      this.scanner?.feed(chunk);
      this.notify();
    });
    channel.stderr.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 2048) this.stderr += chunk.toString('utf8');
    });
    channel.on('exit', (code: number | null) => {
      if (typeof code === 'number') this.exitCode = code;
    });
    channel.on('close', () => {
      this.ended = true;
      this.notify();
    });
    channel.on('error', () => {
      this.ended = true;
      this.notify();
    });
  }

  private notify() {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async until(ready: () => boolean): Promise<void> {
    const { signal } = this.budget;
    while (!ready()) {
      const failed = this.budget.failure();
      if (failed) throw failed;
      if (signal.aborted) throw signal.reason;
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        this.wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
      });
    }
  }

  /** The server's words when it ended without the answer git expects, as a RegistryError. */
  private endedError(phase: string): RegistryError {
    const failed = this.budget.failure();
    if (failed) return failed;
    const name = this.o.remote.display;
    const said = excerpt(this.stderr.replace(/[^\x20-\x7e\n]/g, '').replace(/\s+/g, ' ').trim(), this.o.secrets, { maxChars: 300 });
    const detail = said ? `: ${said}` : this.exitCode !== undefined ? ` (exit code ${this.exitCode})` : '';
    if (/not found|does not exist|does not appear to be a git repository|no such (file|repo)/i.test(said)) {
      return new RegistryError('source_not_found', `repository ${name} not found on the server${detail}`, { where: this.o.where });
    }
    if (/permission denied|access denied|not authori[sz]ed|forbidden|denied to/i.test(said)) {
      return new RegistryError('auth_failed', `the server refused access to ${name}${detail}`, { where: this.o.where });
    }
    return new RegistryError('source_unavailable', `${phase}: git-upload-pack on the server ended early${detail}`, { where: this.o.where, transient: !said });
  }

  async advertisement(): Promise<Buffer> {
    const scanner = this.scanner!;
    await this.until(() => scanner.end >= 0 || scanner.bad);
    if (scanner.bad) throw new RegistryError('source_unavailable', `the server at ${this.o.remote.display} did not answer in git's pkt-line format`, { where: this.o.where });
    if (scanner.end < 0) throw this.endedError('reading the ref advertisement');
    const all = Buffer.concat(this.chunks);
    this.scanner = undefined;
    this.chunks = all.length > scanner.end ? [all.subarray(scanner.end)] : [];
    return all.subarray(0, scanner.end);
  }

  async exchange(request: Uint8Array | undefined): Promise<Buffer> {
    if (request && request.byteLength > 0) this.channel.write(Buffer.from(request));
    this.channel.end();
    await this.until(() => false);
    const answer = Buffer.concat(this.chunks);
    this.chunks = [];
    // git-upload-pack exits 0 after a complete answer; anything else is the server's error
    if (answer.length === 0 || (this.exitCode !== undefined && this.exitCode !== 0)) throw this.endedError('fetching');
    return answer;
  }

  /** Ends a channel whose advertisement was all that was needed: a flush-pkt says "nothing wanted". */
  dismiss(): void {
    if (this.ended) return;
    this.channel.end(FLUSH);
  }
}

async function collect(body: GitHttpRequest['body']): Promise<Uint8Array | undefined> {
  if (!body) return undefined;
  const chunks: Uint8Array[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(c);
  return Buffer.concat(chunks);
}

function once(bytes: Uint8Array): AsyncIterableIterator<Uint8Array> {
  return (async function* () {
    yield bytes;
  })();
}

function spanAttrs(remote: SshRemote) {
  return { 'network.protocol.name': 'ssh', 'server.address': remote.host, 'server.port': remote.port, 'url.path': remote.path.slice(0, 200), 'mcpreg.source': 'git' };
}

function createTransport(conn: Connection, o: GitSshOptions, budget: TransferBudget): LimitedGitHttp & { dispose(): void } {
  const requests: LimitedGitHttp['requests'] = [];
  const channels = new Set<UploadPack>();
  let kept: UploadPack | undefined;

  const open = (v2: boolean) =>
    new Promise<UploadPack>((resolve, reject) => {
      const options = v2 ? { env: { GIT_PROTOCOL: 'version=2' } } : {};
      conn.client.exec(uploadPackCommand(o.remote.path), options, (err, channel) => {
        if (err) return reject(new RegistryError('source_unavailable', `the SSH server ${o.remote.display} refused to run git-upload-pack: ${err.message}`, { where: o.where, cause: err }));
        const up = new UploadPack(channel, v2, o, budget);
        channels.add(up);
        resolve(up);
      });
    });

  const http: HttpClient = {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      try {
        const phase = (req.method ?? 'GET').toUpperCase() === 'GET' ? 'advertise' : 'upload-pack';
        return await outgoing().child('git-upload-pack', { ...spanAttrs(o.remote), 'mcpreg.git.request': phase }, () => exchange(req));
      } catch (e) {
        // closing the connection on a limit, the timeout or the sync's cancellation fails what
        // was in flight (ssh2: "Unable to exec"); that is not the server's doing
        const failed = budget.failure();
        if (failed) throw failed;
        if (budget.signal.aborted) throw budget.signal.reason;
        throw e;
      }
    },
  };
  async function exchange(req: GitHttpRequest): Promise<GitHttpResponse> {
    const failed = budget.failure();
    if (failed) throw failed;
    const url = new URL(req.url);
    const method = (req.method ?? 'GET').toUpperCase();
    const v2 = Object.entries(req.headers ?? {}).some(([k, v]) => k.toLowerCase() === 'git-protocol' && /version=2/.test(v));
    const response = (body: Uint8Array, contentType: string): GitHttpResponse => {
      requests.push({ method, path: url.pathname, status: 200 });
      return { url: req.url, method, statusCode: 200, statusMessage: 'OK', headers: { 'content-type': contentType }, body: once(body) };
    };
    if (method === 'GET' && url.pathname.endsWith('/info/refs') && url.searchParams.get('service') === 'git-upload-pack') {
      kept?.dismiss();
      kept = undefined;
      const up = await open(v2);
      const ad = await up.advertisement();
      kept = up;
      return response(Buffer.concat([SERVICE_HEAD, ad]), 'application/x-git-upload-pack-advertisement');
    }
    if (method === 'POST' && url.pathname.endsWith('/git-upload-pack')) {
      const body = await collect(req.body);
      let up = kept && kept.v2 === v2 ? kept : undefined;
      if (kept && !up) kept.dismiss();
      kept = undefined;
      if (!up) {
        up = await open(v2);
        await up.advertisement();
      }
      const answer = await up.exchange(body);
      budget.checkResponse(answer, o.where);
      return response(asUint8(answer), 'application/x-git-upload-pack-result');
    }
    throw new RegistryError('unsupported', `the SSH transport serves only git-upload-pack (asked for ${method} ${url.pathname})`, { where: o.where });
  }
  return {
    http,
    received: () => budget.received(),
    failure: () => budget.failure(),
    requests,
    dispose() {
      kept?.dismiss();
      for (const c of channels) c.channel.destroy();
    },
  };
}

/**
 * Connects (policy, host key, key auth), runs `fn` with an isomorphic-git transport over the
 * connection, and always closes it.
 */
export async function withGitSsh<T>(o: GitSshOptions, fn: (client: LimitedGitHttp) => Promise<T>): Promise<T> {
  const budget = new TransferBudget(o.policy.maxBytes, o.signal);
  // a client span for the connection (TCP, handshake, host key, key auth) and one per
  // git-upload-pack exchange, as for each HTTP request; host and path only
  const conn = await outgoing().child('ssh connect', spanAttrs(o.remote), () => connect({ ...o, signal: budget.signal }));
  const onAbort = () => conn.close();
  budget.signal.addEventListener('abort', onAbort, { once: true });
  const transport = createTransport(conn, o, budget);
  try {
    return await fn(transport);
  } finally {
    budget.signal.removeEventListener('abort', onAbort);
    transport.dispose();
    conn.close();
  }
}

