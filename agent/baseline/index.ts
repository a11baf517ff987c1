/** The lower-store baseline: compact sorted sets of store path names, the lower DB's identity, the state file. */
export { sortKeyOrder } from './sort-keys.ts';
export { EntrySet, EntrySetBuilder } from './entry-set.ts';
export { diffEntrySets, type EntryDiff } from './entry-diff.ts';
export { compareDbIdentity, readLowerDbIdentity, isLowerDbIdentity, type LowerDbIdentity, type DbIdentityChange } from './db-identity.ts';
export {
  compareDaemonIdentity,
  daemonIdentityOf,
  readLowerDaemonIdentity,
  isLowerDaemonIdentity,
  type LowerDaemonIdentity,
  type DaemonIdentityChange,
} from './daemon-identity.ts';
export { entryKindOf, isLockFileName, type StoreDirEntryKind } from './store-dir-entry.ts';
export { scanStoreDir, type StoreDirScan, type ScanOptions } from './scan-store-dir.ts';
export { readDirStamp, dirStampsEqual, dirUnchangedSince, isDirStamp, type DirStamp } from './dir-stamp.ts';
export {
  captureLowerBaseline,
  refreshLowerBaseline,
  diffLowerBaselines,
  type LowerBaseline,
  type LowerStoreRef,
  type LowerStoreDrift,
  type CaptureOptions,
} from './lower-baseline.ts';
export { encodeBaseline, decodeBaseline, loadBaseline, saveBaseline, baselineFileOf, BASELINE_FILE_NAME, BASELINE_FORMAT_VERSION } from './baseline-file.ts';
export { BaselineError, BASELINE_ERROR_CODES, type BaselineErrorCode } from './baseline-errors.ts';
