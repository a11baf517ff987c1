/** `overlay-warden verify`: NAR-hashes store objects in the worker pool against their narHash; a report, or JSON. */
import { availableParallelism } from 'node:os';
import { AuditError, hashingThreads, userPathBaseName, VERIFY_BATCH_LIMITS, type VerifyReport, type VerifyScope } from '../../audit/index.ts';
import { compareFindings, hasErrors, type Finding } from '../../findings/index.ts';
import type { MapProgress, WorkerPool } from '../../pool/index.ts';
import type { StoreLayout } from '../../store/index.ts';
import { EXIT, type CliIo, type Command, type CommandContext, interruptedExitCode } from '../command.ts';
import { formatFindingsReport } from '../findings-report.ts';
import { oneOfOptions, wholeNumberOption } from '../option-values.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';
import { quantity } from '../output.ts';
import { ProgressBar, type ProgressState } from '../progress-bar.ts';
import { UsageError } from '../usage-error.ts';
import { formatBytes } from '../../config/index.ts';
import { noUpperDbFindings } from './no-upper-db.ts';

/** Most hashing threads `--threads` takes (audit's too). */
const MAX_THREADS = 256;

/**
 * `--threads N`: the worker threads for hashing, undefined when not given (then `pool.size` decides).
 * @throws UsageError USAGE_BAD_VALUE when it is not a whole number from 1 to MAX_THREADS.
 */
export function threadsOption(values: CommandContext['values']): number | undefined {
  return wholeNumberOption(values, 'threads', 1, MAX_THREADS);
}

/**
 * The scope from `--upper`, `--lower`, `--all` (at most one; default upper), or undefined when paths are given.
 * @throws UsageError USAGE_CONFLICT for several scope flags, or a scope flag with paths.
 */
export function verifyScope(values: CommandContext['values'], paths: readonly string[]): VerifyScope | undefined {
  const scope = oneOfOptions(values, ['upper', 'lower', 'all']);
  if (paths.length === 0) return scope ?? 'upper';
  if (scope !== undefined) {
    throw new UsageError('USAGE_CONFLICT', `--${scope} and store paths exclude each other: give one or the other`, {
      evidence: { options: [`--${scope}`], arguments: paths },
    });
  }
  return undefined;
}

/**
 * Checks that each argument names a store path, before any DB is opened.
 * @throws UsageError USAGE_BAD_ARGUMENT naming the argument and both store dirs.
 */
function checkStorePathArguments(layout: StoreLayout, paths: readonly string[]): void {
  for (const given of paths) {
    try {
      userPathBaseName(layout, given);
    } catch (error) {
      throw error instanceof AuditError ? argumentError(error) : error;
    }
  }
}

/** An audit's refusal of a store path given as an argument (not one, or registered in no DB), as the usage error it is. */
function argumentError(error: AuditError): UsageError {
  return new UsageError('USAGE_BAD_ARGUMENT', error.message, {
    cause: error,
    evidence: { expected: 'a store path either DB registers', ...error.evidence, auditError: error.code },
    hint: error.hint,
  });
}

/** The progress line of a verify run (pure). */
export function verifyProgressState(progress: MapProgress): ProgressState {
  return {
    label: 'verify',
    done: progress.done,
    total: progress.total,
    unit: 'paths',
    bytes: progress.bytes,
    totalBytes: progress.totalBytes,
    bytesPerSecond: progress.bytesPerSecond,
    itemsPerSecond: progress.itemsPerSecond,
    etaMs: progress.etaMs,
  };
}

/** What `verify --json` gives as its `result`. */
export interface VerifyResult {
  readonly scope: VerifyReport['scope'];
  readonly partial: boolean;
  /** Where an interrupt stopped it: reading the DBs and planning (nothing hashed yet), or hashing; null when it finished. */
  readonly interruptedIn: 'planning' | 'hashing' | null;
  /** Paths the plan holds; null when interrupted before the plan was made. */
  readonly planned: number | null;
  /** Paths hashed (successfully or not). */
  readonly checked: number;
  readonly bytes: number;
  readonly seconds: number;
  /** Most worker threads hashing at once: never more than the batches, so never more than the paths. */
  readonly threads: number;
  /** The threads allowed (`--threads`, or `pool.size`). */
  readonly maxThreads: number;
  /** What was not checked, in words (the lower DB's integrity checks for a daemon lower store); [] when everything was. */
  readonly notComputed: readonly string[];
}

/**
 * The result of a run (pure). An interrupted run with no plan was stopped while planning: the report then counts
 * no paths, which says nothing about how many there are.
 */
export function verifyResult(report: VerifyReport, threads: number, maxThreads: number): VerifyResult {
  const planning = report.partial && report.total === 0 && report.checked === 0;
  return {
    scope: report.scope,
    partial: report.partial,
    interruptedIn: report.partial ? (planning ? 'planning' : 'hashing') : null,
    planned: planning ? null : report.total,
    checked: report.checked,
    bytes: report.bytes,
    seconds: report.seconds,
    threads,
    maxThreads,
    notComputed: report.notComputed,
  };
}

/**
 * Most threads that hashed at once across `pools`: each pool's peak of tasks in flight, at most its size. A pool
 * starts threads before it has work (one per core), so its live threads overstate what a small run used.
 */
export function hashingThreadsUsed(pools: ReadonlyArray<WorkerPool | undefined>): number {
  return pools.reduce((sum, pool) => sum + (pool === undefined ? 0 : Math.min(pool.stats().peakInFlight, pool.options.maxThreads)), 0);
}

