/** Opening a nix-daemon's unix socket: under a timeout and an abort signal, each failure a DaemonError naming `connect`. */
import net from 'node:net';
import { errnoCode, messageOf } from '../../errors/index.ts';
import { DaemonError } from './daemon-error.ts';

const READ_BUFFER_BYTES = 64 << 10;

/** Where the socket's reads go: set by the connection once it exists (nothing arrives before its first request). */
export interface Inbox {
  deliver: (bytes: Buffer, length: number) => void;
}

/**
 * Connects to `socketPath`. Reads land in one buffer of the socket's own (onread) and go to `inbox.deliver`, which
 * copies them out: no new 64 KiB buffer per read, which with one small answer per read would keep the garbage
 * collector busy.
 * @throws DaemonError DAEMON_CONNECT_FAILED, DAEMON_CONNECT_TIMED_OUT, DAEMON_ABORTED.
 */
export function connectSocket(
  socketPath: string,
  options: { readonly connectTimeoutMs: number; readonly signal: AbortSignal | undefined },
): Promise<{ socket: net.Socket; inbox: Inbox }> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted === true) return reject(abortedError(socketPath, 'connect'));
    const inbox: Inbox = { deliver: () => undefined };
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const socket = net.createConnection({
      path: socketPath,
      onread: {
        buffer: readBuffer,
        callback: (length) => {
          inbox.deliver(readBuffer, length);
          return true;
        },
      },
    });
    const finish = (error: DaemonError | undefined): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      if (error === undefined) return resolve({ socket, inbox });
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error): void => {
      const errno = errnoCode(error);
      finish(
        new DaemonError('DAEMON_CONNECT_FAILED', `cannot connect to nix-daemon socket ${socketPath}: ${messageOf(error)}`, {
          evidence: { socket: socketPath, operation: 'connect', errno },
          hint:
            errno === 'ENOENT' || errno === 'ECONNREFUSED'
              ? 'Start the nix-daemon (or snix) serving the lower store, or fix the socket path in lower-store.'
              : 'Run overlay-warden as a user allowed to open the daemon socket.',
          cause: error,
        }),
      );
    };
    const onAbort = (): void => finish(abortedError(socketPath, 'connect'));
    const timer = setTimeout(
      () =>
        finish(
          new DaemonError('DAEMON_CONNECT_TIMED_OUT', `connecting to nix-daemon socket ${socketPath} took over ${options.connectTimeoutMs} ms`, {
            evidence: { socket: socketPath, operation: 'connect', timeoutMs: options.connectTimeoutMs },
            hint: 'The daemon is overloaded or hung; check it, or raise connectTimeoutMs.',
          }),
        ),
      options.connectTimeoutMs,
    );
    socket.once('connect', () => finish(undefined));
    socket.on('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortedError(socketPath: string, operation: string): DaemonError {
  return new DaemonError('DAEMON_ABORTED', `${operation} on nix-daemon ${socketPath} was aborted`, { evidence: { socket: socketPath, operation } });
}
