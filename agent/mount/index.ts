/** The mount model: mountinfo parsing, visible-mount lookup, overlay options, what a layer entry is. Pure, apart from the `read…`, `mount…` and `run…` functions. */
export {
  parseMountinfo,
  parseMountinfoLine,
  readMountinfo,
  readMountinfoText,
  MOUNTINFO_MAX_BYTES,
  mountAccess,
  QUOTED_CR_LINES,
  type MountinfoEntry,
  type MountinfoTable,
  type MountAccess,
  type TrailingCarriageReturns,
} from './mountinfo.ts';
export { escapeMountinfoPath, escapeMountinfoOptionValue, unescapeMountinfo } from './mountinfo-escape.ts';
export { MountTable, mountTableOf, findVisibleMount, findMountContaining, mountsStackedOn, normalizeMountPath } from './visible-mount.ts';
export {
  parseOverlayOptions,
  type OverlayOptions,
  type OtherOverlayOption,
  type RedirectDirMode,
  type XinoMode,
  type UuidMode,
  type VerityMode,
  type FsyncMode,
} from './overlay-options.ts';
export { splitLowerdir, formatLowerdir, escapeOverlayPath, type OverlayLowerLayer } from './lowerdir-syntax.ts';
export {
  MountinfoParseError,
  OverlayOptionsError,
  MountPathError,
  MOUNTINFO_LINE_PROBLEMS,
  type MountinfoLineProblem,
  type OverlayOptionsErrorCode,
} from './mount-errors.ts';
export {
  overlayMountOptions,
  mountOverlay,
  MountOverlayError,
  MOUNT_OPTIONS_MAX,
  MOUNT_ENV,
  type OverlaySpec,
  type MountOverlayErrorCode,
} from './mount-overlay.ts';
export { bindMount, BindMountError, type BindMountErrorCode } from './bind-mount.ts';
export { unshareArgv, runInPrivateMountNamespace, MountNamespaceError, type MountNamespaceErrorCode } from './mount-namespace.ts';
export {
  classifyOverlayEntry,
  marksMatter,
  isWhiteout,
  OVERLAY_ENTRY_KINDS,
  type OverlayEntryKind,
  type OverlayMarks,
  type EntryType,
} from './overlay-entry.ts';
export {
  readOverlayMarks,
  readOverlayMarksTreeSync,
  treeMarksKey,
  parseOverlayMarks,
  type TreeMarks,
  type XattrProbe,
  type ReadMarksOptions,
} from './overlay-xattrs.ts';
export { nixCheckMount, nixCheckMountOnTable, type NixCheckMountVerdict } from './nix-check-mount.ts';
export { canonAbsolutePath, joinCanonPath } from './canon-path.ts';
