export { percentDecode, percentEncode, PercentEncodingError, type PercentEncodingErrorCode } from './percent-encoding.ts';
export { STORE_URL_ERROR_CODES, StoreUrlError, type StoreUrlErrorCode } from './store-url-error.ts';
export { STORE_PARAMS, type StoreUrlKind, type ParamType } from './store-url-params.ts';
export { parseStoreUrl, formatStoreUrl, MAX_LOWER_STORE_DEPTH } from './store-url.ts';
export type { ParsedStoreUrl, StoreUrlCommon, LocalStoreUrl, AutoStoreUrl, DaemonStoreUrl, LocalOverlayStoreUrl } from './parsed-store-url.ts';
export {
  resolveStoreLayout,
  resolveLowerStoreLayout,
  nixDefaults,
  NIX_DEFAULT_STORE_DIR,
  NIX_DEFAULT_STATE_DIR,
  StoreLayoutError,
  type StoreLayoutErrorCode,
  type NixEnv,
} from './resolve-store-layout.ts';
export type { StoreLayout, LowerStoreLayout } from './store-layout.ts';
export {
  parseNixConf,
  readNixConf,
  readNixConfStoreSetting,
  lastNixConfSetting,
  readTrustedNixConf,
  MAX_INCLUDE_DEPTH,
  NIX_CONF_MAX_BYTES,
  NIX_CONF_MAX_TOTAL_BYTES,
  NixConfError,
  type NixConfErrorCode,
  type NixConfEntry,
  type NixConfLocation,
  type NixConfSetting,
  type NixConf,
  type SkippedInclude,
  type ReadTextFile,
} from './nix-conf.ts';
export {
  NIX_BASE32_ALPHABET,
  encodeNixBase32,
  decodeNixBase32,
  nixBase32Length,
  isNixBase32Char,
  NixBase32Error,
  type NixBase32ErrorCode,
} from './nix-base32.ts';
export {
  parseStorePathName,
  isValidStorePathName,
  parseStorePath,
  baseNameIn,
  STORE_PATH_HASH_LENGTH,
  STORE_PATH_NAME_MAX_LENGTH,
  StorePathError,
  type StorePathErrorCode,
  type StorePathName,
  type ParsedStorePath,
} from './store-path.ts';
export { writeStorePathKey, hashPartOfKey, compareStorePathKeys, STORE_PATH_KEY_BYTES } from './store-path-key.ts';
export {
  parseNarHash,
  formatNarHash,
  NAR_HASH_FORMS,
  SHA256_BYTES,
  NarHashStringError,
  type NarHashStringErrorCode,
  type NarHashForm,
} from './nar-hash-string.ts';
export { narHashOfPathSync, type NarHashResult } from './nar.ts';
export { narHashOfMergedSync, type MarksOf, type MergedNarResult } from './nar-merge.ts';
export { NarError, type NarErrorCode, type UnsupportedFileType } from './nar-error.ts';
export { openNixDb, emptyNixDb, readNixDb, NIX_DB_OPEN_ATTEMPTS, type NixDb, type NixDbOptions } from './nix-db.ts';
export { NixDbError, toNixDbError, type NixDbErrorCode } from './nix-db-error.ts';
export { nixDbContentOf, inspectNixDbFile, describeNixDbContent, NIX_DB_CONTENTS, type NixDbContent, type NixDbFileFacts } from './nix-db-content.ts';
export { sqliteFileUri, parseSchemaVersion, readSchemaVersion, SCHEMA_FILE_MAX_BYTES, type NixDbOpenMode, type NixDbTables } from './nix-db-open.ts';
export { INTEGRITY_PRAGMA, type IntegrityProbe } from './nix-db-integrity.ts';
export { decodeValidPathRow, type ValidPathRow, type PathInfo, type ReferenceEdge, type Realisation } from './nix-db-rows.ts';
export { NIX_SCHEMA_VERSION, NIX_DB_SCHEMA_SQL, VALID_PATHS_COLUMNS } from './nix-db-schema.ts';
export { openSqliteReadOnly } from './nix-db-open.ts';
export * from './daemon/index.ts';
export type { LowerMetadata, LowerMetadataGap } from './lower-metadata.ts';
export { LowerMetadataError, LOWER_METADATA_ERROR_CODES, type LowerMetadataErrorCode } from './lower-metadata-error.ts';
export { openLowerMetadata, type LowerMetadataOptions, type OpenedLowerMetadata } from './open-lower-metadata.ts';
export { DaemonSnapshot } from './daemon-snapshot.ts';
export { loadDaemonSnapshot, LISTING_GAP, type DaemonSnapshotRequest } from './daemon-snapshot-load.ts';
