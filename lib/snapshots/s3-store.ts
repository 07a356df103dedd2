import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { finished, type Readable } from 'node:stream';
import type { LookupFunction } from '../sources/policy.ts';
import { RegistryError } from '../errors.ts';
import { normalisePrefix, validateKey, validatePrefix } from './keys.ts';
import { outgoing } from '../telemetry/outgoing.ts';
import { s3Failure, s3Status } from './s3-errors.ts';
import type { GetOptions, ListedObject, PutOptions, SnapshotStore, StoredObject } from './store.ts';

/**
 * The S3 snapshot store (production): AWS S3 or any S3-compatible service that implements
 * conditional PUT (`If-Match`, `If-None-Match: *`): MinIO, Cloudflare R2, Ceph RGW (recent),
 * Google Cloud Storage's XML API…
 *
 * The AWS SDK is imported inside `createS3Store`, so code that only uses the filesystem store
 * never loads it (the query function's cold start). Credentials come from the SDK's standard
 * chain (environment, shared config/profile, web identity / IRSA, ECS, instance metadata)
 * unless given explicitly; they are never logged or put into errors.
 */

export interface S3StoreOptions {
  bucket: string;
  /** key prefix inside the bucket, e.g. `mcp-registry/` (normalised to end with `/`) */
  prefix?: string;
  /** AWS region; defaults to the SDK's chain (AWS_REGION, profile) and then `us-east-1` */
  region?: string;
  /** custom endpoint for S3-compatible services, e.g. `http://minio.storage:9000` */
  endpoint?: string;
  /** path-style URLs (`endpoint/bucket/key`), needed by most S3-compatible services */
  forcePathStyle?: boolean;
  /** explicit credentials; omit to use the standard AWS credential chain */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** attempts per request including the first, with the SDK's backoff (default 3) */
  maxAttempts?: number;
  /** TCP/TLS connect timeout (default 5 s) */
  connectTimeoutMs?: number;
  /** whole request timeout (default 120 s: snapshot objects can be 100+ MB) */
  requestTimeoutMs?: number;
  /** resolves the endpoint's host for every connection (an export job's target: the SSRF policy's guardedLookup) */
  lookup?: LookupFunction;
}

export type S3Store = SnapshotStore & { readonly client: S3Client; close(): void };

/**
 * The whole body of a GET. The SDK's requestTimeout ends when the headers arrive, and its
 * stream reader waits only for 'end' or 'error': a body that stalls, or a connection that
 * closes part-way without an 'error' (Node does that for a keep-alive socket cut mid-body),
 * would be waited for forever, and with it the sync (found by the chaos run, test/faults/).
 * Here the body must arrive within the request timeout too, and ending early is an error.
 */
