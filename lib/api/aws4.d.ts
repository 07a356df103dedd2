// Types for the parts of `aws4` (npm, no bundled types) that s3-reader.ts uses.
declare module 'aws4' {
  interface SignableRequest {
    host?: string;
    path?: string;
    method?: string;
    service?: string;
    region?: string;
    headers?: Record<string, string | number>;
    body?: string | Buffer;
  }
  interface Credentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
  }
  /** signs in place (adds Authorization, X-Amz-Date, X-Amz-Security-Token) and returns the request */
  export function sign<T extends SignableRequest>(request: T, credentials: Credentials): T & { headers: Record<string, string | number> };
  const aws4: { sign: typeof sign };
  export default aws4;
}
