/** The baseline state file: a small binary format (header, JSON metadata, sorted keys, name parts, CRC-32), and its I/O. */
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { errnoCode, messageOf } from '../errors/index.ts';
import { StateFileError, readStateBytes, writeFileAtomic } from '../state/index.ts';
import { BaselineError } from './baseline-errors.ts';
import { isLowerDaemonIdentity } from './daemon-identity.ts';
import { isLowerDbIdentity } from './db-identity.ts';
import { isDirStamp } from './dir-stamp.ts';
import { STORE_PATH_KEY_BYTES, compareStorePathKeys } from '../store/index.ts';
import { EntrySet } from './entry-set.ts';
import type { LowerBaseline } from './lower-baseline.ts';

/** The file name of the baseline inside the agent's state dir. */
export const BASELINE_FILE_NAME = 'lower-baseline.bin';
/** The most bytes of a baseline read: 34 MB hold 1M entries, so this is room for about 15M. */
export const BASELINE_MAX_BYTES = 512 * 1024 * 1024;
/** Format version written; any other is BASELINE_UNSUPPORTED_VERSION. */
export const BASELINE_FORMAT_VERSION = 1;

const MAGIC = Buffer.from('OWBASELN', 'latin1');
/** Magic, then four u32 LE: version, metadata length, entry count, names length. */
const HEADER_BYTES = MAGIC.length + 16;
const CRC_BYTES = 4;

/** The metadata kept as JSON in the file (everything but the entries). */
type BaselineMeta = Omit<LowerBaseline, 'entries'>;

/** The baseline file in a state dir. */
export function baselineFileOf(stateDir: string): string {
  return path.join(stateDir, BASELINE_FILE_NAME);
}

/**
 * The file contents for `baseline`, as chunks to write in order (keys are not copied; names are gathered a
 * megabyte at a time; the CRC is computed on the way, so the last chunk comes after all others were consumed).
 * Pure. Layout: `OWBASELN`, u32 LE version, metadata length, entry count and names length; the metadata (UTF-8
 * JSON); count × 24 key bytes (ascending); the name parts in key order, each followed by `\n`; CRC-32 (u32 LE) of
 * all bytes before it.
 */
export function* encodeBaseline(baseline: LowerBaseline): Generator<Uint8Array, void, undefined> {
  const meta: BaselineMeta = {
    realStoreDir: baseline.realStoreDir,
    createdAt: baseline.createdAt,
    db: baseline.db,
    dirStamp: baseline.dirStamp,
    ...(baseline.daemon === undefined ? {} : { daemon: baseline.daemon }),
  };
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
  const { entries } = baseline;
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(BASELINE_FORMAT_VERSION, 8);
  header.writeUInt32LE(metaBytes.length, 12);
  header.writeUInt32LE(entries.count, 16);
  header.writeUInt32LE(entries.namesBytes, 20);
  let crc = 0;
  for (const chunk of [header, metaBytes, entries.keys.subarray(0, entries.count * STORE_PATH_KEY_BYTES)]) {
    crc = crc32(chunk, crc);
    yield chunk;
  }
  for (const chunk of entries.namesSection()) {
    crc = crc32(chunk, crc);
    yield chunk;
  }
  const trailer = Buffer.alloc(CRC_BYTES);
  trailer.writeUInt32LE(crc >>> 0, 0);
  yield trailer;
}

/**
 * Decodes baseline file contents. Pure; the returned entries are views into `bytes` (no copy).
 * @throws BaselineError BASELINE_CORRUPT (evidence: file, problem), BASELINE_UNSUPPORTED_VERSION (evidence: found).
 */
