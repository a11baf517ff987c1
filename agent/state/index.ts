export {
  writeFileAtomic,
  readStateFile,
  readStateBytes,
  readJsonStateFile,
  tempNameOf,
  StateFileError,
  STATE_FILE_MAX_BYTES,
  type StateFileErrorCode,
} from './atomic-file.ts';
export { prepareStateDir } from './state-dir.ts';
