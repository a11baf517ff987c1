/** A loopback TCP port nothing listens on right now, for a server a test starts (agent HTTP, Prometheus). */
import net from 'node:net';

/** A port the kernel just handed out and released on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
