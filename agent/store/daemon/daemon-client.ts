/**
 * A read-only nix-daemon client: connects, shakes hands, and answers the queries a local-overlay store asks of its
 * lower store. It never sends a write operation: only the ops in worker-protocol.ts's OP exist here.
 */
import { STORE_PATH_HASH_LENGTH } from '../store-path.ts';
import { isNixBase32Char } from '../nix-base32.ts';
import { DaemonError } from './daemon-error.ts';
import { DaemonConnection } from './daemon-connection.ts';
import type { FrameWriter } from './frame-encode.ts';
import type { FrameReader } from './frame-reader.ts';
import { shakeHands, type DaemonHello } from './handshake.ts';
import { checkStorePath, type DaemonPathInfo } from './daemon-path-info.ts';
import { isDrvOutputId, readRealisations, REALISATION_MINORS, type DaemonRealisation } from './daemon-realisation.ts';
import { CallbackOp, ListProgress, type OpContext } from './op-exchange.ts';
import { queryPathInfosOn } from './path-info-bulk.ts';
import { SINCE, type OpName } from './worker-protocol.ts';
import { resolveOptions, type DaemonClientOptions, type Resolved } from './daemon-client-options.ts';

export { DAEMON_CLIENT_DEFAULTS, type DaemonClientOptions } from './daemon-client-options.ts';

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
  /**
   * queryPathInfo of every path, in the order given (undefined where not valid): pipelined on the connection, at
   * most twice maxInFlight queued at a time, so a million paths cost no million pending requests. Rejects with the
   * first error.
   */
  queryPathInfos(paths: readonly string[]): Promise<(DaemonPathInfo | undefined)[]>;
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
  /** Drops the connection(s); later calls throw DAEMON_CLIENT_CLOSED. Idempotent. */
  close(): void;
}

/**
 * Connects to the nix-daemon at `socketPath` and runs the handshake and SetOptions.
 * @throws DaemonError DAEMON_BAD_ARGUMENT, DAEMON_CONNECT_FAILED, DAEMON_CONNECT_TIMED_OUT, DAEMON_BAD_MAGIC,
 *   DAEMON_UNSUPPORTED_VERSION, DAEMON_TIMED_OUT, DAEMON_CLOSED, DAEMON_BAD_FRAME, DAEMON_FRAME_TOO_LARGE, DAEMON_ABORTED.
 */
export async function connectDaemon(socketPath: string, options: DaemonClientOptions = {}): Promise<DaemonClient> {
  const resolved = resolveOptions(options);
  const opened = await Promise.allSettled(Array.from({ length: resolved.connections }, () => openConnection(socketPath, resolved, options.signal)));
  const connections = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = opened.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    for (const { connection } of connections) connection.close();
    throw failed.reason;
  }
  return new ReadOnlyDaemonClient(connections, resolved);
}

/** One connection, its handshake and SetOptions done; closed again when they fail. */
async function openConnection(
  socketPath: string,
  options: Resolved,
  signal: AbortSignal | undefined,
): Promise<{ connection: DaemonConnection; hello: DaemonHello }> {
  const connection = await DaemonConnection.open(socketPath, { ...options, signal });
  try {
    return { connection, hello: await shakeHands(connection, options.onLog) };
  } catch (error) {
    connection.close();
    throw error;
  }
}

class ReadOnlyDaemonClient implements DaemonClient {
  readonly socketPath: string;
  readonly storeDir: string;
  readonly hello: DaemonHello;
  /** The first connection: every call but queryPathInfos. */
  private readonly connection: DaemonConnection;
  /** All of them, each with the context of its ops. */
  private readonly connections: readonly { readonly connection: DaemonConnection; readonly context: OpContext }[];
  private readonly options: Resolved;
  private readonly context: OpContext;

  constructor(connections: readonly { connection: DaemonConnection; hello: DaemonHello }[], options: Resolved) {
    const first = connections[0]!;
    this.connection = first.connection;
    this.hello = first.hello;
    this.options = options;
    this.socketPath = first.connection.socketPath;
    this.storeDir = options.storeDir;
    this.connections = connections.map(({ connection, hello }) => ({
      connection,
      context: { socketPath: this.socketPath, storeDir: this.storeDir, minor: hello.version.minor, onLog: options.onLog },
    }));
    this.context = this.connections[0]!.context;
  }

