/**
 * The log messages ("stderr") a nix-daemon sends after every request, before the answer: log lines, activities,
 * and either STDERR_LAST (the answer follows) or STDERR_ERROR (the operation failed).
 */
import { DaemonError } from './daemon-error.ts';
import type { FrameReader } from './frame-reader.ts';
import { SINCE, STDERR } from './worker-protocol.ts';

/** What a daemon said while working on one operation. */
export type DaemonLogEvent =
  | { readonly type: 'line'; readonly text: string }
  | { readonly type: 'start-activity'; readonly id: number; readonly level: number; readonly activityType: number; readonly text: string }
  | { readonly type: 'stop-activity'; readonly id: number }
  | { readonly type: 'result'; readonly id: number; readonly resultType: number };

/** The error a daemon reported, as read from STDERR_ERROR. */
export interface RemoteFailure {
  readonly message: string;
  /** Nix's exit status (protocol < 1.26) or undefined. */
  readonly status: number | undefined;
  /** The traces' texts (protocol ≥ 1.26). */
  readonly traces: readonly string[];
}

/**
 * Reads log messages up to STDERR_LAST, passing each to `onLog`. Returns undefined after STDERR_LAST, or the
 * daemon's error after STDERR_ERROR (the connection stays usable: the daemon waits for the next request).
 * @throws DaemonError DAEMON_BAD_FRAME (unknown tag, a field of unknown type, a data request: a read-only op never
 *   sends or receives data), or whatever the reader throws.
 */
export async function readStderr(reader: FrameReader, minor: number, onLog: (event: DaemonLogEvent) => void): Promise<RemoteFailure | undefined> {
  for (;;) {
    const tag = await reader.u64('log message tag');
    switch (tag) {
      case STDERR.LAST:
        return undefined;
      case STDERR.ERROR:
        return readRemoteFailure(reader, minor);
      case STDERR.NEXT:
        onLog({ type: 'line', text: await reader.string('log line') });
        break;
      case STDERR.START_ACTIVITY: {
        const id = await reader.u64('activity id');
        const level = await reader.u64('activity level');
        const activityType = await reader.u64('activity type');
        const text = await reader.string('activity text');
        await skipFields(reader);
        await reader.u64('activity parent');
        onLog({ type: 'start-activity', id, level, activityType, text });
        break;
      }
      case STDERR.STOP_ACTIVITY:
        onLog({ type: 'stop-activity', id: await reader.u64('activity id') });
        break;
      case STDERR.RESULT: {
        const id = await reader.u64('activity id');
        const resultType = await reader.u64('result type');
        await skipFields(reader);
        onLog({ type: 'result', id, resultType });
        break;
      }
      default:
        throw badTag(reader, tag);
    }
  }
}

async function readRemoteFailure(reader: FrameReader, minor: number): Promise<RemoteFailure> {
  if (minor < SINCE.structuredErrors) {
    const message = await reader.string('error message');
    return { message, status: await reader.u64('error status'), traces: [] };
  }
  const kind = await reader.string('error type');
  if (kind !== 'Error') throw new DaemonError('DAEMON_BAD_FRAME', `nix-daemon sent an error of type '${kind}', not 'Error'`, { evidence: { kind } });
  await reader.u64('error level');
  await reader.string('error name');
  const message = await reader.string('error message');
  await noPosition(reader);
  const count = await reader.u64('error trace count');
  const traces: string[] = [];
  for (let i = 0; i < count; i++) {
    await noPosition(reader);
    traces.push(await reader.string('error trace'));
  }
  return { message, status: undefined, traces };
}

/** Nix never sends positions over the protocol (its own reader refuses them); a peer that does is not Nix. */
async function noPosition(reader: FrameReader): Promise<void> {
  const havePos = await reader.u64('error position flag');
  if (havePos !== 0) throw new DaemonError('DAEMON_BAD_FRAME', 'nix-daemon sent an error position, which Nix never does', { evidence: { havePos } });
}

/** Activity fields: a count, then each a type (0 number, 1 string) and its value. Only skipped: we log the text. */
async function skipFields(reader: FrameReader): Promise<void> {
  const count = await reader.u64('activity field count');
  for (let i = 0; i < count; i++) {
    const type = await reader.u64('activity field type');
    if (type === 0) await reader.u64('activity field');
    else if (type === 1) await reader.bytes('activity field');
    else throw new DaemonError('DAEMON_BAD_FRAME', `nix-daemon sent an activity field of unknown type ${type}`, { evidence: { type } });
  }
}

function badTag(reader: FrameReader, tag: number): DaemonError {
  const known = tag === STDERR.READ || tag === STDERR.WRITE;
  return new DaemonError(
    'DAEMON_BAD_FRAME',
    known ? 'nix-daemon asked to exchange data during a read-only operation' : `nix-daemon sent an unknown log message tag 0x${tag.toString(16)}`,
    { evidence: { tag, buffered: reader.bufferedBytes } },
  );
}
