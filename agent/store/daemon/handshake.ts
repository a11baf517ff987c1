/**
 * The worker protocol's opening: magic numbers, version negotiation, the obsolete fields older minors still expect,
 * the features exchange (1.38+), the daemon's Nix version and trust (1.33+, 1.35+), then SetOptions.
 */
import { DaemonError } from './daemon-error.ts';
import type { DaemonConnection } from './daemon-connection.ts';
import { FrameWriter } from './frame-encode.ts';
import type { FrameReader } from './frame-reader.ts';
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
  const socket = connection.socketPath;
  const daemonVersion = await connection.run(
    'handshake',
    (out) => out.u64(WORKER_MAGIC_1),
    (reader) => {
      const magic = reader.u64('magic');
      if (magic !== WORKER_MAGIC_2) {
        throw new DaemonError('DAEMON_BAD_MAGIC', `handshake: ${socket} answered magic 0x${magic.toString(16)}, not a nix-daemon's`, {
          evidence: { socket, operation: 'handshake', expected: WORKER_MAGIC_2, actual: magic },
          hint: 'Point lower-store at a nix-daemon (or snix) socket.',
        });
      }
      return decodeVersion(reader.u64('protocol version'));
    },
  );
  if (daemonVersion.major !== PROTOCOL_MAJOR || daemonVersion.minor < MIN_MINOR) {
    throw new DaemonError(
      'DAEMON_UNSUPPORTED_VERSION',
      `handshake: nix-daemon ${socket} speaks protocol ${daemonVersion.major}.${daemonVersion.minor}; this client speaks ${PROTOCOL_MAJOR}.${MIN_MINOR} to ${PROTOCOL_MAJOR}.${CLIENT_MINOR}`,
      {
        evidence: { socket, operation: 'handshake', daemonVersion, supported: { major: PROTOCOL_MAJOR, minMinor: MIN_MINOR, maxMinor: CLIENT_MINOR } },
        hint: daemonVersion.major !== PROTOCOL_MAJOR ? 'Use a daemon speaking protocol 1.x (any Nix since 2.3).' : 'Upgrade the daemon to Nix 2.3 or later.',
      },
    );
  }
  const version = { major: PROTOCOL_MAJOR, minor: Math.min(daemonVersion.minor, CLIENT_MINOR) };
  // The daemon reads the version, the features (1.38+) and the obsolete fields in order: all go in one write.
  let opening: { daemonFeatures: string[]; nixVersion: string | undefined; trusted: boolean | undefined } | undefined;
  const { daemonFeatures, nixVersion, trusted } = await connection.run(
    'handshake',
    (out) => {
      out.u64(encodeVersion(version));
      if (version.minor >= SINCE.features) out.strings(CLIENT_FEATURES);
      if (version.minor >= SINCE.cpuAffinity) out.u64(0);
      if (version.minor >= SINCE.reserveSpace) out.bool(false);
    },
    (reader) => {
      if (opening === undefined) {
        const features = version.minor >= SINCE.features ? reader.strings('features') : [];
        const daemonNix = version.minor >= SINCE.daemonNixVersion ? reader.string('daemon Nix version') : undefined;
        opening = { daemonFeatures: features, nixVersion: daemonNix, trusted: version.minor >= SINCE.trustedFlag ? readTrust(reader) : undefined };
        reader.commit();
      }
      const failure = readStderr(reader, version.minor, onLog);
      if (failure !== undefined) throw remoteError(socket, 'handshake', failure.message);
      return opening;
    },
  );
  await connection.run(
    'SetOptions',
    (out) => out.raw(setOptionsRequest(version.minor)),
    (reader) => {
      const failure = readStderr(reader, version.minor, onLog);
      if (failure !== undefined) throw remoteError(socket, 'SetOptions', failure.message);
    },
  );
  const features = daemonFeatures.filter((feature) => CLIENT_FEATURES.includes(feature));
  return { version, daemonVersion, features, daemonFeatures, nixVersion, trusted };
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
function readTrust(reader: FrameReader): boolean | undefined {
  const flag = reader.u64('trust flag');
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
