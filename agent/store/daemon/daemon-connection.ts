/**
 * One unix-socket connection to a nix-daemon: connecting with a timeout, writing requests (pipelined: several may be
 * in flight) and reading their answers one at a time, in order, each under a timeout. Any failure other than a daemon-reported error leaves
 * the stream in an unknown state, so the connection is then dropped and every later exchange fails at once.
 */
import net from 'node:net';
import { errnoCode, messageOf } from '../../errors/index.ts';
import { DaemonError } from './daemon-error.ts';
import { FrameReader, type FrameLimits } from './frame-reader.ts';

export interface ConnectionOptions extends FrameLimits {
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

export class DaemonConnection {
  readonly reader: FrameReader;
  private operation = 'connect';
  /** True while an exchange waits for its answer: a close then is mid-operation, otherwise the daemon hung up idle. */
  private busy = false;
  private queue: Promise<unknown> = Promise.resolve();
  private broken: DaemonError | undefined;

  readonly socketPath: string;
  private readonly socket: net.Socket;
  private readonly options: ConnectionOptions;

  private constructor(socketPath: string, socket: net.Socket, options: ConnectionOptions) {
    this.socketPath = socketPath;
    this.socket = socket;
    this.options = options;
    this.reader = new FrameReader(options, () => ({ socket: socketPath, operation: this.operation }));
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', (error) => this.drop(this.closedError(error)));
    socket.on('close', () => this.drop(this.closedError(undefined)));
  }

  /**
   * Opens the socket.
   * @throws DaemonError DAEMON_CONNECT_FAILED, DAEMON_CONNECT_TIMED_OUT, DAEMON_ABORTED.
   */
  static open(socketPath: string, options: ConnectionOptions): Promise<DaemonConnection> {
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted === true) return reject(abortedError(socketPath, 'connect'));
      const socket = net.createConnection({ path: socketPath });
      const finish = (error: DaemonError | undefined): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        if (error === undefined) return resolve(new DaemonConnection(socketPath, socket, options));
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

  /**
   * Runs `exchange` (which writes with send() and reads through `reader`) after the ones already queued, under the
   * timeout. A DaemonError DAEMON_REMOTE_ERROR passes through and keeps the connection; any other failure drops it.
   * @throws DaemonError DAEMON_TIMED_OUT, DAEMON_CLOSED, DAEMON_CLIENT_CLOSED, DAEMON_ABORTED, or what `exchange` throws
   *   (with `socket` and `operation` added to its evidence).
   */
  run<T>(operation: string, exchange: () => Promise<T>): Promise<T> {
    const next = this.queue.then(() => this.runNow(operation, exchange));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Writes one request. */
  send(request: Buffer): void {
    this.socket.write(request);
  }

  /**
   * Pipelining: writes `request` now, and reads its answer with `readAnswer` once the answers of the requests
   * written before it have been read (the daemon answers in order). Many requests can so be in flight on one
   * connection; each one's timeout starts when its answer is next to be read.
   * @throws as run().
   */
  request<T>(operation: string, request: Buffer, readAnswer: () => Promise<T>): Promise<T> {
    if (this.broken === undefined) {
      // Requests issued in one tick go out in one write (one syscall, not one each).
      if (this.socket.writableCorked === 0) {
        this.socket.cork();
        process.nextTick(() => this.socket.uncork());
      }
      this.socket.write(request);
    }
    return this.run(operation, readAnswer);
  }

  /** Drops the connection; later exchanges fail with DAEMON_CLIENT_CLOSED. Idempotent. */
  close(): void {
    this.drop(
      new DaemonError('DAEMON_CLIENT_CLOSED', `the nix-daemon client of ${this.socketPath} is closed`, {
        evidence: { socket: this.socketPath },
        hint: 'Connect again.',
      }),
    );
  }

  private async runNow<T>(operation: string, exchange: () => Promise<T>): Promise<T> {
    if (this.broken !== undefined) throw this.lost(operation, this.broken);
    const { signal, timeoutMs } = this.options;
    if (signal?.aborted === true) throw abortedError(this.socketPath, operation);
    this.operation = operation;
    this.busy = true;
    const timer = setTimeout(() => {
      this.drop(
        new DaemonError('DAEMON_TIMED_OUT', `nix-daemon ${this.socketPath} did not answer ${operation} within ${timeoutMs} ms`, {
          evidence: { socket: this.socketPath, operation, timeoutMs, bufferedBytes: this.reader.bufferedBytes },
          hint: 'The daemon is hung or overloaded (a lock held by a build or GC?); check it, or raise timeoutMs.',
        }),
      );
    }, timeoutMs);
    const onAbort = (): void => this.drop(abortedError(this.socketPath, operation));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await exchange();
    } catch (error) {
      const wrapped = this.inContext(error, operation);
      if (wrapped.code !== 'DAEMON_REMOTE_ERROR') this.drop(wrapped);
      throw wrapped;
    } finally {
      this.busy = false;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The first failure wins: it is what every pending and later exchange reports. */
  private drop(error: DaemonError): void {
    if (this.broken === undefined) this.broken = error;
    this.reader.fail(this.broken);
    this.socket.destroy();
  }

  /** The failure that broke the connection, as seen by a later `operation`: same code, both operations named. */
  private lost(operation: string, broken: DaemonError): DaemonError {
    return new DaemonError(broken.code, `${operation} on nix-daemon ${this.socketPath} could not complete: ${broken.message}`, {
      evidence: { ...broken.evidence, operation, failedOperation: broken.evidence['operation'] },
      hint: broken.hint,
      cause: broken,
    });
  }

  private closedError(cause: Error | undefined): DaemonError {
    const detail = cause === undefined ? '' : `: ${messageOf(cause)}`;
    const when = this.busy ? 'during' : 'after';
    return new DaemonError('DAEMON_CLOSED', `nix-daemon ${this.socketPath} closed the connection ${when} ${this.operation}${detail}`, {
      evidence: {
        socket: this.socketPath,
        operation: this.operation,
        midOperation: this.busy,
        bufferedBytes: this.reader.bufferedBytes,
        errno: errnoCode(cause),
      },
      hint: 'The daemon stopped or crashed (see its log); reconnect when it is back.',
      cause,
    });
  }

  /** Adds the socket and operation to a DaemonError raised without them; anything else becomes DAEMON_BAD_ANSWER. */
  private inContext(error: unknown, operation: string): DaemonError {
    if (error instanceof DaemonError) {
      if (error.message.includes(operation)) return error;
      return new DaemonError(error.code, `${operation} on nix-daemon ${this.socketPath}: ${error.message}`, {
        evidence: { socket: this.socketPath, operation, ...error.evidence },
        hint: error.hint,
        cause: error.cause,
      });
    }
    return new DaemonError('DAEMON_BAD_ANSWER', `${operation} on nix-daemon ${this.socketPath} failed: ${messageOf(error)}`, {
      evidence: { socket: this.socketPath, operation },
      cause: error,
    });
  }
}

function abortedError(socketPath: string, operation: string): DaemonError {
  return new DaemonError('DAEMON_ABORTED', `${operation} on nix-daemon ${socketPath} was aborted`, { evidence: { socket: socketPath, operation } });
}