export function decodeBaseline(bytes: Uint8Array, file: string): LowerBaseline {
  const corrupt = (problem: string): BaselineError =>
    new BaselineError('BASELINE_CORRUPT', `baseline file ${file} is damaged: ${problem}`, {
      evidence: { file, problem },
      hint: 'overlay-warden starts afresh and writes a new baseline; the drift while it was down is not reported this time',
    });
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES + CRC_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt('not a baseline file (bad magic or too short)');
  const version = buf.readUInt32LE(8);
  if (version !== BASELINE_FORMAT_VERSION) {
    throw new BaselineError(
      'BASELINE_UNSUPPORTED_VERSION',
      `baseline file ${file} has format version ${version}, this overlay-warden reads ${BASELINE_FORMAT_VERSION}`,
      {
        evidence: { file, found: version, supported: BASELINE_FORMAT_VERSION },
        hint: 'overlay-warden starts afresh and writes a baseline in its own format',
      },
    );
  }
  const metaLength = buf.readUInt32LE(12);
  const count = buf.readUInt32LE(16);
  const namesLength = buf.readUInt32LE(20);
  const keysAt = HEADER_BYTES + metaLength;
  const namesAt = keysAt + count * STORE_PATH_KEY_BYTES;
  const crcAt = namesAt + namesLength;
  if (crcAt + CRC_BYTES !== buf.length) throw corrupt(`section lengths add up to ${crcAt + CRC_BYTES} bytes, the file has ${buf.length}`);
  if (crc32(buf.subarray(0, crcAt)) >>> 0 !== buf.readUInt32LE(crcAt)) throw corrupt('checksum mismatch');
  let meta: unknown;
  try {
    meta = JSON.parse(buf.subarray(HEADER_BYTES, keysAt).toString('utf8'));
  } catch {
    throw corrupt('metadata is not JSON');
  }
  if (!isBaselineMeta(meta)) throw corrupt('metadata does not have the expected fields');
  const keys = buf.subarray(keysAt, namesAt);
  for (let i = 1; i < count; i++) {
    if (compareStorePathKeys(keys, (i - 1) * STORE_PATH_KEY_BYTES, keys, i * STORE_PATH_KEY_BYTES) >= 0)
      throw corrupt(`keys are not strictly ascending at entry ${i}`);
  }
  const names = buf.subarray(namesAt, crcAt);
  let separators = 0;
  for (let at = names.indexOf(0x0a); at >= 0; at = names.indexOf(0x0a, at + 1)) separators++;
  if (separators !== count || (namesLength > 0 && names[namesLength - 1] !== 0x0a)) throw corrupt(`names section holds ${separators} names for ${count} keys`);
  return { ...meta, entries: new EntrySet(keys, count, names) };
}

/**
 * Loads the baseline from `file`; undefined when there is none. When `expectRealStoreDir` is given, a baseline of
 * another lower store dir is refused. Never returns a partly valid baseline.
 * @throws BaselineError BASELINE_UNREADABLE (evidence: errno), BASELINE_CORRUPT, BASELINE_UNSUPPORTED_VERSION,
 *   BASELINE_OTHER_STORE (evidence: expected, found). For all four the agent should start afresh.
 */
export function loadBaseline(file: string, expectRealStoreDir?: string): LowerBaseline | undefined {
  let bytes: Buffer | undefined;
  try {
    bytes = readStateBytes(file, BASELINE_MAX_BYTES);
  } catch (cause) {
    // A failed read (EISDIR), a FIFO or a device in its place, or more than BASELINE_MAX_BYTES.
    const reason = cause instanceof StateFileError ? cause.cause : cause;
    throw new BaselineError('BASELINE_UNREADABLE', `cannot read baseline file ${file}: ${errnoCode(reason) ?? messageOf(reason)}`, {
      cause,
      evidence: { file, errno: errnoCode(reason) },
      hint: 'check the permissions of the state dir; overlay-warden starts afresh meanwhile',
    });
  }
  if (bytes === undefined) return undefined;
  const baseline = decodeBaseline(bytes, file);
  if (expectRealStoreDir !== undefined && baseline.realStoreDir !== expectRealStoreDir) {
    throw new BaselineError(
      'BASELINE_OTHER_STORE',
      `baseline file ${file} describes lower store dir ${baseline.realStoreDir}, not the configured ${expectRealStoreDir}`,
      {
        evidence: { file, expected: expectRealStoreDir, found: baseline.realStoreDir },
        hint: 'the configuration changed; overlay-warden starts afresh with a baseline of the configured lower store',
      },
    );
  }
  return baseline;
}

/**
 * Saves `baseline` to `file` atomically (temp file, fsync, rename): a crash leaves the old or the new baseline.
 * @throws BaselineError BASELINE_WRITE_FAILED (evidence: file, errno); the previous file is kept.
 */
export function saveBaseline(file: string, baseline: LowerBaseline): void {
  try {
    writeFileAtomic(file, encodeBaseline(baseline));
  } catch (cause) {
    const errno = cause instanceof StateFileError ? cause.evidence['errno'] : errnoCode(cause);
    throw new BaselineError('BASELINE_WRITE_FAILED', `cannot save baseline file ${file}: ${String(errno ?? messageOf(cause))}`, {
      cause,
      evidence: { file, errno },
      hint: cause instanceof StateFileError ? cause.hint : 'check that the state dir is writable',
    });
  }
}

function isBaselineMeta(value: unknown): value is BaselineMeta {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['realStoreDir'] === 'string' &&
    typeof v['createdAt'] === 'string' &&
    (v['db'] === null || isLowerDbIdentity(v['db'])) &&
    // Absent in baselines saved before daemon identities were recorded: they still load.
    (v['daemon'] === undefined || v['daemon'] === null || isLowerDaemonIdentity(v['daemon'])) &&
    (v['dirStamp'] === null || isDirStamp(v['dirStamp']))
  );
}
