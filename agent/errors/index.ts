export { WardenError, isWardenError, errnoCode, type Evidence, type WardenErrorOptions } from './warden-error.ts';
