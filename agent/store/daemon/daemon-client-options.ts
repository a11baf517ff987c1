/** The daemon client's options: their defaults, resolved once and checked, naming the option and the bad value. */
import { DaemonError } from './daemon-error.ts';
import type { DaemonLogEvent } from './stderr-stream.ts';

export interface DaemonClientOptions {
  /** Logical store dir the daemon's paths live under; every path sent or received is checked against it. Default `/nix/store`. */
  readonly storeDir?: string;
  /** Limit on opening the socket, in ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Limit on the handshake and on each operation (each batch of queryValidPaths), in ms. Default 30000. */
  readonly timeoutMs?: number;
  /** Largest string accepted from the daemon, in bytes. Default 1 MiB. */
  readonly maxStringBytes?: number;
  /** Largest list accepted from the daemon, in entries. Default 16 Mi. */
  readonly maxListLength?: number;
  /**
   * Send QueryRealisation. Default false: Nix 2.8's daemon worker aborts on it (a failed assertion, the connection
   * dropped) unless ca-derivations is enabled there; turn it on only for daemons known to answer it (snix: []).
   */
  readonly realisations?: boolean;
  /**
   * Connections queryPathInfos spreads its paths over (each one a worker process of the daemon): on two cores, two
   * fetch 20,000 paths' metadata in about 0.7 of the time of one (bench:daemon). Every other call uses the first.
   * Default 1.
   */
  readonly connections?: number;
  /** Paths per QueryValidPaths request. Default 4096. */
  readonly validPathsBatch?: number;
  /**
   * Requests written and not yet answered, at most (pipelining; the rest wait, unencoded, and go out as answers come
   * in). Default 128.
   */
  readonly maxInFlight?: number;
  /** Receives the daemon's log lines and activities. Default: dropped. */
  readonly onLog?: (event: DaemonLogEvent) => void;
  /** Aborts the connection and any pending operation (DAEMON_ABORTED). */
  readonly signal?: AbortSignal;
}

export const DAEMON_CLIENT_DEFAULTS = Object.freeze({
  storeDir: '/nix/store',
  connectTimeoutMs: 5000,
  timeoutMs: 30_000,
  maxStringBytes: 1 << 20,
  maxListLength: 1 << 24,
  validPathsBatch: 4096,
  maxInFlight: 128,
  connections: 1,
  realisations: false,
});

/** The options with every default filled in, frozen. */
export interface Resolved {
  readonly storeDir: string;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly maxStringBytes: number;
  readonly maxListLength: number;
  readonly validPathsBatch: number;
  readonly maxInFlight: number;
  readonly connections: number;
  readonly realisations: boolean;
  readonly onLog: (event: DaemonLogEvent) => void;
}

/**
 * Fills in defaults and checks every limit.
 * @throws DaemonError DAEMON_BAD_ARGUMENT (evidence: option, value).
 */
export function resolveOptions(options: DaemonClientOptions): Resolved {
  const resolved: { -readonly [K in keyof Resolved]: Resolved[K] } = { ...DAEMON_CLIENT_DEFAULTS, onLog: options.onLog ?? (() => undefined) };
  for (const key of ['connectTimeoutMs', 'timeoutMs', 'maxStringBytes', 'maxListLength', 'validPathsBatch', 'maxInFlight', 'connections'] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new DaemonError('DAEMON_BAD_ARGUMENT', `option ${key} must be a positive integer, got ${String(value)}`, { evidence: { option: key, value } });
    }
    resolved[key] = value;
  }
  if (options.storeDir !== undefined) resolved.storeDir = options.storeDir;
  if (options.realisations !== undefined) resolved.realisations = options.realisations;
  return Object.freeze(resolved);
}
