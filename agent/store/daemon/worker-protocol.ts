/** The nix-daemon worker protocol's constants: magic numbers, the versions this client speaks, op and log tags. */

/** The first u64 a client sends. */
export const WORKER_MAGIC_1 = 0x6e697863;
/** The daemon's answer to WORKER_MAGIC_1. */
export const WORKER_MAGIC_2 = 0x6478696f;

/** Protocol versions are `major << 8 | minor` on the wire. */
export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

/** The only major version any Nix has spoken. */
export const PROTOCOL_MAJOR = 1;
/**
 * The newest minor this client offers: 1.38 brought the features exchange. (1.37 changed only BuildResult, which a
 * read-only client never reads.)
 */
export const CLIENT_MINOR = 38;
/**
 * The oldest minor accepted: 1.21 (Nix 2.3). Every read-only op and field used here exists from there on
 * (QueryPathInfo's valid flag 1.17, ultimate/sigs/ca 1.16, activities 1.20). Nix 2.8's daemon speaks 1.34.
 */
export const MIN_MINOR = 21;

/** Minors at which a field of the handshake or of an op appeared. */
export const SINCE = {
  reserveSpace: 11,
  setOptionsOverrides: 12,
  cpuAffinity: 14,
  structuredErrors: 26,
  validPathsSubstitute: 27,
  daemonNixVersion: 33,
  trustedFlag: 35,
  features: 38,
} as const;

/** Operations this client sends: read-only ones and SetOptions. No write op is ever named here. */
export const OP = {
  IsValidPath: 1,
  QueryReferrers: 6,
  SetOptions: 19,
  QueryAllValidPaths: 23,
  QueryPathInfo: 26,
  QueryPathFromHashPart: 29,
  QueryValidPaths: 31,
  QueryValidDerivers: 33,
  QueryRealisation: 43,
} as const;

export type OpName = keyof typeof OP;

/** Tags of the log ("stderr") messages a daemon sends before an op's answer. */
export const STDERR = {
  WRITE: 0x64617416,
  READ: 0x64617461,
  ERROR: 0x63787470,
  NEXT: 0x6f6c6d67,
  START_ACTIVITY: 0x53545254,
  STOP_ACTIVITY: 0x53544f50,
  RESULT: 0x52534c54,
  LAST: 0x616c7473,
} as const;

/** Nix's lvlVomit: sent as SetOptions' verboseBuild to mean "not verbose" (lvlError would mean verbose). */
export const VERBOSITY_VOMIT = 7;

export function encodeVersion(version: ProtocolVersion): number {
  return (version.major << 8) | version.minor;
}

export function decodeVersion(wire: number): ProtocolVersion {
  return { major: Math.floor(wire / 256), minor: wire & 0xff };
}
