/** The identity of lower metadata served by a nix-daemon (its socket, protocol, and a digest of its valid paths), and how two differ. */
import { createHash } from 'node:crypto';
import type { DaemonClient } from '../store/index.ts';

/**
 * The daemon's counterpart of LowerDbIdentity: what tells the set of paths a daemon calls valid apart from its
 * earlier state. One `QueryAllValidPaths` per reading; the list itself is not kept, only its size and digest.
 */
export interface LowerDaemonIdentity {
  /** The socket it was read through. */
  readonly socket: string;
  /** The worker protocol version both sides spoke, e.g. `1.34`. */
  readonly protocol: string;
  /** The daemon's Nix version when it says (protocol 1.33+), else null. */
  readonly nixVersion: string | null;
  /** How many paths the daemon calls valid. */
  readonly validPaths: number;
  /** SHA-256 (hex) of the valid paths sorted bytewise, each followed by `\n`. */
  readonly digest: string;
}

/**
 * `unchanged`, `modified` (another set of valid paths: paths registered or deleted), or `unknown` (nothing to compare
 * with: a baseline saved before daemon identities were recorded, or a daemon never reached). A new protocol or Nix
 * version with the same set is `unchanged`: the daemon was upgraded, the store did not change. Pure.
 */
export type DaemonIdentityChange = 'unchanged' | 'modified' | 'unknown';

export function compareDaemonIdentity(before: LowerDaemonIdentity | null | undefined, after: LowerDaemonIdentity | null | undefined): DaemonIdentityChange {
  if (before == null || after == null) return 'unknown';
  return before.validPaths !== after.validPaths || before.digest !== after.digest ? 'modified' : 'unchanged';
}

/** The identity of a daemon answering `paths` to QueryAllValidPaths (any order). Pure. */
export function daemonIdentityOf(
  socket: string,
  hello: { readonly version: { readonly major: number; readonly minor: number }; readonly nixVersion: string | undefined },
  paths: readonly string[],
): LowerDaemonIdentity {
  const sorted = isSorted(paths) ? paths : [...paths].sort(compareBytes);
  const hash = createHash('sha256');
  for (const p of sorted) hash.update(`${p}\n`);
  return {
    socket,
    protocol: `${hello.version.major}.${hello.version.minor}`,
    nixVersion: hello.nixVersion ?? null,
    validPaths: sorted.length,
    digest: hash.digest('hex'),
  };
}

/**
 * Reads the identity through an open client (one QueryAllValidPaths).
 * @throws DaemonError as the client's queryAllValidPaths.
 */
export async function readLowerDaemonIdentity(client: DaemonClient): Promise<LowerDaemonIdentity> {
  return daemonIdentityOf(client.socketPath, client.hello, await client.queryAllValidPaths());
}

/** True when `value` has the shape of a LowerDaemonIdentity (for reading it back from a state file). */
export function isLowerDaemonIdentity(value: unknown): value is LowerDaemonIdentity {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['socket'] === 'string' &&
    typeof v['protocol'] === 'string' &&
    (v['nixVersion'] === null || typeof v['nixVersion'] === 'string') &&
    typeof v['validPaths'] === 'number' &&
    Number.isInteger(v['validPaths']) &&
    typeof v['digest'] === 'string' &&
    /^[0-9a-f]{64}$/.test(v['digest'])
  );
}

// Store paths are ASCII, so UTF-16 code unit order (the default sort) is byte order; kept explicit for the contract.
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isSorted(paths: readonly string[]): boolean {
  for (let i = 1; i < paths.length; i++) if (paths[i - 1]! > paths[i]!) return false;
  return true;
}