function readBody(body: Readable & { transformToByteArray(): Promise<Uint8Array> }, timeoutMs: number): Promise<Uint8Array> {
  if (typeof body.on !== 'function') return body.transformToByteArray();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => body.destroy(Object.assign(new Error(`the object's body did not arrive within ${timeoutMs} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' })), timeoutMs);
    body.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    // an http.IncomingMessage whose connection closed before the end: 'aborted', 'close', no 'error'
    const cut = () => {
      if ((body as { complete?: boolean }).complete === false) body.destroy(Object.assign(new Error('the connection closed before the whole object arrived'), { code: 'ECONNRESET' }));
    };
    body.once('aborted', cut);
    body.once('close', cut);
    finished(body, (e) => {
      clearTimeout(timer);
      if (!e) return resolve(Buffer.concat(chunks, size));
      const code = (e as NodeJS.ErrnoException).code;
      reject(code === 'ERR_STREAM_PREMATURE_CLOSE' ? Object.assign(new Error('the connection closed before the whole object arrived'), { code: 'ECONNRESET', cause: e }) : e);
    });
  });
}

/** `bucket` must look like a bucket name. */

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export async function createS3Store(options: S3StoreOptions): Promise<S3Store> {
  if (!options.bucket || !BUCKET_NAME.test(options.bucket)) {
    throw new RegistryError('invalid_argument', `invalid S3 bucket name ${JSON.stringify(options.bucket ?? '')}`);
  }
  const prefix = normalisePrefix(options.prefix);
  const bucket = options.bucket;
  let where = `s3://${bucket}/${prefix}`;
  if (options.endpoint) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new RegistryError('invalid_argument', 'invalid S3 endpoint URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RegistryError('invalid_argument', 'the S3 endpoint must be an http(s) URL');
    where += ` at ${url.host}`;
  }
  const loaded = await import('@aws-sdk/client-s3');
  // a bundle with code splitting (scripts/build.ts) exposes a CommonJS package's dynamic
  // import as its `default` export only
  const sdk = ('S3Client' in loaded ? loaded : (loaded as unknown as { default: typeof loaded }).default) as typeof loaded;

  const requestTimeoutMs = options.requestTimeoutMs ?? 120_000;
  const config: S3ClientConfig = {
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? 5_000,
      requestTimeout: requestTimeoutMs,
      throwOnRequestTimeout: true,
      ...(options.lookup ? { httpAgent: new HttpAgent({ keepAlive: true, lookup: options.lookup }), httpsAgent: new HttpsAgent({ keepAlive: true, lookup: options.lookup }) } : {}),
    },
  };
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  // the SDK would otherwise fail on a missing region even for endpoints that ignore it
  config.region = region || 'us-east-1';
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.forcePathStyle !== undefined) config.forcePathStyle = options.forcePathStyle;
  if (options.credentials) config.credentials = options.credentials;
  const client = new sdk.S3Client(config);
  // a client span per S3 call (retries included), when one is active
  client.middlewareStack.add(
    (next, context) => (args) =>
      outgoing().child(`S3.${String(context.commandName ?? 'Command').replace(/Command$/, '')}`, { 'rpc.system': 'aws-api', 'rpc.service': 'S3', 'rpc.method': String(context.commandName ?? '').replace(/Command$/, ''), 'aws.s3.bucket': bucket }, () => next(args)),
    { step: 'initialize', name: 'mcpregOutgoingSpan' },
  );

  const full = (key: string) => prefix + validateKey(key);
  // Every call is bounded as a whole, retries included: the SDK's requestTimeout ends at the
  // response headers, and a body it reads itself (a listing, a batch delete's answer) that
  // stalls would be waited for forever (the chaos run's prune hung on a stalled listing).
  const callLimitMs = (options.maxAttempts ?? 3) * (requestTimeoutMs + (options.connectTimeoutMs ?? 5_000)) + 1_000;
  const within = async <T>(call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> => {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<T>((resolve, reject) => {
        timer = setTimeout(() => {
          const e = Object.assign(new Error(`S3 call did not finish within ${callLimitMs} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' });
          abort.abort(e);
          reject(e);
        }, callLimitMs);
        // a synchronous throw (a bad key) rejects this promise and clears the timer too
        call(abort.signal).then(resolve, reject);
      });
    } finally {
      clearTimeout(timer);
    }
  };

  const store: S3Store = {
    description: where,
    client,

    async get(key: string, getOptions: GetOptions = {}): Promise<StoredObject | 'not-modified' | null> {
      const Key = full(key);
      try {
        const range = getOptions.range;
        const Range = range ? `bytes=${Math.max(0, range.start)}-${range.end === undefined ? '' : Math.max(range.start, range.end - 1)}` : undefined;
        const out = await within((abortSignal) => client.send(
          new sdk.GetObjectCommand({ Bucket: bucket, Key, ...(getOptions.ifNoneMatch ? { IfNoneMatch: getOptions.ifNoneMatch } : {}), ...(Range ? { Range } : {}) }), { abortSignal }));
        if (!out.Body) throw new RegistryError('store_unavailable', 'S3 returned no body', { where: { key }, transient: true });
        const body = await readBody(out.Body as unknown as Readable & { transformToByteArray(): Promise<Uint8Array> }, requestTimeoutMs);
        const object: StoredObject = { body, etag: out.ETag ?? '' };
        if (out.ContentType) object.contentType = out.ContentType;
        // `bytes 0-262143/20966820`: a part; a server that ignored the Range sent everything
        const part = out.ContentRange ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(out.ContentRange) : null;
        if (part) {
          const [start, last, size] = [Number(part[1]), Number(part[2]), Number(part[3])];
          if (start > 0 || last + 1 < size) object.range = { start, end: start + body.length, size };
        }
        return object;
      } catch (e) {
        const status = s3Status(e);
        if (status === 304) return 'not-modified';
        // a range past the end (an empty object): read it whole
        if (status === 416 && getOptions.range) return store.get(key, { ...(getOptions.ifNoneMatch ? { ifNoneMatch: getOptions.ifNoneMatch } : {}) });
        if (status === 404 && !isBucketMissing(e)) return null;
        s3Failure(e, { key, where });
      }
    },

    async put(key: string, body: Uint8Array, putOptions: PutOptions = {}): Promise<{ etag: string }> {
      const Key = full(key);
      if (putOptions.ifMatch !== undefined && putOptions.ifNoneMatch !== undefined) {
        throw new RegistryError('invalid_argument', 'ifMatch and ifNoneMatch cannot be combined', { where: { key } });
      }
      if (putOptions.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(putOptions.sha256)) {
        throw new RegistryError('invalid_argument', 'sha256 must be 64 lowercase hex digits', { where: { key } });
      }
      try {
        const command = new sdk.PutObjectCommand({
          Bucket: bucket,
          Key,
          Body: body,
          ContentLength: body.byteLength,
          ...(putOptions.contentType ? { ContentType: putOptions.contentType } : {}),
          ...(putOptions.ifMatch !== undefined ? { IfMatch: putOptions.ifMatch } : {}),
          ...(putOptions.ifNoneMatch !== undefined ? { IfNoneMatch: putOptions.ifNoneMatch } : {}),
        });
        const payloadHash = putOptions.sha256;
        if (payloadHash !== undefined) {
          // the signer takes a payload hash already in the headers instead of hashing the body
          command.middlewareStack.add(
            (next) => (args) => {
              (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = payloadHash;
              return next(args);
            },
            { step: 'build', name: 'mcpregPayloadHash' },
          );
        }
        const out = await within((abortSignal) => client.send(command, { abortSignal }));
        return { etag: out.ETag ?? '' };
      } catch (e) {
        const status = s3Status(e);
        const conditional = putOptions.ifMatch !== undefined || putOptions.ifNoneMatch !== undefined;
        if (conditional && (status === 412 || status === 409)) {
          const why = putOptions.ifNoneMatch ? 'the object already exists (ifNoneMatch: *)' : `the object changed (ifMatch ${putOptions.ifMatch})`;
          throw new RegistryError('conflict', status === 409 ? 'a concurrent conditional write to the object won' : why, {
            where: { key },
            cause: e,
          });
        }
        // AWS answers If-Match on a missing key with 404 NoSuchKey (others answer 412)
        if (putOptions.ifMatch !== undefined && status === 404 && !isBucketMissing(e)) {
          throw new RegistryError('conflict', `the object does not exist (ifMatch ${putOptions.ifMatch})`, { where: { key }, cause: e });
        }
        s3Failure(e, { key, where });
      }
    },

    async exists(key: string): Promise<boolean> {
      try {
        await within((abortSignal) => client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: full(key) }), { abortSignal }));
        return true;
      } catch (e) {
        if (s3Status(e) === 404 && !isBucketMissing(e)) return false;
        s3Failure(e, { key, where });
      }
    },

    async list(listPrefix: string): Promise<string[]> {
      return (await store.listObjects!(listPrefix)).map((o) => o.key);
    },

    async listObjects(listPrefix: string): Promise<ListedObject[]> {
      validatePrefix(listPrefix);
      const out: ListedObject[] = [];
      let ContinuationToken: string | undefined;
      try {
        do {
          const page = await within((abortSignal) => client.send(
            new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix + listPrefix, ...(ContinuationToken ? { ContinuationToken } : {}) }), { abortSignal }));
          for (const item of page.Contents ?? []) {
            if (!item.Key?.startsWith(prefix)) continue;
            out.push({ key: item.Key.slice(prefix.length), size: item.Size ?? 0, lastModified: item.LastModified ?? new Date(0) });
          }
          ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (ContinuationToken);
      } catch (e) {
        s3Failure(e, { key: listPrefix, where });
      }
      // S3 orders by UTF-8 bytes; the interface promises plain string order
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async delete(keys: string[]): Promise<void> {
      const all = keys.map(full);
      for (let start = 0; start < all.length; start += 1000) {
        const batch = all.slice(start, start + 1000);
        let errors;
        try {
          const out = await within((abortSignal) => client.send(
            new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }), { abortSignal }));
          errors = (out.Errors ?? []).filter((err) => err.Code !== 'NoSuchKey');
        } catch (e) {
          s3Failure(e, { key: batch[0]!.slice(prefix.length), where });
        }
        if (errors.length > 0) {
          const first = errors[0]!;
          const key = (first.Key ?? '').slice(prefix.length);
          throw new RegistryError(
            first.Code === 'AccessDenied' ? 'auth_failed' : 'store_unavailable',
            `S3 refused to delete ${errors.length} of ${batch.length} objects (${first.Code ?? 'error'}: ${first.Message ?? ''})`,
            { where: { key, file: where }, transient: first.Code === 'InternalError' || first.Code === 'SlowDown' },
          );
        }
      }
    },

    close(): void {
      client.destroy();
    },
  };
  return store;
}

function isBucketMissing(e: unknown): boolean {
  return (e as { name?: string }).name === 'NoSuchBucket';
}
