/**
 * A TCP proxy on loopback in front of a server (the embedded control plane), for faults of the
 * Kubernetes API: `freeze()` accepts connections and requests but forwards nothing until
 * `thaw()` (an API server that hangs), `stop()` closes everything.
 */
import { createServer, connect, type Socket } from 'node:net';

export interface FreezableProxy {
  url: string;
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

export async function startFreezableProxy(target: string): Promise<FreezableProxy> {
  const { hostname, port } = new URL(target);
  let frozen = false;
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    if (frozen) client.pause(), upstream.pause();
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    freeze() {
      frozen = true;
      // unpipe so that flowing streams stop moving bytes both ways
      for (const [c, u] of pairs) c.unpipe(u), u.unpipe(c), c.pause(), u.pause();
    },
    thaw() {
      frozen = false;
      for (const [c, u] of pairs) c.pipe(u), u.pipe(c), c.resume(), u.resume();
    },
    async stop() {
      for (const [c, u] of pairs) c.destroy(), u.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
