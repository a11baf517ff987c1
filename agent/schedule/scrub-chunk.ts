/** One chunk of a scrub pass: the next paths after the cursor (I/O: one DB read), and the pass advanced past them (pure). */
import type { Finding } from '../findings/index.ts';
import type { LowerMetadata } from '../store/index.ts';
import { SCRUB_FINDINGS_KEPT, type ScrubPass } from './scrub-state.ts';

/** How big a chunk may be: paths, and NAR bytes (a chunk always has at least one path, however big). */
export interface ChunkLimits {
  readonly paths: number;
  readonly bytes: number;
}

/** Most paths in a chunk: a stop loses at most this much work, and a due audit waits for at most one chunk. */
export const CHUNK_PATHS = 256;
/** Most NAR bytes in a chunk without a read budget. */
export const CHUNK_BYTES = 256 * 2 ** 20;
/** With a read budget, a chunk holds about this many seconds of it, so the budget paces chunks finely. */
export const CHUNK_SECONDS = 2;

/** The chunk limits for a read budget (bytes per second, or undefined for none) (pure). */
export function chunkLimitsFor(bytesPerSecond: number | undefined): ChunkLimits {
  const bytes = bytesPerSecond === undefined ? CHUNK_BYTES : Math.max(1, Math.min(CHUNK_BYTES, bytesPerSecond * CHUNK_SECONDS));
  return { paths: CHUNK_PATHS, bytes };
}

export interface Chunk {
  /** Full store paths, in id order. */
  readonly paths: readonly string[];
  /** The id of the last one (the cursor once the chunk is done). */
  readonly lastId: number;
  /** Their NAR sizes as the DB records them: what hashing them reads. */
  readonly bytes: number;
}

/** The paths of `db` after `afterId`, within `limits`, or undefined when none is left (one indexed read). */
export function readChunk(db: LowerMetadata, afterId: number, limits: ChunkLimits): Chunk | undefined {
  const paths: string[] = [];
  let bytes = 0;
  let lastId = afterId;
  for (const row of db.iterateValidPaths(afterId)) {
    if (paths.length > 0 && (paths.length >= limits.paths || bytes + row.narSize > limits.bytes)) break;
    paths.push(row.path);
    bytes += row.narSize;
    lastId = row.id;
  }
  return paths.length === 0 ? undefined : { paths, lastId, bytes };
}

/** What hashing one chunk gave. */
export interface ChunkOutcome {
  readonly lastId: number;
  readonly paths: number;
  readonly bytes: number;
  readonly ms: number;
  readonly findings: readonly Finding[];
}

/** The pass after a chunk is done (pure): cursor moved past it, counts added, findings kept up to SCRUB_FINDINGS_KEPT. */
export function advancePass(pass: ScrubPass, done: ChunkOutcome): ScrubPass {
  const room = Math.max(0, SCRUB_FINDINGS_KEPT - pass.findings.length);
  return {
    ...pass,
    afterId: done.lastId,
    pathsDone: pass.pathsDone + done.paths,
    bytes: pass.bytes + done.bytes,
    activeMs: pass.activeMs + done.ms,
    findings: [...pass.findings, ...done.findings.slice(0, room)],
    findingsDropped: pass.findingsDropped + Math.max(0, done.findings.length - room),
  };
}

/** The pass moved on to the lower DB (layers `both`, the upper DB done) (pure). */
export function toLowerLayer(pass: ScrubPass): ScrubPass {
  return { ...pass, layer: 'lower', afterId: 0 };
}

/** Time left at the pass's pace so far, in ms, or undefined before any path is done (pure). */
export function passEtaMs(pass: ScrubPass): number | undefined {
  if (pass.pathsDone === 0) return undefined;
  return Math.max(0, ((pass.pathsTotal - pass.pathsDone) * pass.activeMs) / pass.pathsDone);
}