/** The human report of a verify run; `findings` are the report's and the command's own (no upper DB). */
export function formatVerifyReport(io: CliIo, layout: StoreLayout, result: VerifyResult, findings: readonly Finding[]): string {
  const rate = result.seconds > 0 && result.bytes > 0 ? `, ${formatBytes(result.bytes / result.seconds)}/s` : '';
  const threads = result.threads > 0 ? ` on ${quantity(result.threads, 'thread')}` : '';
  const seconds = `in ${result.seconds.toFixed(1)} s`;
  const summary =
    result.planned === null
      ? `nothing hashed, ${seconds}`
      : result.planned === 0
        ? `no paths to hash in scope ${result.scope}, ${seconds}`
        : `${result.checked} of ${quantity(result.planned, 'path')} hashed (${formatBytes(result.bytes)}) ${seconds}${rate}${threads}`;
  return formatFindingsReport(io, {
    title: 'overlay-warden verify',
    subject: layout.mergedStoreDir,
    details: [
      `scope ${result.scope}; upper layer ${layout.upperLayer}, lower store ${layout.lower.realStoreDir}`,
      ...result.notComputed.map((what) => `not checked: ${what}`),
    ],
    findings,
    partial:
      result.interruptedIn === 'planning'
        ? 'interrupted while reading the DBs and planning; nothing was hashed'
        : result.partial
          ? `interrupted after hashing ${result.checked} of ${quantity(result.planned ?? 0, 'path')}; the rest were not checked`
          : undefined,
    summary,
  });
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'NAR-hash store contents in the worker pool and compare with the DBs (--upper default, --lower, --all, or paths)',
  usage: '[--upper | --lower | --all | STORE_PATH…] [--threads N] [--json]',
  allowPositionals: true,
  options: {
    upper: { type: 'boolean', default: false },
    lower: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    threads: { type: 'string' },
  },
  optionHelp: [
    ['--upper', "every path the upper DB registers, and every upper-layer copy of a lower path (default; Nix's verify checks the former)"],
    ['--lower', 'every path the lower DB registers, and the lower copies under upper ones (Nix never checks these)'],
    ['--all', 'both, each path once'],
    ['STORE_PATH…', 'just these paths (in the store dir or the merged dir)'],
    [
      '--threads N',
      'worker threads, all used (default: pool.size; auto = one per core, up to 2 per core (at least 4) while reads come from storage, not the page cache)',
    ],
  ],
  async run({ io, json, loadConfig, signal, values, positionals }) {
    const threadsGiven = threadsOption(values);
    const scope = verifyScope(values, positionals);
    const config = await loadConfig();
    checkStorePathArguments(config.layout, positionals);
    const threads = hashingThreads(threadsGiven ?? config.pool.size, availableParallelism());
    // Loaded here, not at start-up: every other command would pay for the pool and the readers.
    const [{ runVerify }, { WorkerPool }] = await Promise.all([import('../../audit/index.ts'), import('../../pool/index.ts')]);
    const adaptive = threadsGiven === undefined && config.pool.size === 'auto';
    const cores = Math.min(threads, availableParallelism());
    // Adaptive: one thread per core; the rest only while reads come from storage (a cold cache). Fixed: all the
    // threads asked for. Started now, while the DBs are read: one per core, or one per batch when the paths given
    // make fewer batches (a thread's start costs about 0.1 s of CPU).
    const eager = scope === undefined ? Math.min(cores, Math.ceil(positionals.length / VERIFY_BATCH_LIMITS.items)) : cores;
    const pool = new WorkerPool({ maxThreads: adaptive ? cores : threads, minThreads: eager });
    const ioPool = adaptive && threads > cores ? new WorkerPool({ maxThreads: threads - cores }) : undefined;
    const absentDb = scope === 'upper' || scope === 'all' ? noUpperDbFindings(config.layout) : [];
    const bar = new ProgressBar(io);
    let report: VerifyReport;
    let threadsUsed = 0;
    try {
      report = await runVerify({
        layout: config.layout,
        signal,
        pool,
        scope: scope ?? 'upper',
        ...(adaptive ? { concurrency: 'adaptive' as const, ...(ioPool === undefined ? {} : { ioPool }) } : {}),
        ...(scope === undefined ? { paths: positionals } : {}),
        onProgress: (progress) => bar.update(verifyProgressState(progress), progress.final),
      });
      threadsUsed = hashingThreadsUsed([pool, ioPool]);
    } catch (error) {
      // run-cli prints the error and picks the exit code. A path no DB registers is a bad argument too, but only the
      // DBs can tell.
      bar.clear();
      throw error instanceof AuditError && error.code === 'AUDIT_UNKNOWN_PATH' ? argumentError(error) : error;
    } finally {
      // Terminates every worker thread (running tasks get the grace period), so none outlives the command.
      await Promise.all([pool.close(), ioPool?.close()]);
    }
    bar.clear();
    const result = verifyResult(report, threadsUsed, threads);
    const findings = [...report.findings, ...absentDb].sort(compareFindings);
    const exitCode = report.partial ? interruptedExitCode(signal) : hasErrors(findings) ? EXIT.findings : EXIT.ok;
    if (json) printEnvelope(io, resultEnvelope('verify', exitCode, findings, result));
    else io.stdout.write(formatVerifyReport(io, config.layout, result, findings));
    return exitCode;
  },
};
