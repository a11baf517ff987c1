/** Runs `pivot`: copies into the upper layer what the upper DB needs and the lower store is about to lose, under gc.lock. */
import fs from 'node:fs';
import { dirname } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { openAuditDbs, type AuditDbs } from '../audit/index.ts';
import { messageOf } from '../errors/index.ts';
import { classifyOverlayEntry, isWhiteout } from '../mount/index.ts';
import type { WorkerPool } from '../pool/index.ts';
import type { RemountOutcome } from '../remount/index.ts';
import { baseNameIn, type StoreLayout } from '../store/index.ts';
import { acquireGcLock } from './gc-lock.ts';
import { copyUp, removeLeftovers, type CopyFailure } from './pivot-copy.ts';
import { planPivot, registerCommand, type PivotLocation, type PivotPlan, type PivotPlanInput, type PivotRegistration } from './pivot-plan.ts';
import { PivotError } from './pivot-errors.ts';
import { checkUpperSpace, type SpaceCheck } from './upper-space.ts';
import { readVanishing, type Vanishing, type VanishingSource } from './vanishing.ts';

export interface PivotOptions {
  readonly layout: StoreLayout;
  readonly source: VanishingSource;
  /** List what would be copied and whether it fits; take no lock, change nothing. */
  readonly dryRun: boolean;
  /** How long to wait for Nix's GC lock. */
  readonly lockTimeoutMs: number;
  /** Hashes the copies (not needed for a dry run). */
  readonly pool: WorkerPool | undefined;
  /**
   * Remounts the overlay once, after the copies (through the agent, or directly); not called when nothing was copied
   * or the merged store dir is not mounted.
   */
  readonly remount: () => Promise<RemountOutcome>;
  readonly signal: AbortSignal;
  /** Where util-linux's flock is looked for (default PATH). */
  readonly path?: string;
}

/** A path pivot could not secure, with what to do about it. */
export interface PivotProblem {
  readonly path: string;
  readonly reason: 'unregistered' | 'masked' | 'gone' | 'copy-failed' | 'hash-mismatch';
  readonly message: string;
  /** The command that fixes it, when one does. */
  readonly command?: string;
}

export interface PivotReport {
  readonly dryRun: boolean;
  readonly source: VanishingSource & { readonly listed: number | null };
  /** Vanishing registrations that are only in the lower layer: copied (or, dry run, to copy), with their NAR sizes. */
  readonly toCopy: ReadonlyArray<{ readonly path: string; readonly narSize: number }>;
  readonly copyBytes: number;
  /** Paths now in the upper layer, checked against the upper DB's narHash. */
  readonly copied: readonly string[];
  /** Content bytes written. */
  readonly bytesWritten: number;
  /** Vanishing registrations the upper layer has already. */
  readonly alreadyUpper: number;
  readonly problems: readonly PivotProblem[];
  readonly space: SpaceCheck | null;
  /** Leftover temporary copies of an interrupted run, removed. */
  readonly leftoversRemoved: number;
  /** The remount after the copies: null when none ran (dry run, nothing copied, not mounted). */
  readonly remount: PivotRemount | null;
  readonly mounted: boolean;
  /** Copied paths the merged store dir does not show after the remount. */
  readonly notServed: readonly string[];
}

/**
 * Pivots before a lower GC or replacement (see planPivot for what is needed). A real run holds Nix's GC lock for its
 * whole length, reads both DBs under it, refuses when the copies do not fit (statfs), copies each path from the
 * lower layer (never through the merged view, which may be stale and would serve the upper copy being made) to a
 * temporary name in the upper layer, checks its NAR hash against the upper DB in `pool`, renames it into place, then
 * remounts once and checks that the merged store dir serves every copy. Never writes the lower store or a DB.
 * @throws PivotError (PIVOT_NO_SPACE, PIVOT_BAD_DEAD_LIST, PIVOT_INPUT_UNREADABLE), GcLockError, AuditError
 *   AUDIT_NO_LOWER_DB, NixDbError, DaemonError (a daemon lower store that cannot be read); a failed copy is a problem in the report, not a throw.
 */
