/** Runs dedupe: under Nix's GC lock, finishes leftovers, hashes the duplicates, removes equal upper copies, remounts once, checks the merged view. */
import { lstatSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { runVerify } from '../audit/index.ts';
import { errnoCode, messageOf } from '../errors/index.ts';
import { compareFindings, type Finding } from '../findings/index.ts';
import type { HeldFileLock } from '../lock/index.ts';
import type { WorkerPool } from '../pool/index.ts';
import type { RemountOutcome } from '../remount/index.ts';
import type { StoreLayout } from '../store/index.ts';
import { gatherDedupeFacts, type DedupeCandidate } from './dedupe-candidates.ts';
import { leftDuplicateFinding, servedCheckFinding, type DedupePathReport } from './dedupe-findings.ts';
import { hashSources } from './dedupe-hashing.ts';
import { judgeDuplicate } from './dedupe-judge.ts';
import { deleteLeftover, entryExists, setAside } from './dedupe-removal.ts';
import { acquireGcLock, gcLockPath } from './gc-lock.ts';

export interface DedupeOptions {
  readonly layout: StoreLayout;
  /** Remove the removable copies; otherwise only report (a dry run changes nothing and takes no lock). */
  readonly apply: boolean;
  /** How long `--apply` waits for Nix's GC lock. */
  readonly lockTimeoutMs: number;
  readonly pool: WorkerPool;
  readonly signal: AbortSignal;
  /** Asks for the one remount after the removals (through the agent, or directly). */
  readonly requestRemount: () => Promise<RemountOutcome>;
  /** Test hook: SIGKILL this process right after the first copy is set aside (a crash between rename and delete). */
  readonly crashAfterSetAside?: boolean;
}

export interface DedupeReport {
  readonly applied: boolean;
  /** Nix's GC lock, held for the whole `--apply` run (null for a dry run). */
  readonly lock: { readonly file: string; readonly waitedMs: number } | null;
  /** Leftovers of an interrupted dedupe: found, and (with --apply) deleted first. */
  readonly leftovers: { readonly found: readonly string[]; readonly deleted: readonly string[] };
  readonly paths: readonly DedupePathReport[];
  readonly duplicates: number;
  /** Copies whose hashes all agree (removed by --apply, or would be). */
  readonly removable: number;
  readonly removed: number;
  /** Disk space the removable copies occupy (freed by --apply). */
  readonly bytes: number;
  /** The remount after the removals (null when nothing was removed). */
  readonly remount: { readonly status: RemountOutcome['status']; readonly fresh: boolean; readonly attempts: number } | null;
  /** The merged view after the remount: removed paths served from the lower layer with the DB's hash. */
  readonly check: { readonly paths: number; readonly servedFromLower: number } | null;
  readonly partial: boolean;
  readonly seconds: number;
  readonly findings: readonly Finding[];
}

/**
 * Dedupes the overlay store `layout` describes. Only the upper layer changes, and only with `apply`, under Nix's
 * GC lock (STATE/gc.lock, waited for up to `lockTimeoutMs`): neither DB nor the lower store is ever written. Each
 * removable copy is renamed aside, then deleted; then one remount, then the check of what the merged dir serves
 * (verify of the removed paths from the layers, and their NAR hash through the merged dir). Interrupting it stops
 * between copies; what was removed is still remounted for.
 * @throws GcLockError GC_LOCK_TIMED_OUT and the others; AuditError, NixDbError when the layers or DBs cannot be read.
 */
export async function runDedupe(options: DedupeOptions): Promise<DedupeReport> {
  const started = performance.now();
  const { layout, signal, apply } = options;
  signal.throwIfAborted();
  let lock: HeldFileLock | undefined;
  if (apply) lock = await acquireGcLock(layout.stateDir, { timeoutMs: options.lockTimeoutMs, signal });
  const waitedMs = Math.round(performance.now() - started);
  try {
    const facts = await gatherDedupeFacts(layout, signal);
    const findings: Finding[] = [];
    const deleted: string[] = [];
    if (apply) {
      for (const leftover of facts.leftovers) {
        deleteLeftover(layout.upperLayer, leftover.name);
        deleted.push(leftover.name);
      }
    }
    const hashes = await hashSources(
      options.pool,
      facts.candidates.map((c) => ({ upper: `${layout.upperLayer}/${c.baseName}`, lower: `${layout.lower.realStoreDir}/${c.baseName}` })),
      signal,
    );
    const paths = facts.candidates.map((c, i) => pathReport(layout, c, hashes[i]!));
    let partial = signal.aborted;
    const removedPaths: DedupePathReport[] = [];
    if (apply) {
      for (const [i, p] of paths.entries()) {
        if (p.verdict !== 'remove') continue;
        if (signal.aborted) {
          partial = true;
          break;
        }
        paths[i] = removeCopy(layout, facts.candidates[i]!.baseName, p, options.crashAfterSetAside === true && removedPaths.length === 0);
        if (paths[i].removed) removedPaths.push(paths[i]);
      }
    }
    for (const p of paths) {
      const left = leftDuplicateFinding(p);
      if (left !== undefined) findings.push(left);
    }
    let remount: DedupeReport['remount'] = null;
    let check: DedupeReport['check'] = null;
    if (removedPaths.length > 0 || deleted.length > 0) {
      const outcome = await options.requestRemount();
      remount = { status: outcome.status, fresh: outcome.fresh, attempts: outcome.attempts };
      findings.push(...outcome.findings.filter((f) => f.severity !== 'info'));
      if (removedPaths.length > 0 && !signal.aborted) {
        const served = await checkServed(layout, options.pool, removedPaths, signal);
        findings.push(...served.findings);
        check = { paths: removedPaths.length, servedFromLower: served.ok };
      }
    }
    const removable = paths.filter((p) => p.verdict === 'remove');
    return {
      applied: apply,
      lock: lock === undefined ? null : { file: gcLockPath(layout.stateDir), waitedMs },
      leftovers: { found: facts.leftovers.map((l) => l.name), deleted },
      paths,
      duplicates: paths.length,
      removable: removable.length,
      removed: removedPaths.length,
      bytes: removable.reduce((sum, p) => sum + (p.bytes ?? 0), 0),
      remount,
      check,
      partial,
      seconds: (performance.now() - started) / 1000,
      findings: findings.sort(compareFindings),
    };
  } finally {
    lock?.release();
  }
}

function pathReport(
  layout: StoreLayout,
  c: DedupeCandidate,
  h: { hash: string | undefined; lowerHash: string | undefined; error: string | undefined },
): DedupePathReport {
  const judged = judgeDuplicate({ upperDbHash: c.upperDbHash, lowerDbHash: c.lowerDbHash, servedHash: h.hash, lowerHash: h.lowerHash, error: h.error });
  return {
    path: c.path,
    upperPath: `${layout.upperLayer}/${c.baseName}`,
    kind: c.kind,
    bytes: c.bytes ?? null,
    verdict: judged.verdict,
    removed: false,
    dbNarHash: c.lowerDbHash ?? c.upperDbHash ?? null,
    upperNarHash: h.hash === undefined ? null : `sha256:${h.hash}`,
    lowerNarHash: h.lowerHash === undefined ? null : `sha256:${h.lowerHash}`,
    matchesDb: judged.matchesDb ?? null,
    error: h.error ?? null,
  };
}

/** Sets one copy aside and deletes it; a failure is recorded on the path (the next copy is still tried). */
function removeCopy(layout: StoreLayout, baseName: string, p: DedupePathReport, crash: boolean): DedupePathReport {
  let name: string;
  try {
    name = setAside(layout.upperLayer, baseName);
  } catch (error) {
    return { ...p, error: messageOf(error) };
  }
  // Test hook (OVERLAY_WARDEN_TEST_DEDUPE_CRASH): die here as a crash or a power cut would, leaving the leftover.
  if (crash) process.kill(process.pid, 'SIGKILL');
  try {
    deleteLeftover(layout.upperLayer, name);
  } catch (error) {
    // Set aside: the store path's name is gone from the upper layer all the same; the next run deletes the rest.
    return { ...p, removed: true, error: messageOf(error) };
  }
  return { ...p, removed: true };
}

/**
 * After the remount: each removed path must be gone from the upper layer, hash to the DB's narHash through the
 * merged dir, and pass verify (which judges what the layers serve: the lower copy now).
 */
async function checkServed(
  layout: StoreLayout,
  pool: WorkerPool,
  removed: readonly DedupePathReport[],
  signal: AbortSignal,
): Promise<{ findings: Finding[]; ok: number }> {
  const baseNames = removed.map((p) => p.path.slice(layout.storeDir.length + 1));
  const merged = await hashSources(
    pool,
    baseNames.map((b) => `${layout.mergedStoreDir}/${b}`),
    signal,
  );
  const findings: Finding[] = [];
  let ok = 0;
  removed.forEach((p, i) => {
    const f = servedCheckFinding({
      path: p.path,
      upperStillThere: entryExists(`${layout.upperLayer}/${baseNames[i]!}`),
      servedHash: merged[i]!.hash,
      dbNarHash: p.dbNarHash ?? '',
      error: merged[i]!.error,
    });
    if (f === undefined) ok++;
    else findings.push(f);
  });
  const verified = await runVerify({ layout, signal, pool, scope: 'upper', paths: removed.map((p) => p.path), integrityChecks: false });
  findings.push(...verified.findings.filter((f) => f.severity !== 'info'));
  return { findings, ok };
}
