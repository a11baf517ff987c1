/**
 * A read-only nix-daemon client: connects, shakes hands, and answers the queries a local-overlay store asks of its
 * lower store. It never sends a write operation: only the ops in worker-protocol.ts's OP exist here.
 */
import { STORE_PATH_HASH_LENGTH } from '../store-path.ts';
import { isNixBase32Char } from '../nix-base32.ts';
import { DaemonError } from './daemon-error.ts';
import { DaemonConnection } from './daemon-connection.ts';
import { FrameWriter } from './frame-encode.ts';
import { remoteError, shakeHands, type DaemonHello } from './handshake.ts';
import { checkStorePath, readPathInfo, type DaemonPathInfo } from './daemon-path-info.ts';
import { readStderr, type DaemonLogEvent } from './stderr-stream.ts';
import { isDrvOutputId, readRealisations, REALISATION_MINORS, type DaemonRealisation } from './daemon-realisation.ts';
import { OP, SINCE, type OpName } from './worker-protocol.ts';

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
  /** Paths per QueryValidPaths request. Default 4096. */
  readonly validPathsBatch?: number;
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
  realisations: false,
});

/**
 * An open, read-only nix-daemon connection. Every method rejects with a DaemonError (see DAEMON_ERROR_CODES).
 * Calls may overlap: their requests are pipelined on the one connection and answered in order.
 */
export interface DaemonClient {
  readonly socketPath: string;
  readonly storeDir: string;
  readonly hello: DaemonHello;
  isValidPath(path: string): Promise<boolean>;
  /** The valid ones of `paths`, in the order given, without duplicates; sent in batches of validPathsBatch, all in flight at once. Never substitutes. */
  queryValidPaths(paths: readonly string[]): Promise<string[]>;
  /** The path's metadata, or undefined when it is not valid. */
  queryPathInfo(path: string): Promise<DaemonPathInfo | undefined>;
  /** Sorted valid paths referencing `path` ([] when it is not valid). */
  queryReferrers(path: string): Promise<string[]>;
  /** Sorted valid derivations that have `path` as an output. */
  queryValidDerivers(path: string): Promise<string[]>;
  /** The valid path with this 32-char hash part, or undefined. */
  queryPathFromHashPart(hashPart: string): Promise<string | undefined>;
  /** Every valid path, sorted. */
  queryAllValidPaths(): Promise<string[]>;
  /**
   * The realisations of a CA derivation output (`sha256:<hash>!<output>`); [] when none. Only with the option
   * `realisations` and at protocols 1.27–1.37: otherwise DAEMON_UNSUPPORTED_OPERATION, and nothing is sent.
   */
  queryRealisation(id: string): Promise<DaemonRealisation[]>;
  /** Drops the connection; later calls throw DAEMON_CLIENT_CLOSED. Idempotent. */
  close(): void;
}

/**
 * Connects to the nix-daemon at `socketPath` and runs the handshake and SetOptions.
 * @throws DaemonError DAEMON_BAD_ARGUMENT, DAEMON_CONNECT_FAILED, DAEMON_CONNECT_TIMED_OUT, DAEMON_BAD_MAGIC,
 *   DAEMON_UNSUPPORTED_VERSION, DAEMON_TIMED_OUT, DAEMON_CLOSED, DAEMON_BAD_FRAME, DAEMON_FRAME_TOO_LARGE, DAEMON_ABORTED.
 */
export async function connectDaemon(socketPath: string, options: DaemonClientOptions = {}): Promise<DaemonClient> {
  const resolved = resolveOptions(options);
  const connection = await DaemonConnection.open(socketPath, { ...resolved, signal: options.signal });
  try {
    const hello = await shakeHands(connection, resolved.onLog);
    return new ReadOnlyDaemonClient(connection, hello, resolved);
  } catch (error) {
    connection.close();
    throw error;
  }
}

interface Resolved {
  readonly storeDir: string;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly maxStringBytes: number;
  readonly maxListLength: number;
  readonly validPathsBatch: number;
  readonly realisations: boolean;
  readonly onLog: (event: DaemonLogEvent) => void;
}

