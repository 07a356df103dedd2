import type { Agent as HttpAgent, IncomingMessage, RequestOptions } from 'node:http';
import aws4 from 'aws4';
import { RegistryError } from '../errors.ts';
import { normalisePrefix, validateKey } from '../snapshots/keys.ts';
import type { GetOptions, SnapshotStore, StoredObject } from '../snapshots/store.ts';

/**
 * Reads snapshot objects from S3 without the AWS SDK: GET (with Range and If-None-Match) and
 * HEAD, signed with AWS Signature V4 by `aws4` (npm; 15 KB, no dependencies), over node:http(s)
 * with keep-alive.
 *
 * Why: the query function scales from zero, and loading the AWS SDK costs ~80 ms of CPU
 * before the first S3 request — more than a bare Node process needs to start and answer.
 * The reads are all the serving path needs; listing, writes and every credential source
 * other than static environment credentials go through the full SDK store (see
 * query-store.ts), which is loaded on first use.
 *
 * Behaviour matches s3-store.ts: a missing object is null, an unchanged one 'not-modified',
 * a partial read carries `range`; failures are RegistryErrors naming the S3 status, never a
 * header or a credential. Idempotent requests are retried on network errors, 5xx and 429.
 */

export interface S3ReaderOptions {
  bucket: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** attempts per request including the first (default 3) */
  maxAttempts?: number;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export type S3Reader = Pick<SnapshotStore, 'get' | 'exists' | 'description'> & { close(): void };

const http = process.getBuiltinModule('node:http');
// only for an https endpoint: node:https loads node:tls (~1 ms of a cold start)
const https = () => process.getBuiltinModule('node:https');


const encodeKey = (key: string) => key.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

const RETRY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);

