/**
 * Reads a nix-daemon's metadata into a DaemonSnapshot: QueryAllValidPaths, then QueryPathInfo of every path (or of
 * the paths asked for), pipelined by the client's queryPathInfos. A peer that refuses QueryAllValidPaths (snix
 * implements only what a local-overlay store asks, and drops the connection on the rest; others answer
 * STDERR_ERROR) is asked about the layers' entries instead, and the snapshot records the gap.
 */
import fs from 'node:fs/promises';
import { connectDaemon, DaemonError, type DaemonClient, type DaemonPathInfo } from './daemon/index.ts';
import { DaemonSnapshot } from './daemon-snapshot.ts';
import { hashKeysOf, rowOfPath } from './path-row-index.ts';
import type { LowerMetadataGap } from './lower-metadata.ts';
import { parseNarHash } from './nar-hash-string.ts';
import { isValidStorePathName, baseNameIn } from './store-path.ts';

export interface DaemonSnapshotRequest {
  readonly socket: string;
  readonly storeDir: string;
  /**
   * Layers whose entries are the candidate paths when the daemon does not list its valid paths: the lower layer,
   * and the upper one (a lower path may have its only copy there).
   */
  readonly candidateDirs: readonly string[];
  /** Read only these store paths (the valid ones of them): verify of given paths. */
  readonly paths?: readonly string[];
  /** List every path, but read the metadata of at most `limit` rows after row id `afterId` only (scrub chunks). */
  readonly rowsAfter?: { readonly afterId: number; readonly limit: number };
  readonly signal?: AbortSignal;
  /** The daemon client's limit per operation, in ms (DaemonClientOptions.timeoutMs). */
  readonly timeoutMs?: number;
}

/** What a peer rejecting QueryAllValidPaths costs (the partial finding says it). */
export const LISTING_GAP = {
  consequence:
    "the lower store's valid paths were taken from the layers' entries, each asked about: a lower registration whose store object is in neither layer is not seen (a dangling path's registeredInLowerDb, verify of the lower store)",
  notComputed: ['store.dangling', 'store.corrupt'],
} as const;

/**
 * Connects to the daemon, reads the snapshot, disconnects.
 * @throws DaemonError (connect, handshake, a dropped connection or a timeout mid-load: DAEMON_CLOSED, DAEMON_TIMED_OUT…,
 *   naming the op; DAEMON_REMOTE_ERROR when the daemon rejects QueryPathInfo, without which nothing can be read).
 *   A connection dropped on QueryAllValidPaths is that op refused only when the daemon takes a new connection.
 */
export async function loadDaemonSnapshot(request: DaemonSnapshotRequest): Promise<DaemonSnapshot> {
  // A whole store's metadata is read on two connections (two daemon workers): about a third less wall time on Nix
  // 2.8 (bench:daemon); a few paths or a chunk's rows are not worth a second handshake.
  const connections = request.paths === undefined && request.rowsAfter === undefined ? 2 : 1;
  const connect = (): Promise<DaemonClient> =>
    connectDaemon(request.socket, {
      storeDir: request.storeDir,
      connections,
      ...(request.signal === undefined ? {} : { signal: request.signal }),
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
    });
  let client = await connect();
  try {
    const gaps: LowerMetadataGap[] = [];
    let paths: string[];
    let listed = true;
    if (request.paths !== undefined) {
      paths = [...new Set(request.paths.filter((path) => isValidStorePathName(baseNameIn(request.storeDir, path) ?? '')))].sort();
      listed = false;
    } else {
      try {
        paths = await client.queryAllValidPaths();
      } catch (error) {
        // snix drops the connection on an op it does not implement; others answer STDERR_ERROR. A daemon that is
        // gone does not take the next connection: then the first error stands.
        if (!(error instanceof DaemonError) || !['DAEMON_REMOTE_ERROR', 'DAEMON_CLOSED'].includes(error.code)) throw error;
        if (error.code === 'DAEMON_CLOSED') {
          client.close();
          client = await connect().catch(() => Promise.reject(error));
        }
        const message =
          error.code === 'DAEMON_CLOSED'
            ? 'it closed the connection (as snix does for an op it does not implement)'
            : String(error.evidence['daemonMessage'] ?? error.message);
        gaps.push({ operation: 'QueryAllValidPaths', message, ...LISTING_GAP });
        paths = await layerCandidates(request.candidateDirs, request.storeDir);
        listed = false;
      }
    }
    // Rows are positions in a listing of the daemon's own; without one every candidate must be asked about.
    const after = listed ? request.rowsAfter : undefined;
    const first = after === undefined ? 0 : Math.min(Math.max(0, after.afterId), paths.length);
    const end = after === undefined ? paths.length : Math.min(paths.length, first + Math.max(0, after.limit));
    const count = paths.length;
    paths = paths.slice(first, end);
    // The client pipelines them (a bounded window in flight) and rejects with the first error.
    let infos = await client.queryPathInfos(paths);
    if (after === undefined) {
      // Paths asked about that are not valid (or no longer: gone since the listing) are not rows at all. A chunk of
      // rows keeps them, unread, so that row ids stay positions in the daemon's listing.
      paths = paths.filter((_, i) => infos[i] !== undefined);
      infos = infos.filter((info) => info !== undefined);
    }
    return buildSnapshot(`nix-daemon ${request.socket}`, request.storeDir, gaps, { paths, first, count: after === undefined ? paths.length : count }, infos);
  } finally {
    client.close();
  }
}

