/** What the agent trusts and how it reads: files opened once through checked directories, read from the checked descriptor, with a cap. */
export { TrustError, type TrustErrorCode, type TrustRole } from './trust-error.ts';
export {
  trustPolicy,
  isTrustedOwner,
  untrustedReason,
  untrustedAncestorReason,
  untrustedSymlinkReason,
  uidOutsideNamespace,
  modeText,
  type TrustPolicy,
  type OwnerAndMode,
} from './trust-policy.ts';
export {
  KIB,
  MIB,
  READ_FLAGS,
  fileTypeOf,
  describeCap,
  assertReadableType,
  readOpenedSync,
  readBoundedSync,
  readBounded,
  type ReadLimit,
} from './bounded-read.ts';
export {
  openTrusted,
  readTrustedFile,
  checkTrustedFile,
  withTrustedDirectory,
  inDirectory,
  type TrustedKind,
  type TrustOptions,
  type TrustedHandle,
} from './trusted-path.ts';
