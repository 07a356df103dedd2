import type { Server } from 'node:http';
import { RegistryError } from '../errors.ts';

/** Listens, turning "port in use" and the like into one readable RegistryError. */
export function listen(server: Server, port: number, host: string, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      reject(
        new RegistryError('invalid_argument', e.code === 'EADDRINUSE' ? `${what}: port ${port} is already in use` : `${what}: cannot listen on ${host}:${port}: ${e.message}`, {
          cause: e,
        }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Stops a local server at once: no new connections, open ones (keep-alive, in flight) cut. */
export function closeNow(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
