/**
 * An HTTP proxy on loopback in front of a plain-HTTP server (the embedded control plane) that
 * runs a hook before forwarding each request: a test acts on the server at an exact point of
 * a client's sequence (e.g. deletes an object between the client's list and its write).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';

export interface HookProxy {
  url: string;
  /** the same kubeconfig, its clusters pointed at the proxy */
  kubeConfig(kc: KubeConfig): KubeConfig;
  stop(): Promise<void>;
}

export async function startHookProxy(target: string, hook: (req: IncomingMessage) => Promise<void>): Promise<HookProxy> {
  const { hostname, port } = new URL(target);
  const server: Server = createServer((req, res) => {
    hook(req).then(
      () => {
        const up = httpRequest({ host: hostname, port, method: req.method, path: req.url, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        up.on('error', () => res.destroy());
        req.pipe(up);
      },
      (e: unknown) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`hook failed: ${String(e)}`);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    kubeConfig(kc) {
      const out = new KubeConfig();
      out.loadFromOptions({ clusters: kc.clusters.map((c) => ({ ...c, server: url })), users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
      return out;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
