/** Every error of the control socket, server and client side, in one place. */
import { WardenError } from '../errors/index.ts';

export type ControlErrorCode =
  // Server start-up.
  /** The socket's directory can be written by someone other than root or the agent's user. */
  | 'CONTROL_DIR_UNSAFE'
  /** Another process answers on the socket: a second agent must not steal it. */
  | 'CONTROL_SOCKET_IN_USE'
  /** Something other than a socket sits at the socket path; it is left alone. */
  | 'CONTROL_PATH_NOT_SOCKET'
  | 'CONTROL_LISTEN_FAILED'
  // A request the server refuses.
  | 'CONTROL_BAD_REQUEST'
  | 'CONTROL_REQUEST_TOO_LARGE'
  | 'CONTROL_UNKNOWN_ACTION'
  | 'CONTROL_HANDLER_FAILED'
  | 'CONTROL_HANDLER_TIMEOUT'
  | 'CONTROL_CLOSING'
  /** A remount request for another merged store dir than the agent supervises. */
  | 'CONTROL_WRONG_STORE'
  // Client side.
  /** No agent answers: no socket file, or nobody listening on it. */
  | 'CONTROL_NO_AGENT'
  | 'CONTROL_PERMISSION_DENIED'
  | 'CONTROL_TIMEOUT'
  | 'CONTROL_CONNECTION_LOST'
  | 'CONTROL_BAD_RESPONSE';

export class ControlError extends WardenError<ControlErrorCode> {}
