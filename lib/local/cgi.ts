/** CGI (RFC 3875) response framing, for running `git http-backend` behind a Node server. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Splits CGI output into status, headers and the rest of the body. */
export function parseCgiHead(buf: Buffer): { status: number; headers: Array<[string, string]>; rest: Buffer } | undefined {
  let end = buf.indexOf('\r\n\r\n');
  let sep = 4;
  const lf = buf.indexOf('\n\n');
  if (lf !== -1 && (end === -1 || lf < end)) {
    end = lf;
    sep = 2;
  }
  if (end === -1) return undefined;
  let status = 200;
  const headers: Array<[string, string]> = [];
  for (const line of buf.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (name.toLowerCase() === 'status') status = parseInt(value, 10) || 200;
    else headers.push([name, value]);
  }
  return { status, headers, rest: buf.subarray(end + sep) };
}

/** What relayCgiResponse needs of a spawned CGI program (stdio all piped). */
export interface CgiChild {
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  exitCode: number | null;
  kill(): boolean;
  on(event: 'close', listener: (code: number | null) => void): unknown;
}

export interface RelayHooks {
  /** the status line the program answered with */
  onStatus?(status: number): void;
  /** the program exited without a response head: the text of the 500 it gets instead */
  onNoResponse(code: number | null, stderr: string): string;
}

/**
 * Streams a CGI program's output to `res`: the head (status and headers) is parsed as it
 * arrives, the body is passed through unbuffered, and the program is killed if the client
 * goes away. Its stderr is kept (the first 2000 characters) for the failure message.
 */
export function relayCgiResponse(child: CgiChild, res: ServerResponse, hooks: RelayHooks): void {
  let head: Buffer | null = Buffer.alloc(0);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 2000) stderr += d.toString();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    if (head === null) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const parsed = parseCgiHead(head);
    if (!parsed) return;
    head = null;
    hooks.onStatus?.(parsed.status);
    res.writeHead(parsed.status, parsed.headers);
    if (parsed.rest.length) res.write(parsed.rest);
  });
  child.on('close', (code) => {
    if (head !== null && !res.headersSent) {
      const text = hooks.onNoResponse(code, stderr);
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(text);
      return;
    }
    res.end();
  });
  res.on('close', () => {
    if (child.exitCode === null) child.kill();
  });
}

/** The CGI environment `git http-backend` needs for one request to a repository under `root`. */
export function gitBackendEnv(root: string, req: IncomingMessage, pathInfo: string, query: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    HOME: root,
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: pathInfo,
    QUERY_STRING: query,
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
  };
}
