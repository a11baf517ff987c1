/**
 * One unix-socket connection to a nix-daemon (opened by connectSocket): writing requests (pipelined: up to
 * `maxInFlight` unanswered at once, the rest written as answers come in) and decoding their answers in order, as
 * bytes arrive, each under a timeout that starts when its answer is the next one due. Any failure other than a
 * daemon-reported error leaves the stream in an unknown state, so the connection is then dropped and every pending
 * and later exchange fails at once.
 */
import type net from 'node:net';
import { errnoCode, messageOf } from '../../errors/index.ts';
import { DaemonError } from './daemon-error.ts';
import { FrameWriter } from './frame-encode.ts';
import { FrameReader, NEED_MORE, type FrameLimits } from './frame-reader.ts';
import { abortedError, connectSocket, type Inbox } from './connect-socket.ts';

export interface ConnectionOptions extends FrameLimits {
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  /** Requests written and not yet answered, at most. */
  readonly maxInFlight: number;
  readonly signal: AbortSignal | undefined;
}

/** One request and its answer, as the connection runs it. */
export interface Exchange {
  /** The operation's name, for errors. */
  readonly operation: string;
  /** Appends the request's bytes (none for an answer the peer sends unasked, as in the handshake). */
  writeRequest(out: FrameWriter): void;
  /**
   * Decodes the answer from what has arrived, synchronously: returns it when complete; otherwise throws NEED_MORE,
   * having kept (and committed) whatever progress it wants to keep. Called again as more bytes arrive.
   */
  decode(reader: FrameReader): unknown;
  /** Called once, with the decoded answer or the error that ended the exchange. */
  settle(error: DaemonError | undefined, value: unknown): void;
}

export class DaemonConnection {
  readonly socketPath: string;
  private readonly reader: FrameReader;
  private readonly out = new FrameWriter();
  /** Exchanges not yet settled, from `head` on; those before `written` have had their request sent. */
  private pending: (Exchange | undefined)[] = [];
  private head = 0;
  private written = 0;
  private writeQueued = false;
  /** The operation whose answer is (or was last) being decoded: what errors and a close name. */
  private operation = 'connect';
  private broken: DaemonError | undefined;
  /** The head exchange's timeout: refreshed whenever another exchange becomes the head. */
  private timer: NodeJS.Timeout | undefined;

  private readonly socket: net.Socket;
  private readonly options: ConnectionOptions;
  private readonly onAbort = (): void => this.drop(abortedError(this.socketPath, this.dueOperation()));

  private constructor(socketPath: string, socket: net.Socket, options: ConnectionOptions, inbox: Inbox) {
    this.socketPath = socketPath;
    this.socket = socket;
    this.options = options;
    this.reader = new FrameReader(options, () => ({ socket: socketPath, operation: this.operation }));
    inbox.deliver = (bytes, length) => {
      this.reader.push(bytes, length);
      this.decodeArrived();
    };
    socket.on('error', (error) => this.drop(this.closedError(error)));
    socket.on('close', () => this.drop(this.closedError(undefined)));
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (options.signal?.aborted === true) this.onAbort();
  }

  /**
   * Opens the socket.
   * @throws DaemonError DAEMON_CONNECT_FAILED, DAEMON_CONNECT_TIMED_OUT, DAEMON_ABORTED.
   */
  static async open(socketPath: string, options: ConnectionOptions): Promise<DaemonConnection> {
    const { socket, inbox } = await connectSocket(socketPath, options);
    return new DaemonConnection(socketPath, socket, options, inbox);
  }

  /**
   * Queues `exchange`: its request goes out (with the others queued in the same tick, in one write) once fewer than
   * maxInFlight are unanswered; settle() gets its answer or error. A DaemonError DAEMON_REMOTE_ERROR fails that exchange
   * only; any other failure drops the connection. On a dropped connection it is settled at once with that failure.
   * Errors: DAEMON_TIMED_OUT, DAEMON_CLOSED, DAEMON_CLIENT_CLOSED, DAEMON_ABORTED, or what decode() throws (with
   * `socket` and `operation` added to its evidence).
   */
  submit(exchange: Exchange): void {
    if (this.broken !== undefined) return exchange.settle(this.lost(exchange.operation, this.broken), undefined);
    this.pending.push(exchange);
    if (this.pending.length - this.head === 1) this.armTimer();
    if (!this.writeQueued) {
      this.writeQueued = true;
      queueMicrotask(() => {
        this.writeQueued = false;
        this.writeRequests();
      });
    }
  }