export async function runPivot(options: PivotOptions): Promise<PivotReport> {
  const { layout, signal } = options;
  signal.throwIfAborted();
  const lock = options.dryRun ? undefined : await acquireGcLock(layout.stateDir, { timeoutMs: options.lockTimeoutMs, signal, path: options.path });
  try {
    const dbs = await openAuditDbs(layout, { signal });
    let plan: PivotPlan;
    let listed: number | undefined;
    try {
      const vanishing = readVanishing(options.source, layout.lower.storeDir, () => dbs.lower);
      try {
        listed = vanishing.listed;
        plan = planPivot(await gatherPlanInput(dbs, vanishing, layout, signal));
      } finally {
        vanishing.close();
      }
    } finally {
      dbs.close();
    }
    const sources = plan.copy.map((r) => `${layout.lower.realStoreDir}/${r.baseName}`);
    const space = checkUpperSpace(layout.upperLayer, sources);
    const problems = planProblems(plan, layout);
    const base = {
      dryRun: options.dryRun,
      source: { ...options.source, listed: listed ?? null },
      toCopy: plan.copy.map((r) => ({ path: `${layout.storeDir}/${r.baseName}`, narSize: r.narSize })),
      copyBytes: plan.copyBytes,
      alreadyUpper: plan.inUpper.length,
      space,
      mounted: isMounted(layout.mergedStoreDir),
    };
    if (options.dryRun) return { ...base, copied: [], bytesWritten: 0, problems, leftoversRemoved: 0, remount: null, notServed: [] };
    if (!space.fits) throw noSpace(layout.upperLayer, space);
    if (options.pool === undefined) throw new TypeError('runPivot needs a worker pool unless dryRun');
    const leftoversRemoved = removeLeftovers(layout.upperLayer);
    const copied: PivotRegistration[] = [];
    const failures: CopyFailure[] = [];
    const bytesWritten = await copyUp(plan.copy, {
      lowerStoreDir: layout.lower.realStoreDir,
      upperLayer: layout.upperLayer,
      pool: options.pool,
      signal,
      onCopied: (r) => copied.push(r),
      onFailed: (f) => failures.push(f),
    });
    for (const f of failures) problems.push({ path: `${layout.storeDir}/${f.baseName}`, reason: f.reason, message: f.message });
    let remount: PivotReport['remount'] = null;
    let notServed: string[] = [];
    if (copied.length > 0 && base.mounted) {
      remount = await remountOnce(options);
      notServed = copied.filter((r) => !servedFromUpper(layout, r.baseName)).map((r) => `${layout.storeDir}/${r.baseName}`);
    }
    return { ...base, copied: copied.map((r) => `${layout.storeDir}/${r.baseName}`), bytesWritten, problems, leftoversRemoved, remount, notServed };
  } finally {
    lock?.release();
  }
}

/** How the one remount went; `error` when it could not be run at all (the agent went away, the remounter refused). */
export interface PivotRemount {
  readonly status: RemountOutcome['status'];
  readonly fresh: boolean;
  readonly error?: string;
}

/** Runs the remount; a throw becomes a failed remount in the report, which still says what was copied. */
async function remountOnce(options: PivotOptions): Promise<PivotRemount> {
  try {
    const outcome = await options.remount();
    return { status: outcome.status, fresh: outcome.fresh, ...(outcome.error === undefined ? {} : { error: outcome.error.message }) };
  } catch (error) {
    if (options.signal.aborted) throw error;
    return { status: 'failed', fresh: false, error: messageOf(error) };
  }
}

/** Rows between yields to the event loop: an agent running pivot keeps answering, and an abort is seen. */
const YIELD_EVERY = 4096;

/**
 * The facts planPivot decides on, gathered once: every upper-DB registration under the store dir (others are left
 * out: the audit reports them), then for each whether it vanishes and where it is, and the references the lower DB
 * gives it that the upper DB does not register. Yields to the event loop as it goes; rejects with `signal.reason`.
 */
