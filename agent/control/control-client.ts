/** The control socket's client: one request, one response, bounded in time and size. */
import { createConnection } from 'node:net';
import { errnoCode } from '../errors/index.ts';
import { ControlError } from './control-errors.ts';
import { CONTROL_MAX_RESPONSE_BYTES, encodeControlLine, parseControlResponse, type ControlRequestId, type ControlResponse } from './control-protocol.ts';

export interface RequestControlOptions {
  /** Gives up (CONTROL_TIMEOUT) after this long without a response. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

let nextId = 1;

/**
 * Sends `request` (an `id` is added when missing) to the agent at
 * `socketPath` and resolves with its response, `ok` or not. Rejects with
 * ControlError: CONTROL_NO_AGENT (no socket, or nobody listening: callers may
 * fall back to acting directly), CONTROL_PERMISSION_DENIED, CONTROL_TIMEOUT,
 * CONTROL_CONNECTION_LOST (closed before answering), CONTROL_BAD_RESPONSE; or
 * with the signal's reason when aborted.
 */
export function requestControl(
  socketPath: string,
  request: { readonly action: string; readonly id?: ControlRequestId; readonly [field: string]: unknown },
  options: RequestControlOptions,
): Promise<ControlResponse> {
  const message = { ...request, id: request.id ?? `${process.pid}-${nextId++}`, action: request.action };
  return new Promise<ControlResponse>((resolve, reject) => {
    options.signal?.throwIfAborted();
    const socket = createConnection(socketPath);
    let received = '';
    let settled = false;
    const finish = (error: unknown, response?: ControlResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (response !== undefined) resolve(response);
      else reject(error);
    };
    const onAbort = (): void => finish(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () =>
        finish(
          new ControlError('CONTROL_TIMEOUT', `the agent on ${socketPath} did not answer "${message.action}" within ${options.timeoutMs} ms`, {
            evidence: { socketPath, action: message.action, timeoutMs: options.timeoutMs },
          }),
        ),
      options.timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(encodeControlLine(message)));
    socket.on('data', (chunk: string) => {
      received += chunk;
      const newline = received.indexOf('\n');
      if (newline < 0) {
        if (received.length > CONTROL_MAX_RESPONSE_BYTES)
          finish(
            new ControlError('CONTROL_BAD_RESPONSE', `the response from ${socketPath} is larger than ${CONTROL_MAX_RESPONSE_BYTES} bytes`, {
              evidence: { socketPath },
            }),
          );
        return;
      }
      const response = parseControlResponse(received.slice(0, newline));
      if (response === undefined)
        finish(
          new ControlError('CONTROL_BAD_RESPONSE', `the answer on ${socketPath} is not a control response`, {
            evidence: { socketPath, line: received.slice(0, 200) },
          }),
        );
      else finish(undefined, response);
    });
    socket.on('error', (error) => {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTSOCK') {
        finish(
          new ControlError('CONTROL_NO_AGENT', `no agent answers on ${socketPath} (${code})`, {
            cause: error,
            evidence: { socketPath, errno: code },
            hint: 'start the agent (overlay-warden run), or act directly (overlay-warden remount --direct)',
          }),
        );
      } else if (code === 'EACCES' || code === 'EPERM') {
        finish(
          new ControlError('CONTROL_PERMISSION_DENIED', `not allowed to use ${socketPath}: the control socket is for root`, {
            cause: error,
            evidence: { socketPath, errno: code },
            hint: 'run as root (e.g. with sudo)',
          }),
        );
      } else {
        finish(
          new ControlError('CONTROL_CONNECTION_LOST', `the connection to ${socketPath} failed: ${error.message}`, {
            cause: error,
            evidence: { socketPath, errno: code },
          }),
        );
      }
    });
    socket.on('close', () =>
      finish(new ControlError('CONTROL_CONNECTION_LOST', `the agent on ${socketPath} closed the connection without answering`, { evidence: { socketPath } })),
    );
  });
}