function resolveOptions(options: DaemonClientOptions): Resolved {
  const resolved: { -readonly [K in keyof Resolved]: Resolved[K] } = { ...DAEMON_CLIENT_DEFAULTS, onLog: options.onLog ?? (() => undefined) };
  for (const key of ['connectTimeoutMs', 'timeoutMs', 'maxStringBytes', 'maxListLength', 'validPathsBatch'] as const) {
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

class ReadOnlyDaemonClient implements DaemonClient {
  readonly socketPath: string;
  readonly storeDir: string;
  readonly hello: DaemonHello;
  private readonly connection: DaemonConnection;
  private readonly options: Resolved;

  constructor(connection: DaemonConnection, hello: DaemonHello, options: Resolved) {
    this.connection = connection;
    this.hello = hello;
    this.options = options;
    this.socketPath = connection.socketPath;
    this.storeDir = options.storeDir;
  }

  async isValidPath(path: string): Promise<boolean> {
    return this.op('IsValidPath', [this.arg(path)], () => this.connection.reader.bool('valid'));
  }

  async queryValidPaths(paths: readonly string[]): Promise<string[]> {
    for (const path of paths) this.arg(path);
    const wanted = [...new Set(paths)];
    const asked = new Set(wanted);
    const answers: Promise<string[]>[] = [];
    for (let start = 0; start < wanted.length; start += this.options.validPathsBatch) {
      const request = new FrameWriter().u64(OP.QueryValidPaths).strings(wanted.slice(start, start + this.options.validPathsBatch));
      if (this.hello.version.minor >= SINCE.validPathsSubstitute) request.bool(false);
      answers.push(this.exchange('QueryValidPaths', request.toBuffer(), () => this.pathList('valid paths')));
    }
    const valid = new Set((await Promise.all(answers)).flat());
    for (const path of valid) {
      if (!asked.has(path)) throw this.badAnswer('QueryValidPaths', `answered '${path}', which was not asked about`, { path });
    }
    return wanted.filter((path) => valid.has(path));
  }

  async queryPathInfo(path: string): Promise<DaemonPathInfo | undefined> {
    return this.op('QueryPathInfo', [this.arg(path)], async () => {
      if (!(await this.connection.reader.bool('valid'))) return undefined;
      return readPathInfo(this.connection.reader, this.storeDir, path);
    });
  }

  async queryReferrers(path: string): Promise<string[]> {
    return this.op('QueryReferrers', [this.arg(path)], () => this.pathList('referrers'));
  }

  async queryValidDerivers(path: string): Promise<string[]> {
    return this.op('QueryValidDerivers', [this.arg(path)], () => this.pathList('derivers'));
  }

  async queryPathFromHashPart(hashPart: string): Promise<string | undefined> {
    if (hashPart.length !== STORE_PATH_HASH_LENGTH || ![...hashPart].every((char) => isNixBase32Char(char.charCodeAt(0)))) {
      throw new DaemonError('DAEMON_BAD_ARGUMENT', `'${hashPart}' is not a store path hash part (32 Nix base-32 chars)`, { evidence: { hashPart } });
    }
    return this.op('QueryPathFromHashPart', [hashPart], async () => {
      const path = await this.connection.reader.string('path');
      if (path === '') return undefined;
      checkStorePath(this.storeDir, path, 'path');
      if (!path.startsWith(`${this.storeDir}/${hashPart}-`))
        throw this.badAnswer('QueryPathFromHashPart', `answered '${path}' for hash part ${hashPart}`, { path });
      return path;
    });
  }

  async queryAllValidPaths(): Promise<string[]> {
    return this.op('QueryAllValidPaths', [], () => this.pathList('valid paths'));
  }

  async queryRealisation(id: string): Promise<DaemonRealisation[]> {
    if (!isDrvOutputId(id)) {
      throw new DaemonError('DAEMON_BAD_ARGUMENT', `'${id}' is not a derivation output id (sha256:<hash>!<output>)`, { evidence: { id } });
    }
    const minor = this.hello.version.minor;
    if (!this.options.realisations) {
      throw new DaemonError('DAEMON_UNSUPPORTED_OPERATION', `QueryRealisation on nix-daemon ${this.socketPath}: not sent (option realisations is off)`, {
        evidence: { socket: this.socketPath, operation: 'QueryRealisation' },
        hint: 'Nix daemons without ca-derivations may abort on it; set realisations only for a daemon known to answer it.',
      });
    }
    if (minor < REALISATION_MINORS.first || minor > REALISATION_MINORS.last) {
      throw new DaemonError(
        'DAEMON_UNSUPPORTED_OPERATION',
        `QueryRealisation on nix-daemon ${this.socketPath}: not asked at protocol 1.${minor} (this client reads its answer at 1.${REALISATION_MINORS.first}-1.${REALISATION_MINORS.last})`,
        { evidence: { socket: this.socketPath, operation: 'QueryRealisation', minor } },
      );
    }
    return this.op('QueryRealisation', [id], () => readRealisations(this.connection.reader, minor, this.storeDir, id));
  }

  close(): void {
    this.connection.close();
  }

  /** Sends op + string arguments, reads the log stream, then the answer. */
  private op<T>(name: OpName, args: readonly string[], readAnswer: () => Promise<T>): Promise<T> {
    const request = new FrameWriter().u64(OP[name]);
    for (const arg of args) request.string(arg);
    return this.exchange(name, request.toBuffer(), readAnswer);
  }

  private exchange<T>(name: OpName, request: Buffer, readAnswer: () => Promise<T>): Promise<T> {
    return this.connection.request(name, request, async () => {
      const failure = await readStderr(this.connection.reader, this.hello.version.minor, this.options.onLog);
      if (failure !== undefined) throw remoteError(this.socketPath, name, failure.message, { traces: failure.traces });
      return readAnswer();
    });
  }

  /** A sorted list of checked store paths. */
  private async pathList(field: string): Promise<string[]> {
    const paths = await this.connection.reader.strings(field);
    for (const path of paths) checkStorePath(this.storeDir, path, field);
    return paths.sort();
  }

  /** A path argument, checked before it reaches the daemon. */
  private arg(path: string): string {
    try {
      return checkStorePath(this.storeDir, path, 'argument');
    } catch (cause) {
      throw new DaemonError('DAEMON_BAD_ARGUMENT', `'${path}' is not a store path in ${this.storeDir}`, { evidence: { path, storeDir: this.storeDir }, cause });
    }
  }

  private badAnswer(operation: string, what: string, evidence: Record<string, unknown>): DaemonError {
    return new DaemonError('DAEMON_BAD_ANSWER', `${operation} on nix-daemon ${this.socketPath}: the daemon ${what}`, {
      evidence: { socket: this.socketPath, operation, ...evidence },
    });
  }
}