async function gatherPlanInput(dbs: AuditDbs, vanishing: Vanishing, layout: StoreLayout, signal: AbortSignal): Promise<PivotPlanInput> {
  let seen = 0;
  const turn = async (): Promise<void> => {
    if (++seen % YIELD_EVERY !== 0) return;
    await yieldToEventLoop();
    signal.throwIfAborted();
  };
  const registrations: PivotRegistration[] = [];
  for (const row of dbs.upper.iterateValidPaths()) {
    await turn();
    const baseName = baseNameIn(layout.storeDir, row.path);
    if (baseName !== undefined) registrations.push({ baseName, narHash: row.narHash, narSize: row.narSize });
  }
  const registered = new Set(registrations.map((r) => r.baseName));
  const locations = new Map<string, PivotLocation>();
  const unregisteredReferences = new Map<string, string[]>();
  for (const { baseName } of registrations) {
    await turn();
    if (vanishing.vanishes(baseName)) locations.set(baseName, locate(layout, baseName));
    const references = lowerReferences(dbs, layout.storeDir, baseName)?.filter((reference) => !registered.has(reference));
    if (references !== undefined && references.length > 0) unregisteredReferences.set(baseName, references);
  }
  return {
    registrations,
    // A registration vanishes exactly when it was located; anything else is asked of the source.
    vanishes: (baseName) => locations.has(baseName) || (!registered.has(baseName) && vanishing.vanishes(baseName)),
    locate: (baseName) => locations.get(baseName) ?? locate(layout, baseName),
    lowerReferences: (baseName) => unregisteredReferences.get(baseName),
  };
}

function lowerReferences(dbs: AuditDbs, storeDir: string, baseName: string): string[] | undefined {
  const references = dbs.lower.queryReferences(`${storeDir}/${baseName}`);
  return references?.flatMap((path) => {
    const name = baseNameIn(storeDir, path);
    return name === undefined || name === baseName ? [] : [name];
  });
}

/** Where a path is, from lstat of both layers (a device whiteout hides the lower copy; see copyUp on xattr ones). */
function locate(layout: StoreLayout, baseName: string): PivotLocation {
  const upper = fs.lstatSync(`${layout.upperLayer}/${baseName}`, { throwIfNoEntry: false });
  const inLower = fs.lstatSync(`${layout.lower.realStoreDir}/${baseName}`, { throwIfNoEntry: false }) !== undefined;
  if (upper !== undefined) return isWhiteout(classifyOverlayEntry(upper)) ? (inLower ? 'masked' : 'gone') : 'upper';
  return inLower ? 'lower' : 'gone';
}

function planProblems(plan: PivotPlan, layout: StoreLayout): PivotProblem[] {
  const full = (baseName: string): string => `${layout.storeDir}/${baseName}`;
  return [
    ...plan.unregistered.map((u) => ({
      path: full(u.baseName),
      reason: 'unregistered' as const,
      message: `${full(u.neededBy)} references it (by the lower DB), but the upper DB does not register it: a copy would be unknown to Nix once the lower store forgets it`,
      command: registerCommand(layout.url, full(u.baseName)),
    })),
    ...plan.masked.map((b) => ({
      path: full(b),
      reason: 'masked' as const,
      message: 'a whiteout in the upper layer hides it already; pivot leaves whiteouts alone',
    })),
    ...plan.gone.map((b) => ({
      path: full(b),
      reason: 'gone' as const,
      message: 'in neither layer already: nothing to copy',
      command: `nix-store --repair-path ${full(b)}`,
    })),
  ];
}

/** True when the merged store dir is a mount point of its own (an overlay has its own device number). */
function isMounted(mergedStoreDir: string): boolean {
  const here = fs.statSync(mergedStoreDir, { throwIfNoEntry: false });
  const parent = fs.statSync(dirname(mergedStoreDir), { throwIfNoEntry: false });
  return here !== undefined && parent !== undefined && here.dev !== parent.dev;
}

/** The merged store dir shows the path, as the same kind of entry as its upper copy. */
function servedFromUpper(layout: StoreLayout, baseName: string): boolean {
  const merged = fs.lstatSync(`${layout.mergedStoreDir}/${baseName}`, { throwIfNoEntry: false });
  const upper = fs.lstatSync(`${layout.upperLayer}/${baseName}`, { throwIfNoEntry: false });
  return merged !== undefined && upper !== undefined && (merged.mode & fs.constants.S_IFMT) === (upper.mode & fs.constants.S_IFMT);
}

function noSpace(upperLayer: string, space: SpaceCheck): PivotError {
  const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
  return new PivotError(
    'PIVOT_NO_SPACE',
    `the copies need ${mib(space.neededBytes)} and ${space.neededInodes} inodes on the upper layer's filesystem (${upperLayer}), which has ${mib(space.availableBytes)} and ${space.availableInodes} free: nothing was copied`,
    {
      evidence: { upperLayer, ...space },
      hint: 'free space there (nix-store --gc through the overlay store) or grow the filesystem, then run pivot again',
    },
  );
}
