export { writeFileAtomic, readStateFile, readJsonStateFile, StateFileError, type StateFileErrorCode } from './atomic-file.ts';
