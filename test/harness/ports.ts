/** Loopback ports for the tests' servers and children. */
import { createServer } from 'node:net';

/**
 * A port the kernel just handed out on 127.0.0.1, closed again before it is returned: free for
 * a moment (a child can listen on it), and refusing connections until someone does.
 */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
