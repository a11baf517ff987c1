/**
 * The worker protocol's opening: magic numbers, version negotiation, the obsolete fields older minors still expect,
 * the features exchange (1.38+), the daemon's Nix version and trust (1.33+, 1.35+), then SetOptions.
 */
import { DaemonError } from './daemon-error.ts';
import type { DaemonConnection } from './daemon-connection.ts';
import { FrameWriter } from './frame-encode.ts';
import { readStderr, type DaemonLogEvent } from './stderr-stream.ts';
import {
  CLIENT_MINOR,
  MIN_MINOR,
  OP,
  PROTOCOL_MAJOR,
  SINCE,
  VERBOSITY_VOMIT,
  WORKER_MAGIC_1,
  WORKER_MAGIC_2,
  decodeVersion,
  encodeVersion,
  type ProtocolVersion,
} from './worker-protocol.ts';

/** What the handshake learnt about the daemon. */
export interface DaemonHello {
  /** The version both sides speak: the lower of the two. */
  readonly version: ProtocolVersion;
  /** The daemon's own version. */
  readonly daemonVersion: ProtocolVersion;
  /** Features both sides support (1.38+); this client asks for none, so always empty for now. */
  readonly features: readonly string[];
  /** The features the daemon offered (1.38+). */
  readonly daemonFeatures: readonly string[];
  /** The daemon's Nix version string (1.33+), e.g. `2.8.0`. */
  readonly nixVersion: string | undefined;
  /** Whether the daemon trusts this client (1.35+); undefined when it does not say. */
  readonly trusted: boolean | undefined;
}

/** Features this client can use: none yet (the read-only ops it sends do not change with any). */
const CLIENT_FEATURES: readonly string[] = [];

/**
 * Runs the handshake and SetOptions on a fresh connection.
 * @throws DaemonError DAEMON_BAD_MAGIC, DAEMON_UNSUPPORTED_VERSION, DAEMON_REMOTE_ERROR (SetOptions refused), or an
 *   error of the connection (timeout, closed, bad frame).
 */
export async function shakeHands(connection: DaemonConnection, onLog: (event: DaemonLogEvent) => void): Promise<DaemonHello> {
  const reader = connection.reader;
  const hello = await connection.run('handshake', async () => {
    connection.send(new FrameWriter().u64(WORKER_MAGIC_1).toBuffer());
    const magic = await reader.u64('magic');
    if (magic !== WORKER_MAGIC_2) {
      throw new DaemonError('DAEMON_BAD_MAGIC', `handshake: ${connection.socketPath} answered magic 0x${magic.toString(16)}, not a nix-daemon's`, {
        evidence: { socket: connection.socketPath, operation: 'handshake', expected: WORKER_MAGIC_2, actual: magic },
        hint: 'Point lower-store at a nix-daemon (or snix) socket.',
      });
    }
    const daemonVersion = decodeVersion(await reader.u64('protocol version'));
    if (daemonVersion.major !== PROTOCOL_MAJOR || daemonVersion.minor < MIN_MINOR) {
      throw new DaemonError(
        'DAEMON_UNSUPPORTED_VERSION',
        `handshake: nix-daemon ${connection.socketPath} speaks protocol ${daemonVersion.major}.${daemonVersion.minor}; this client speaks ${PROTOCOL_MAJOR}.${MIN_MINOR} to ${PROTOCOL_MAJOR}.${CLIENT_MINOR}`,
        {
          evidence: {
            socket: connection.socketPath,
            operation: 'handshake',
            daemonVersion,
            supported: { major: PROTOCOL_MAJOR, minMinor: MIN_MINOR, maxMinor: CLIENT_MINOR },
          },
          hint: daemonVersion.major !== PROTOCOL_MAJOR ? 'Use a daemon speaking protocol 1.x (any Nix since 2.3).' : 'Upgrade the daemon to Nix 2.3 or later.',
        },
      );
    }
    const version = { major: PROTOCOL_MAJOR, minor: Math.min(daemonVersion.minor, CLIENT_MINOR) };
    connection.send(new FrameWriter().u64(encodeVersion(version)).toBuffer());
    let daemonFeatures: string[] = [];
    if (version.minor >= SINCE.features) {
      connection.send(new FrameWriter().strings(CLIENT_FEATURES).toBuffer());
      daemonFeatures = await reader.strings('features');
    }
    const obsolete = new FrameWriter();
    if (version.minor >= SINCE.cpuAffinity) obsolete.u64(0);
    if (version.minor >= SINCE.reserveSpace) obsolete.bool(false);
    connection.send(obsolete.toBuffer());
    const nixVersion = version.minor >= SINCE.daemonNixVersion ? await reader.string('daemon Nix version') : undefined;
    const trusted = version.minor >= SINCE.trustedFlag ? await readTrust(connection) : undefined;
    const failure = await readStderr(reader, version.minor, onLog);
    if (failure !== undefined) throw remoteError(connection.socketPath, 'handshake', failure.message);
    const features = daemonFeatures.filter((feature) => CLIENT_FEATURES.includes(feature));
    return { version, daemonVersion, features, daemonFeatures, nixVersion, trusted };
  });
  await connection.run('SetOptions', async () => {
    connection.send(setOptionsRequest(hello.version.minor));
    const failure = await readStderr(reader, hello.version.minor, onLog);
    if (failure !== undefined) throw remoteError(connection.socketPath, 'SetOptions', failure.message);
  });
  return hello;
}

/**
 * Minimal options: no builds (one job, no substitutes, no fallback), quiet logs, no overrides. The daemon applies
 * them to this connection only.
 */
export function setOptionsRequest(minor: number): Buffer {
  const request = new FrameWriter()
    .u64(OP.SetOptions)
    .bool(false) // keepFailed
    .bool(false) // keepGoing
    .bool(false) // tryFallback
    .u64(0) // verbosity: lvlError
    .u64(1) // maxBuildJobs
    .u64(0) // maxSilentTime
    .bool(true) // obsolete useBuildHook
    .u64(VERBOSITY_VOMIT) // verboseBuild: off
    .u64(0) // obsolete logType
    .u64(0) // obsolete printBuildTrace
    .u64(1) // buildCores
    .bool(false); // useSubstitutes
  if (minor >= SINCE.setOptionsOverrides) request.u64(0);
  return request.toBuffer();
}

/** An optional trust flag: 0 unknown, 1 trusted, 2 not trusted. */
async function readTrust(connection: DaemonConnection): Promise<boolean | undefined> {
  const flag = await connection.reader.u64('trust flag');
  if (flag > 2) throw new DaemonError('DAEMON_BAD_FRAME', `handshake: nix-daemon sent trust flag ${flag}`, { evidence: { flag } });
  return flag === 0 ? undefined : flag === 1;
}

/** STDERR_ERROR as a DaemonError naming the operation. */
export function remoteError(socketPath: string, operation: string, message: string, extra: Record<string, unknown> = {}): DaemonError {
  return new DaemonError('DAEMON_REMOTE_ERROR', `${operation} on nix-daemon ${socketPath} failed: ${message}`, {
    evidence: { socket: socketPath, operation, daemonMessage: message, ...extra },
    hint: 'See the daemon message; the connection is still usable.',
  });
}
