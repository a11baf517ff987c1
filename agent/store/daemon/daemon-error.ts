/** The error of the nix-daemon client: one code per way a daemon, its socket or its answers can fail us. */
import { WardenError, type WardenErrorOptions } from '../../errors/index.ts';

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
  /** The operation does not exist at the negotiated protocol version (or needs a feature not negotiated); nothing was sent. */
  'DAEMON_UNSUPPORTED_OPERATION',
  /** A bad option or argument given to the client (it never reaches the daemon). */
  'DAEMON_BAD_ARGUMENT',
] as const;

export type DaemonErrorCode = (typeof DAEMON_ERROR_CODES)[number];

/** What to do about each code, when the place that raises it has nothing more specific to say. */
const DEFAULT_HINTS: Readonly<Record<DaemonErrorCode, string>> = {
  DAEMON_CONNECT_FAILED: 'Start the nix-daemon serving the lower store, or fix the socket path in lower-store.',
  DAEMON_CONNECT_TIMED_OUT: 'The daemon is overloaded or hung; check it, or raise connectTimeoutMs.',
  DAEMON_TIMED_OUT: 'The daemon is hung or overloaded; check it, or raise timeoutMs. Reconnect to go on.',
  DAEMON_CLOSED: 'The daemon stopped or crashed (see its log); reconnect when it is back.',
  DAEMON_BAD_MAGIC: 'Point lower-store at a nix-daemon (or snix) socket.',
  DAEMON_UNSUPPORTED_VERSION: 'Use a daemon speaking worker protocol 1.21 or later (Nix 2.3+, snix).',
  DAEMON_FRAME_TOO_LARGE: 'The peer is not a sane nix-daemon, or the store needs a higher maxStringBytes/maxListLength.',
  DAEMON_BAD_FRAME: 'The peer does not speak the nix-daemon worker protocol; check what listens on the socket.',
  DAEMON_BAD_ANSWER: 'Check that the daemon serves the store dir the configuration expects (the store dir of lower-store).',
  DAEMON_REMOTE_ERROR: "See the daemon's message; the connection is still usable.",
  DAEMON_CLIENT_CLOSED: 'Connect again.',
  DAEMON_ABORTED: 'The caller gave up (shutdown or a newer request); nothing to fix.',
  DAEMON_UNSUPPORTED_OPERATION: 'Skip what needs this operation for this daemon; the connection is still usable.',
  DAEMON_BAD_ARGUMENT: 'Pass full store paths under the client storeDir, and positive integers as limits.',
};

/**
 * A nix-daemon that cannot be used. `evidence.socket` names the socket and `evidence.operation` the operation
 * (`connect`, `handshake`, `SetOptions` or the op's name). Every code has a hint, a default one when none is given.
 */
export class DaemonError extends WardenError<DaemonErrorCode> {
  constructor(code: DaemonErrorCode, message: string, options: WardenErrorOptions = {}) {
    super(code, message, { ...options, hint: options.hint ?? DEFAULT_HINTS[code] });
  }
}
