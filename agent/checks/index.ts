/** The checks: the Check interface and runner, the mount facts they read, every mount and layer check, and the registry. */
export type { Check, CheckContext } from './check.ts';
export { runChecks, type CheckOutcome, type CheckReport } from './run-checks.ts';
export { gatherCheckContext, runMountCheck } from './run-mount-check.ts';
export { MOUNT_CHECKS, enabledChecks } from './registry.ts';
export {
  gatherMountFacts,
  mountFactsFromTable,
  unreadableMountFacts,
  expectedLayout,
  fsOfPath,
  readOverlayModuleDefaults,
  mountLineEvidence,
  FS_VIEW,
  OVERLAY_MODULE_PARAMETERS,
  type MountFacts,
  type ReadMountFacts,
  type UnreadableMountFacts,
  type MountFactsInput,
  type ExpectedLayout,
  type ExpectedPath,
  type MountedLayer,
  type FsOfPath,
  type OverlayModuleDefaults,
} from './mount-facts.ts';
export {
  LEXICAL_VIEW,
  resolveAbsolute,
  resolveMountedPaths,
  normalizeRelative,
  cwdBySuffix,
  suffixMatches,
  type RealpathView,
  type PathResolution,
  type ResolvedPath,
  type MounterCwd,
  type MountedPathInput,
} from './layer-paths.ts';
export { mergedMountCheck, decideMergedMount } from './merged-mount.ts';
export { lowerLayerOptionCheck, decideLowerLayers } from './lower-layer-option.ts';
export { upperLayerOptionCheck, decideUpperLayer } from './upper-layer-option.ts';
export { mountOptionsCheck, decideMountOptions } from './mount-options.ts';
export { nixCheckMountCheck, decideNixCheckMount, nixVerdictFor } from './nix-check-mount-verdict.ts';
export { nixConfAgreementCheck, decideNixConfAgreement, readNixConfStore, type NixConfStore } from './nix-conf-agreement.ts';
export { mountSummaryCheck, decideMountSummary } from './mount-summary.ts';
export { lowerLayerFilesCheck, decideLowerLayerFiles, probeLowerLayer, probePath, type LowerLayerFacts, type PathState } from './lower-layer-files.ts';
export {
  decideLowerDaemon,
  probeLowerDaemon,
  probeSocketFile,
  lowerDaemonProblem,
  LOWER_DAEMON_PROBE,
  type LowerDaemonFacts,
  type LowerDaemonProblem,
  type SocketFile,
} from './lower-daemon.ts';
export {
  upperLayerFilesCheck,
  decideUpperLayerFiles,
  probeUpperLayer,
  sampleDirentTypes,
  D_TYPE_SAMPLE,
  type UpperLayerFacts,
  type UpperLayerThresholds,
  type SpaceFacts,
} from './upper-layer-files.ts';
export { upperDbCheck, decideUpperDb, probeUpperDb, type UpperDbFacts } from './upper-db.ts';
export { CheckLog, checkLogLines, findingChanges, findingKey, clearedFindingLogLine, type CheckReason, type FindingChanges } from './check-log-lines.ts';
export { supportsOverlayXattrs, supportsDType, type Capability } from './fs-capabilities.ts';