  /** submit() as a promise. */
  run<T>(operation: string, writeRequest: (out: FrameWriter) => void, decode: (reader: FrameReader) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.submit({
        operation,
        writeRequest,
        decode,
        settle: (error, value) => (error === undefined ? resolve(value as T) : reject(error)),
      });
    });
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

  /**
   * Sends the requests the in-flight window has room for, in one write, once at most half the window is in flight:
   * a write per few dozen answers rather than one per answer, while the daemon still has half a window to work on.
   */
  private writeRequests(): void {
    if (this.broken !== undefined || this.written - this.head > this.options.maxInFlight >> 1) return;
    const limit = Math.min(this.pending.length, this.head + this.options.maxInFlight);
    while (this.written < limit) this.pending[this.written++]!.writeRequest(this.out);
    if (this.out.length > 0) this.socket.write(this.out.take());
  }

  /** Decodes every answer whose bytes are all in, settling each; then tops up the in-flight window. */
  private decodeArrived(): void {
    while (this.broken === undefined && this.head < this.written && this.reader.ready) {
      const exchange = this.pending[this.head]!;
      this.operation = exchange.operation;
      let value: unknown;
      try {
        value = exchange.decode(this.reader);
      } catch (error) {
        if (error === NEED_MORE) {
          this.reader.rewind();
          break;
        }
        const wrapped = this.inContext(error, exchange.operation);
        if (wrapped.code !== 'DAEMON_REMOTE_ERROR') return this.drop(wrapped);
        this.reader.commit();
        this.advance();
        exchange.settle(wrapped, undefined);
        continue;
      }
      this.reader.commit();
      this.advance();
      exchange.settle(undefined, value);
    }
    this.writeRequests();
  }

  /** The head exchange is done: the next one becomes the head, with a fresh timeout. */
  private advance(): void {
    this.pending[this.head++] = undefined;
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = this.written = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.written -= this.head;
      this.head = 0;
    }
    this.armTimer();
  }

  /** A timeout for the head exchange, or none when nothing is pending. */
  private armTimer(): void {
    if (this.head === this.pending.length) {
      clearTimeout(this.timer);
      this.timer = undefined;
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.timedOut(), this.options.timeoutMs);
    } else {
      this.timer.refresh();
    }
  }

  private timedOut(): void {
    const operation = this.dueOperation();
    const { timeoutMs } = this.options;
    this.drop(
      new DaemonError('DAEMON_TIMED_OUT', `nix-daemon ${this.socketPath} did not answer ${operation} within ${timeoutMs} ms`, {
        evidence: { socket: this.socketPath, operation, timeoutMs, bufferedBytes: this.reader.bufferedBytes },
        hint: 'The daemon is hung or overloaded (a lock held by a build or GC?); check it, or raise timeoutMs.',
      }),
    );
  }

  /** The operation whose answer is due next, else the last one decoded. */
  private dueOperation(): string {
    return this.pending[this.head]?.operation ?? this.operation;
  }

  /** The first failure wins: the head exchange gets it, every other pending and later one a copy naming its own operation. */
  private drop(error: DaemonError): void {
    if (this.broken === undefined) this.broken = error;
    const broken = this.broken;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.socket.destroy();
    this.reader.clear();
    const waiting = this.pending.slice(this.head);
    this.pending = [];
    this.head = this.written = 0;
    waiting.forEach((exchange, i) =>
      exchange!.settle(i === 0 ? this.inContext(broken, exchange!.operation) : this.lost(exchange!.operation, broken), undefined),
    );
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
    const busy = this.head < this.pending.length;
    const operation = this.dueOperation();
    const when = busy ? 'during' : 'after';
    return new DaemonError('DAEMON_CLOSED', `nix-daemon ${this.socketPath} closed the connection ${when} ${operation}${detail}`, {
      evidence: {
        socket: this.socketPath,
        operation,
        midOperation: busy,
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