export async function createS3Reader(options: S3ReaderOptions): Promise<S3Reader> {
  const region = options.region || 'us-east-1';
  const prefix = normalisePrefix(options.prefix);
  const endpoint = new URL(options.endpoint ?? `https://s3.${region}.amazonaws.com`);
  const pathStyle = options.forcePathStyle ?? options.endpoint !== undefined;
  const secure = endpoint.protocol === 'https:';
  const port = endpoint.port ? Number(endpoint.port) : secure ? 443 : 80;
  const hostname = pathStyle ? endpoint.hostname : `${options.bucket}.${endpoint.hostname}`;
  const hostHeader = endpoint.port ? `${hostname}:${endpoint.port}` : hostname;
  const basePath = endpoint.pathname.replace(/\/+$/, '');
  const agent: HttpAgent = new (secure ? https().Agent : http.Agent)({ keepAlive: true, maxSockets: 16 });
  const attempts = options.maxAttempts ?? 3;
  const connectTimeout = options.connectTimeoutMs ?? 5_000;
  const requestTimeout = options.requestTimeoutMs ?? 120_000;
  const where = `s3://${options.bucket}/${prefix} at ${endpoint.host}`;

  function once(method: 'GET' | 'HEAD', path: string, headers: Record<string, string>): Promise<Answer> {
    const signed = aws4.sign({ host: hostname, path, method, service: 's3', region, headers: { Host: hostHeader, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', ...headers } }, options.credentials);
    return new Promise<Answer>((resolve, reject) => {
      const request: RequestOptions = { host: hostname, port, method, path, headers: signed.headers, agent };
      const req = (secure ? https() : http).request(request, (res) => {
        // one buffer of the announced size, no list of chunks to concatenate
        const declared = Number(res.headers['content-length']);
        const sized = method === 'GET' && Number.isSafeInteger(declared) && declared >= 0 ? Buffer.allocUnsafe(declared) : undefined;
        let copied = 0;
        const extra: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          if (sized && extra.length === 0 && copied + chunk.length <= sized.length) {
            chunk.copy(sized, copied);
            copied += chunk.length;
          } else extra.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const head = sized ? sized.subarray(0, copied) : Buffer.alloc(0);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: extra.length === 0 ? head : Buffer.concat([head, ...extra]) });
        });
        res.on('error', reject);
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('S3 request timed out'), { code: 'ETIMEDOUT' })), requestTimeout);
      req.on('socket', (socket) => {
        if (socket.connecting) {
          const connectTimer = setTimeout(() => req.destroy(Object.assign(new Error('S3 connect timed out'), { code: 'ETIMEDOUT' })), connectTimeout);
          socket.once('connect', () => clearTimeout(connectTimer));
          socket.once('close', () => clearTimeout(connectTimer));
        }
      });
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end();
    });
  }

  async function send(method: 'GET' | 'HEAD', key: string, headers: Record<string, string>): Promise<Answer> {
    const path = `${basePath}${pathStyle ? `/${options.bucket}` : ''}/${encodeKey(prefix + validateKey(key))}`;
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await once(method, path, headers);
        if ((answer.status >= 500 || answer.status === 429) && attempt < attempts) {
          await new Promise((r) => setTimeout(r, 50 * 2 ** attempt * Math.random()));
          continue;
        }
        return answer;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if (attempt < attempts && RETRY_CODES.has(code)) {
          await new Promise((r) => setTimeout(r, 50 * 2 ** attempt * Math.random()));
          continue;
        }
        throw new RegistryError('store_unavailable', `cannot reach S3 (${code || 'network error'})`, { where: { key, file: where }, transient: true, cause: e });
      }
    }
  }

  function failure(answer: Answer, key: string): never {
    const code = /<Code>([^<]{1,64})<\/Code>/.exec(answer.body.toString('utf8', 0, 2048))?.[1] ?? 'Error';
    const label = `${code}, HTTP ${answer.status}`;
    const at = { key, file: where };
    if (answer.status === 401 || answer.status === 403) throw new RegistryError('auth_failed', `S3 refused the credentials or the permission (${label})`, { where: at });
    if (code === 'NoSuchBucket') throw new RegistryError('store_unavailable', 'the S3 bucket does not exist (NoSuchBucket)', { where: at });
    throw new RegistryError('store_unavailable', `S3 request failed (${label})`, { where: at, transient: answer.status >= 500 || answer.status === 429 });
  }

  async function get(key: string, getOptions: GetOptions = {}): Promise<StoredObject | 'not-modified' | null> {
    const headers: Record<string, string> = {};
    if (getOptions.ifNoneMatch) headers['if-none-match'] = getOptions.ifNoneMatch;
    const range = getOptions.range;
    if (range) headers.range = `bytes=${Math.max(0, range.start)}-${range.end === undefined ? '' : Math.max(range.start, range.end - 1)}`;
    const answer = await send('GET', key, headers);
    if (answer.status === 304) return 'not-modified';
    if (answer.status === 404 && !answer.body.toString('utf8', 0, 2048).includes('<Code>NoSuchBucket</Code>')) return null;
    if (answer.status === 416 && range) return get(key, getOptions.ifNoneMatch ? { ifNoneMatch: getOptions.ifNoneMatch } : {});
    if (answer.status !== 200 && answer.status !== 206) failure(answer, key);
    const object: StoredObject = { body: answer.body, etag: String(answer.headers.etag ?? '') };
    const contentType = answer.headers['content-type'];
    if (contentType) object.contentType = contentType;
    const part = answer.status === 206 ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(answer.headers['content-range'] ?? '')) : null;
    if (part) {
      const [start, last, size] = [Number(part[1]), Number(part[2]), Number(part[3])];
      if (start > 0 || last + 1 < size) object.range = { start, end: start + answer.body.length, size };
    }
    return object;
  }

  async function exists(key: string): Promise<boolean> {
    const answer = await send('HEAD', key, {});
    if (answer.status === 200) return true;
    if (answer.status === 404) return false;
    return failure(answer, key);
  }

  return { description: `${where} (direct reads)`, get, exists, close: () => agent.destroy() };
}