/** The store paths the layers have an entry for, sorted, once each: candidates for a daemon that does not list its paths. */
async function layerCandidates(dirs: readonly string[], storeDir: string): Promise<string[]> {
  const names = new Set<string>();
  for (const dir of dirs) for (const name of await fs.readdir(dir)) if (isValidStorePathName(name)) names.add(name);
  return [...names].map((name) => `${storeDir}/${name}`).sort();
}

/**
 * Packs the infos of `rows.paths` (sorted; undefined: the path vanished meanwhile) into a snapshot (pure). `rows.first`
 * and `rows.count` place them in the daemon's whole listing when they are a window of it.
 */
export function buildSnapshot(
  source: string,
  storeDir: string,
  gaps: readonly LowerMetadataGap[],
  rows: { readonly paths: readonly string[]; readonly first: number; readonly count: number },
  infos: readonly (DaemonPathInfo | undefined)[],
): DaemonSnapshot {
  const { paths, first, count } = rows;
  const rowCount = infos.length;
  const read = new Uint8Array(rowCount);
  const narHashes = Buffer.alloc(rowCount * 32);
  const narSizes = new Float64Array(rowCount);
  const registrationTimes = new Float64Array(rowCount);
  const ultimate = new Uint8Array(rowCount);
  const derivers = new Map<number, string>();
  const sigs = new Map<number, readonly string[]>();
  const cas = new Map<number, string>();
  const refOffsets = new Uint32Array(rowCount + 1);
  let refTargets = new Uint32Array(Math.max(16, rowCount * 2));
  let edges = 0;
  const foreign: string[] = [];
  const foreignIds = new Map<string, number>();
  const keys = hashKeysOf(paths, storeDir);
  for (let i = 0; i < rowCount; i++) {
    const info = infos[i];
    refOffsets[i] = edges;
    if (info === undefined) continue;
    read[i] = 1;
    parseNarHash(info.narHash).copy(narHashes, i * 32);
    narSizes[i] = info.narSize;
    registrationTimes[i] = info.registrationTime;
    ultimate[i] = info.ultimate ? 1 : 0;
    if (info.deriver !== undefined) derivers.set(i, info.deriver);
    if (info.sigs.length > 0) sigs.set(i, info.sigs);
    if (info.ca !== undefined) cas.set(i, info.ca);
    if (edges + info.references.length > refTargets.length) {
      const grown = new Uint32Array(Math.max(refTargets.length * 2, edges + info.references.length));
      grown.set(refTargets);
      refTargets = grown;
    }
    const start = edges;
    for (const reference of info.references) {
      const at = rowOfPath(paths, keys, storeDir, reference);
      if (at >= 0) refTargets[edges++] = at;
      else {
        let k = foreignIds.get(reference);
        if (k === undefined) {
          k = foreign.push(reference) - 1;
          foreignIds.set(reference, k);
        }
        refTargets[edges++] = paths.length + k;
      }
    }
    // In row order, as the DB reader gives reference ids (a typed array sorts numerically).
    refTargets.subarray(start, edges).sort();
  }
  refOffsets[rowCount] = edges;
  return new DaemonSnapshot({
    source,
    storeDir,
    gaps,
    paths,
    first,
    count,
    keys,
    read,
    narHashes,
    narSizes,
    registrationTimes,
    ultimate,
    derivers,
    sigs,
    cas,
    refOffsets,
    refTargets: refTargets.slice(0, edges),
    foreign,
  });
}
