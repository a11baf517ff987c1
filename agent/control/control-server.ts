/** The control socket server: a root-only unix socket (0600) taking line-delimited JSON requests, handled by injected actions. */
import { chmodSync, statSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { messageOf } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { ControlError } from './control-errors.ts';
import {
  CONTROL_MAX_REQUEST_BYTES,
  encodeControlLine,
  errorResponse,
  errorResponseFor,
  parseControlRequest,
  type ControlRequest,
  type ControlResponse,
} from './control-protocol.ts';
import { assertSocketDirSafe, clearStaleSocket } from './control-socket-path.ts';

/**
 * Handles one action. `signal` aborts when the client goes away, the request
 * times out, or the server closes. The result must be JSON-serialisable; a
 * throw becomes an error response (a WardenError keeps its code).
 */
export type ControlHandler = (request: ControlRequest, signal: AbortSignal) => Promise<unknown> | unknown;

export interface ControlServerOptions {
  readonly socketPath: string;
  /** Action name → handler. Unknown actions get CONTROL_UNKNOWN_ACTION listing these. */
  readonly handlers: Readonly<Record<string, ControlHandler>>;
  readonly logger?: Logger;
  /** Longest request line. Default CONTROL_MAX_REQUEST_BYTES (64 KiB). */
  readonly maxRequestBytes?: number;
  /** How long a connection may take to send a complete request line. Default 10 s. */
  readonly readTimeoutMs?: number;
  /** How long a handler may run (a remount waits for retries). Default 15 min. */
  readonly requestTimeoutMs?: number;
  /**
   * Simultaneous connections (each held while its remount runs). Default 4096: a burst of Nix hooks must not be
   * dropped, and Node raises the open-file limit to the hard limit at start. Connections past it are closed at once.
   */
  readonly maxConnections?: number;
}

/** Default limit of simultaneous connections, and the listen backlog. */
export const CONTROL_MAX_CONNECTIONS = 4096;

export interface ControlServer {
  readonly socketPath: string;
  /** Stops accepting, aborts running handlers, waits up to `graceMs` for their answers, removes the socket. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Listens on `socketPath` with mode 0600 (created under umask 077, so it is
 * never briefly open to others). Refuses, with ControlError, a directory
 * others can write (CONTROL_DIR_UNSAFE), a live socket (CONTROL_SOCKET_IN_USE)
 * and a non-socket file (CONTROL_PATH_NOT_SOCKET); removes a stale socket.
 * Requests on one connection are answered in order; each is bounded in size
 * (`maxRequestBytes`) and time (`readTimeoutMs` to arrive, `requestTimeoutMs`
 * to run).
 */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const { socketPath, logger } = options;
  const maxRequestBytes = options.maxRequestBytes ?? CONTROL_MAX_REQUEST_BYTES;
  const readTimeoutMs = options.readTimeoutMs ?? 10_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 15 * 60_000;
  assertSocketDirSafe(socketPath);
  if ((await clearStaleSocket(socketPath)) === 'removed-stale') logger?.info('removed a stale control socket (no agent answered on it)', { socketPath });

  const closing = new AbortController();
  const connections = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const done = serveConnection(socket, { ...options, maxRequestBytes, readTimeoutMs, requestTimeoutMs }, closing.signal).finally(() => {
      sockets.delete(socket);
      connections.delete(done);
    });
    connections.add(done);
  });
  server.maxConnections = options.maxConnections ?? CONTROL_MAX_CONNECTIONS;
  await listenPrivately(server, socketPath);
  const inode = statSync(socketPath).ino;
  logger?.info('control socket listening', { socketPath });

  let closed: Promise<void> | undefined;
  return {
    socketPath,
    close(graceMs = 5000) {
      closed ??= (async () => {
        closing.abort(new ControlError('CONTROL_CLOSING', 'the agent is stopping'));
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(connections), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        await stopped;
        // Remove the socket only if it is still ours (not a newer agent's).
        try {
          if (statSync(socketPath).ino === inode) unlinkSync(socketPath);
        } catch {
          // Already gone.
        }
      })();
      return closed;
    },
  };
}

