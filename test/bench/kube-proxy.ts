/**
 * The benchmarks' view of the API traffic: a plain HTTP proxy in front of the control plane that
 * shows each request to the caller before forwarding it, and a kubeconfig pointed at it.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';

/** listens on 127.0.0.1, calls `observe` with each request and its path, then forwards it to `target` */
export async function startObservingProxy(target: URL, observe: (req: IncomingMessage, path: string) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    observe(req, path);
    const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}` };
}

/** the same clusters, users and contexts as `kc`, every cluster's server replaced by `server` */
export function via(kc: KubeConfig, server: string): KubeConfig {
  const out = new KubeConfig();
  out.loadFromOptions({ clusters: kc.clusters.map((c) => ({ ...c, server })), users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
  return out;
}
