/**
 * Part of check `layer.lower` for a daemon lower store: whether its nix-daemon answers on its socket. The probe
 * connects, shakes hands and closes (no operation is sent); the decision is pure.
 */
import fs from 'node:fs';
import { errnoCode } from '../errors/index.ts';
import { finding, type Finding } from '../findings/index.ts';
import { connectDaemon, DaemonError, type DaemonErrorCode, type DaemonHello, type LowerStoreLayout } from '../store/index.ts';

/** Limits of the probe: a daemon that needs longer to accept or to shake hands is reported as not answering. */
export const LOWER_DAEMON_PROBE = Object.freeze({ connectTimeoutMs: 2000, timeoutMs: 5000 });

/** What `lstat` found at the socket path (the connect follows a symlink, so its target is named). */
export type SocketFile =
  | { readonly kind: 'socket'; readonly mode: number; readonly uid: number; readonly symlinkTo: string | undefined }
  | { readonly kind: 'missing' | 'unreadable'; readonly errno: string | undefined }
  | { readonly kind: 'not-socket'; readonly fileType: string; readonly symlinkTo: string | undefined };

/** What the probe of a daemon lower store found. */
export interface LowerDaemonFacts {
  readonly socket: string;
  readonly file: SocketFile;
  /** What the handshake learnt; undefined when it failed. */
  readonly hello: DaemonHello | undefined;
  /** Why connecting or the handshake failed; undefined when it succeeded. */
  readonly failure:
    { readonly code: DaemonErrorCode; readonly message: string; readonly errno: string | undefined; readonly hint: string | undefined } | undefined;
}

/** lstat of the socket path, following a symlink only to name and type its target. */
export function probeSocketFile(socket: string): SocketFile {
  let stats: fs.Stats;
  let symlinkTo: string | undefined;
  try {
    stats = fs.lstatSync(socket);
    if (stats.isSymbolicLink()) {
      symlinkTo = fs.realpathSync(socket);
      stats = fs.statSync(socket);
    }
  } catch (error) {
    const errno = errnoCode(error);
    return { kind: errno === 'ENOENT' || errno === 'ENOTDIR' ? 'missing' : 'unreadable', errno };
  }
  if (stats.isSocket()) return { kind: 'socket', mode: stats.mode & 0o7777, uid: stats.uid, symlinkTo };
  return { kind: 'not-socket', fileType: fileTypeOf(stats), symlinkTo };
}

function fileTypeOf(stats: fs.Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFile()) return 'a regular file';
  if (stats.isFIFO()) return 'a FIFO';
  return 'a device';
}

/**
 * Connects to the lower store's daemon, shakes hands and closes (read-only: no operation is sent), within `limits`.
 * A DaemonError becomes `failure`, except DAEMON_ABORTED (`signal` fired), which rejects; so does a bug.
 */
export async function probeLowerDaemon(
  lower: LowerStoreLayout,
  socket: string,
  signal?: AbortSignal,
  limits: { readonly connectTimeoutMs: number; readonly timeoutMs: number } = LOWER_DAEMON_PROBE,
): Promise<LowerDaemonFacts> {
  const file = probeSocketFile(socket);
  // A path that is no socket is not connected to: nothing would answer, and the file type says more than ECONNREFUSED.
  if (file.kind === 'not-socket') return { socket, file, hello: undefined, failure: undefined };
  try {
    const client = await connectDaemon(socket, { storeDir: lower.storeDir, ...limits, ...(signal === undefined ? {} : { signal }) });
    const hello = client.hello;
    client.close();
    return { socket, file, hello, failure: undefined };
  } catch (error) {
    // An abort is the run's, not a finding about the daemon: the runner handles it.
    if (!(error instanceof DaemonError) || error.code === 'DAEMON_ABORTED') throw error;
    const errno = error.evidence['errno'];
    return {
      socket,
      file,
      hello: undefined,
      failure: { code: error.code, message: error.message, errno: typeof errno === 'string' ? errno : undefined, hint: error.hint },
    };
  }
}

/** Why the daemon cannot be used, as one word for the evidence's `problem`. */
export type LowerDaemonProblem = 'missing' | 'not-socket' | 'refused' | 'denied' | 'timed-out' | 'handshake-failed';