/** `listen` with umask 077, then chmod 0600 for good measure. Throws ControlError CONTROL_LISTEN_FAILED. */
async function listenPrivately(server: Server, socketPath: string): Promise<void> {
  const previous = process.umask(0o077);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ path: socketPath, backlog: CONTROL_MAX_CONNECTIONS }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (cause) {
    throw new ControlError('CONTROL_LISTEN_FAILED', `cannot listen on ${socketPath}: ${messageOf(cause)}`, { cause, evidence: { socketPath } });
  } finally {
    process.umask(previous);
  }
  chmodSync(socketPath, 0o600);
}

/** Requests one connection may queue behind the one being answered. */
const MAX_QUEUED_REQUESTS = 16;

interface ConnectionLimits {
  readonly handlers: Readonly<Record<string, ControlHandler>>;
  readonly logger?: Logger;
  readonly maxRequestBytes: number;
  readonly readTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** Reads request lines and answers each in turn; resolves when the connection ends. */
function serveConnection(socket: Socket, limits: ConnectionLimits, closing: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const gone = new AbortController();
    const onClosing = (): void => {
      // Answer nothing new; a running handler sees the abort and answers, then the connection ends.
      if (!busy) socket.end();
    };
    closing.addEventListener('abort', onClosing, { once: true });
    const lines: string[] = [];
    let pending = '';
    let busy = false;
    socket.setEncoding('utf8');
    socket.setTimeout(limits.readTimeoutMs);
    socket.on('timeout', () => {
      if (!busy) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      gone.abort(new ControlError('CONTROL_CONNECTION_LOST', 'the client went away'));
      closing.removeEventListener('abort', onClosing);
      resolve();
    });
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        lines.push(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
      if (lines.length > MAX_QUEUED_REQUESTS) {
        socket.end(encodeControlLine(errorResponse(null, 'CONTROL_BAD_REQUEST', `at most ${MAX_QUEUED_REQUESTS} requests may wait on one connection`)));
        socket.destroy();
        return;
      }
      if (Buffer.byteLength(pending) > limits.maxRequestBytes) {
        socket.end(encodeControlLine(errorResponse(null, 'CONTROL_REQUEST_TOO_LARGE', `a request line may be at most ${limits.maxRequestBytes} bytes`)));
        socket.destroy();
        return;
      }
      void drain();
    });

    const drain = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      socket.setTimeout(0);
      while (lines.length > 0 && !socket.destroyed) {
        const line = lines.shift()!;
        if (line.trim() === '') continue;
        const response =
          Buffer.byteLength(line) > limits.maxRequestBytes
            ? errorResponse(null, 'CONTROL_REQUEST_TOO_LARGE', `a request line may be at most ${limits.maxRequestBytes} bytes`)
            : await answer(line, limits, AbortSignal.any([gone.signal, closing]));
        if (!socket.destroyed) socket.write(encodeControlLine(response));
      }
      busy = false;
      if (closing.aborted) socket.end();
      else if (!socket.destroyed) socket.setTimeout(limits.readTimeoutMs);
    };
  });
}

/** One request → its response; never throws. */
async function answer(line: string, limits: ConnectionLimits, signal: AbortSignal): Promise<ControlResponse> {
  const parsed = parseControlRequest(line);
  if ('response' in parsed) return parsed.response;
  const { request } = parsed;
  const handler = Object.hasOwn(limits.handlers, request.action) ? limits.handlers[request.action] : undefined;
  if (handler === undefined) {
    return errorResponse(
      request.id,
      'CONTROL_UNKNOWN_ACTION',
      `unknown action "${request.action}"`,
      `actions: ${Object.keys(limits.handlers).sort().join(', ')}`,
    );
  }
  if (signal.aborted) return errorResponseFor(request.id, signal.reason);
  const timeout = new AbortController();
  const timer = setTimeout(
    () =>
      timeout.abort(
        new ControlError('CONTROL_HANDLER_TIMEOUT', `the action "${request.action}" did not finish within ${limits.requestTimeoutMs} ms`, {
          evidence: { action: request.action },
        }),
      ),
    limits.requestTimeoutMs,
  );
  const handlerSignal = AbortSignal.any([signal, timeout.signal]);
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(handlerSignal.reason);
    handlerSignal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const result = await Promise.race([Promise.resolve().then(() => handler(request, handlerSignal)), aborted]);
    return { id: request.id, ok: true, result: result ?? null };
  } catch (error) {
    limits.logger?.debug('control action failed', { action: request.action, error: messageOf(error) });
    return errorResponseFor(request.id, error);
  } finally {
    clearTimeout(timer);
    handlerSignal.removeEventListener('abort', onAbort);
  }
}
