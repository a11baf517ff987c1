/** The scrub's persisted state (`scrub.json` in the state dir): the cursor of the pass under way and the last completed pass. */
import path from 'node:path';
import type { Finding } from '../findings/index.ts';
import { readJsonStateFile, writeFileAtomic } from '../state/index.ts';

/** Which DB a pass reads paths from: the upper first, then (layers `both`) the lower. */
export type ScrubLayer = 'upper' | 'lower';

/** A pass under way: where it stands, saved after every chunk, so a restart resumes after the last chunk done. */
export interface ScrubPass {
  readonly startedAt: string;
  /** What the pass covers: `upper`, or `both` (upper, then lower). */
  readonly layers: 'upper' | 'both';
  readonly layer: ScrubLayer;
  /** The ValidPaths id of `layer`'s DB the last chunk done ended at (0 before the first). */
  readonly afterId: number;
  readonly pathsDone: number;
  /** Paths in the DBs the pass covers, counted when it started. */
  readonly pathsTotal: number;
  readonly bytes: number;
  /** Time spent in this pass's chunks, across restarts (for the ETA). */
  readonly activeMs: number;
  /** Findings of the chunks done (at most SCRUB_FINDINGS_KEPT). */
  readonly findings: readonly Finding[];
  /** Findings beyond those kept. */
  readonly findingsDropped: number;
}

export interface ScrubCompleted {
  readonly at: string;
  readonly startedAt: string;
  readonly paths: number;
  readonly bytes: number;
  readonly findings: number;
}

export interface ScrubState {
  readonly version: 1;
  /** When the agent first ran with this state dir: the first pass is due `every` after it. */
  readonly firstSeenAt: string;
  readonly pass: ScrubPass | undefined;
  readonly lastCompleted: ScrubCompleted | undefined;
}

/** Findings a pass keeps (and sends in its findings event); a store with more has bigger problems than a list shows. */
export const SCRUB_FINDINGS_KEPT = 1000;

/** The state file in `stateDir`. */
export function scrubStateFileOf(stateDir: string): string {
  return path.join(stateDir, 'scrub.json');
}

/** A fresh state: no pass yet, first seen `now`. */
export function freshScrubState(now: Date): ScrubState {
  return { version: 1, firstSeenAt: now.toISOString(), pass: undefined, lastCompleted: undefined };
}

/**
 * The saved state, or undefined when there is none.
 * @throws StateFileError STATE_READ_FAILED, STATE_CORRUPT (not JSON, or not this shape: the caller starts afresh).
 */
export function loadScrubState(file: string): ScrubState | undefined {
  const saved = readJsonStateFile(file, isScrubStateJson);
  if (saved === undefined) return undefined;
  return { version: 1, firstSeenAt: saved.firstSeenAt, pass: saved.pass ?? undefined, lastCompleted: saved.lastCompleted ?? undefined };
}

/** Saves `state` crash-safe (writeFileAtomic). @throws StateFileError STATE_WRITE_FAILED, STATE_DIR_UNTRUSTED. */
export function saveScrubState(file: string, state: ScrubState): void {
  writeFileAtomic(file, `${JSON.stringify({ ...state, pass: state.pass ?? null, lastCompleted: state.lastCompleted ?? null }, null, 2)}\n`);
}

type ScrubStateJson = Omit<ScrubState, 'pass' | 'lastCompleted'> & { pass?: ScrubPass | null; lastCompleted?: ScrubCompleted | null };

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isPass(v: unknown): v is ScrubPass {
  return (
    isRecord(v) &&
    isTime(v['startedAt']) &&
    (v['layers'] === 'upper' || v['layers'] === 'both') &&
    (v['layer'] === 'upper' || v['layer'] === 'lower') &&
    [v['afterId'], v['pathsDone'], v['pathsTotal'], v['bytes'], v['findingsDropped']].every(isCount) &&
    typeof v['activeMs'] === 'number' &&
    v['activeMs'] >= 0 &&
    Array.isArray(v['findings']) &&
    v['findings'].every((f) => isRecord(f) && typeof f['id'] === 'string' && typeof f['severity'] === 'string' && typeof f['message'] === 'string')
  );
}

function isCompleted(v: unknown): v is ScrubCompleted {
  return isRecord(v) && isTime(v['at']) && isTime(v['startedAt']) && [v['paths'], v['bytes'], v['findings']].every(isCount);
}

/** The file's shape (pure): what loadScrubState accepts. */
export function isScrubStateJson(v: unknown): v is ScrubStateJson {
  return (
    isRecord(v) &&
    v['version'] === 1 &&
    isTime(v['firstSeenAt']) &&
    (v['pass'] === undefined || v['pass'] === null || isPass(v['pass'])) &&
    (v['lastCompleted'] === undefined || v['lastCompleted'] === null || isCompleted(v['lastCompleted']))
  );
}