/** The problem word for a failed probe (pure). */
export function lowerDaemonProblem(facts: LowerDaemonFacts): LowerDaemonProblem | undefined {
  if (facts.file.kind === 'not-socket') return 'not-socket';
  const failure = facts.failure;
  if (failure === undefined) return undefined;
  if (failure.code === 'DAEMON_CONNECT_FAILED') {
    if (failure.errno === 'ENOENT' || failure.errno === 'ENOTDIR') return 'missing';
    if (failure.errno === 'EACCES' || failure.errno === 'EPERM') return 'denied';
    return 'refused';
  }
  if (failure.code === 'DAEMON_CONNECT_TIMED_OUT' || failure.code === 'DAEMON_TIMED_OUT') return 'timed-out';
  return 'handshake-failed';
}

/**
 * Decides (pure): `layer.lower-daemon-unreachable` (error: no socket there, not a socket, nothing listening, not
 * allowed, no answer in time, or a handshake that failed: Nix cannot open the lower store either), else
 * `layer.lower-daemon` (info: the protocol spoken, the daemon's Nix version and whether it trusts this user).
 */
export function decideLowerDaemon(facts: LowerDaemonFacts, lower: LowerStoreLayout): Finding[] {
  const { socket, file } = facts;
  const problem = lowerDaemonProblem(facts);
  const symlinkTo = file.kind === 'socket' || file.kind === 'not-socket' ? file.symlinkTo : undefined;
  const via = symlinkTo === undefined ? '' : ` (a symlink to ${symlinkTo})`;
  if (problem !== undefined) {
    const failure = facts.failure;
    const message =
      problem === 'not-socket'
        ? `the lower store's daemon socket ${socket}${via} is ${file.kind === 'not-socket' ? file.fileType : 'not a socket'}, not a socket: no nix-daemon can answer there, and Nix cannot open the lower store`
        : `the lower store's nix-daemon at ${socket}${via} cannot be used (${PROBLEM_TEXT[problem]}): ${failure?.message ?? ''}; Nix cannot open the lower store either`;
    return [
      finding(
        'layer.lower-daemon-unreachable',
        'error',
        message,
        {
          socket,
          problem,
          code: failure?.code ?? null,
          errno: failure?.errno ?? null,
          ...(symlinkTo === undefined ? {} : { symlinkTo }),
          lowerStore: lower.url,
        },
        hintFor(problem, socket, failure?.hint),
      ),
    ];
  }
  const hello = facts.hello!;
  const protocol = `${hello.version.major}.${hello.version.minor}`;
  const trust = hello.trusted === undefined ? 'does not say whether it trusts this user' : hello.trusted ? 'trusts this user' : 'does not trust this user';
  return [
    finding(
      'layer.lower-daemon',
      'info',
      `the lower store's metadata comes from the nix-daemon at ${socket}${via}: ${hello.nixVersion === undefined ? 'Nix' : `Nix ${hello.nixVersion}`}, protocol ${protocol}; it ${trust}`,
      {
        socket,
        protocol,
        daemonProtocol: `${hello.daemonVersion.major}.${hello.daemonVersion.minor}`,
        nixVersion: hello.nixVersion ?? null,
        trusted: hello.trusted ?? null,
        features: [...hello.features],
        ...(file.kind === 'socket' ? { socketMode: file.mode.toString(8).padStart(4, '0'), socketUid: file.uid } : {}),
        ...(symlinkTo === undefined ? {} : { symlinkTo }),
        lowerStore: lower.url,
      },
    ),
  ];
}

const PROBLEM_TEXT: Record<Exclude<LowerDaemonProblem, 'not-socket'>, string> = {
  missing: 'no socket there',
  refused: 'nothing listens on the socket',
  denied: 'not allowed to open the socket',
  'timed-out': 'no answer in time',
  'handshake-failed': 'the handshake failed',
};

function hintFor(problem: LowerDaemonProblem, socket: string, daemonHint: string | undefined): string {
  switch (problem) {
    case 'missing':
      return `start the nix-daemon (or snix's) that serves the lower store with its socket at ${socket} (nix-daemon takes it from NIX_DAEMON_SOCKET_PATH), or name its socket in \`lower-store\` (unix:///PATH)`;
    case 'not-socket':
      return `fix the socket path in \`lower-store\` (unix:///PATH): it must name the socket the lower store's nix-daemon listens on`;
    case 'refused':
      return `start the nix-daemon serving the lower store again: a daemon that stopped leaves its socket ${socket} behind, and nothing listens on it`;
    case 'denied':
      return `run overlay-warden as a user allowed to open ${socket} (the socket's permissions, and the daemon's allowed-users)`;
    case 'timed-out':
      return 'the daemon accepted no connection, or did not answer the handshake, in time: it is hung or overloaded; see its log, and restart it';
    case 'handshake-failed':
      return `${daemonHint ?? 'check what listens on the socket'} (a daemon that closes at once may refuse this user: see allowed-users in its nix.conf, and its log)`;
  }
}