  async isValidPath(path: string): Promise<boolean> {
    const arg = this.arg(path);
    return this.op(
      'IsValidPath',
      (out) => out.string(arg),
      (reader) => reader.bool('valid'),
    );
  }

  async queryValidPaths(paths: readonly string[]): Promise<string[]> {
    for (const path of paths) this.arg(path);
    const wanted = [...new Set(paths)];
    const asked = new Set(wanted);
    const answers: Promise<string[]>[] = [];
    for (let start = 0; start < wanted.length; start += this.options.validPathsBatch) {
      const batch = wanted.slice(start, start + this.options.validPathsBatch);
      const args = (out: FrameWriter): void => {
        out.strings(batch);
        if (this.hello.version.minor >= SINCE.validPathsSubstitute) out.bool(false);
      };
      answers.push(this.pathList('QueryValidPaths', args, 'valid paths'));
    }
    const valid = new Set((await Promise.all(answers)).flat());
    for (const path of valid) {
      if (!asked.has(path)) throw this.badAnswer('QueryValidPaths', `answered '${path}', which was not asked about`, { path });
    }
    return wanted.filter((path) => valid.has(path));
  }

  async queryPathInfo(path: string): Promise<DaemonPathInfo | undefined> {
    return (await this.queryPathInfos([path]))[0];
  }

  async queryPathInfos(paths: readonly string[]): Promise<(DaemonPathInfo | undefined)[]> {
    for (const path of paths) this.arg(path);
    return queryPathInfosOn(this.connections, paths, 2 * this.options.maxInFlight);
  }

  async queryReferrers(path: string): Promise<string[]> {
    const arg = this.arg(path);
    return this.pathList('QueryReferrers', (out) => out.string(arg), 'referrers');
  }

  async queryValidDerivers(path: string): Promise<string[]> {
    const arg = this.arg(path);
    return this.pathList('QueryValidDerivers', (out) => out.string(arg), 'derivers');
  }

  async queryPathFromHashPart(hashPart: string): Promise<string | undefined> {
    if (hashPart.length !== STORE_PATH_HASH_LENGTH || ![...hashPart].every((char) => isNixBase32Char(char.charCodeAt(0)))) {
      throw new DaemonError('DAEMON_BAD_ARGUMENT', `'${hashPart}' is not a store path hash part (32 Nix base-32 chars)`, { evidence: { hashPart } });
    }
    return this.op(
      'QueryPathFromHashPart',
      (out) => out.string(hashPart),
      (reader) => {
        const path = reader.string('path');
        if (path === '') return undefined;
        checkStorePath(this.storeDir, path, 'path');
        if (!path.startsWith(`${this.storeDir}/${hashPart}-`))
          throw this.badAnswer('QueryPathFromHashPart', `answered '${path}' for hash part ${hashPart}`, { path });
        return path;
      },
    );
  }

  async queryAllValidPaths(): Promise<string[]> {
    return this.pathList('QueryAllValidPaths', () => undefined, 'valid paths');
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
    return this.op(
      'QueryRealisation',
      (out) => out.string(id),
      (reader) => readRealisations(reader, minor, this.storeDir, id),
    );
  }

  close(): void {
    for (const { connection } of this.connections) connection.close();
  }

  /** Queues op `name` with its arguments; its answer is decoded by `answer` after the daemon's log messages. */
  private op<T>(name: OpName, args: (out: FrameWriter) => void, answer: (reader: FrameReader) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.connection.submit(new CallbackOp(name, this.context, args, answer, (error, value) => (error === undefined ? resolve(value as T) : reject(error))));
    });
  }

  /** An op answering a list of store paths: read entry by entry, checked, sorted. */
  private pathList(name: OpName, args: (out: FrameWriter) => void, field: string): Promise<string[]> {
    const progress = new ListProgress(field);
    return this.op(name, args, (reader) => {
      const paths = progress.read(reader);
      for (const path of paths) checkStorePath(this.storeDir, path, field);
      return paths.sort();
    });
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
