/** The error of the nix-daemon client: one code per way a daemon, its socket or its answers can fail us. */
import { WardenError } from '../../errors/index.ts';

export const DAEMON_ERROR_CODES = [
  /** The socket could not be opened (ENOENT, ECONNREFUSED, EACCES…). */
  'DAEMON_CONNECT_FAILED',
  /** Connecting took longer than connectTimeoutMs. */
  'DAEMON_CONNECT_TIMED_OUT',
  /** The handshake or an operation got no complete answer within timeoutMs; the connection is dropped. */
  'DAEMON_TIMED_OUT',
  /** The daemon closed the connection (or it broke) in the middle of an answer. */
  'DAEMON_CLOSED',
  /** The daemon did not answer the client magic with WORKER_MAGIC_2: not a nix-daemon. */
  'DAEMON_BAD_MAGIC',
  /** The daemon speaks another major protocol version, or a minor older than the client supports. */
  'DAEMON_UNSUPPORTED_VERSION',
  /** A length prefix above the client's cap: refused before allocating anything. */
  'DAEMON_FRAME_TOO_LARGE',
  /** Bytes that are not the protocol: non-zero padding, a bool that is neither 0 nor 1, an unknown message tag. */
  'DAEMON_BAD_FRAME',
  /** Well-formed, but not an answer Nix gives: a store path outside the store dir, a malformed hash. */
  'DAEMON_BAD_ANSWER',
  /** The daemon reported an error (STDERR_ERROR) for this operation; the connection stays usable. */
  'DAEMON_REMOTE_ERROR',
  /** The client was closed, or an earlier failure left its connection in an unknown state. */
  'DAEMON_CLIENT_CLOSED',
  /** The caller's AbortSignal fired. */
  'DAEMON_ABORTED',
  /** A bad option or argument given to the client (it never reaches the daemon). */
  'DAEMON_BAD_ARGUMENT',
] as const;

export type DaemonErrorCode = (typeof DAEMON_ERROR_CODES)[number];

/** A nix-daemon that cannot be used. `evidence.socket` names the socket and `evidence.operation` the operation. */
export class DaemonError extends WardenError<DaemonErrorCode> {}
