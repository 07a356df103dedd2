/**
 * An object in another S3-compatible bucket as an export job's target: its own endpoint and
 * a key pair from a Secret of the job's namespace, never the sync function's credentials.
 * The endpoint is checked by the SSRF policy before the first request (scheme, addresses of
 * its host) and again on every connection (guardedLookup), as sources are.
 */
import type { S3Target } from '../kube/job-specs.ts';
import { createS3Store } from '../snapshots/s3-store.ts';
import { checkUrl, guardedLookup } from '../sources/policy.ts';
import type { FetchPolicy, SecretReader } from '../sources/types.ts';

export interface S3Write {
  target: S3Target;
  secrets: SecretReader;
  policy: FetchPolicy;
  text: string;
}

/** `s3://BUCKET/KEY` (at the endpoint's host when one is set): the job's result location. */
export function s3Location(target: S3Target): string {
  const at = target.endpoint ? ` at ${new URL(target.endpoint).host}` : '';
  return `s3://${target.bucket}/${target.key}${at}`;
}

export async function writeS3Object(write: S3Write): Promise<{ location: string }> {
  const { target } = write;
  const location = s3Location(target);
  const source = `spec.target.s3 (${location})`;
  if (target.endpoint) await checkUrl(new URL(target.endpoint), write.policy, { allowHttp: target.allowHttp, source });
  const { name, accessKeyIdKey, secretAccessKeyKey } = target.credentialsSecret;
  const [accessKeyId, secretAccessKey] = await Promise.all([write.secrets.read(name, accessKeyIdKey), write.secrets.read(name, secretAccessKeyKey)]);
  const store = await createS3Store({
    bucket: target.bucket,
    region: target.region,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    forcePathStyle: target.forcePathStyle,
    credentials: { accessKeyId, secretAccessKey },
    lookup: guardedLookup(write.policy, source),
    // the job's own backoff retries transient failures
    maxAttempts: 1,
  });
  try {
    await store.put(target.key, Buffer.from(write.text), { contentType: 'application/json' });
  } finally {
    store.close();
  }
  return { location };
}
