/** CGI (RFC 3875) response framing, for running `git http-backend` behind a Node server. */

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
