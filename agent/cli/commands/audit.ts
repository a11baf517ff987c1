/** `overlay-warden audit`: both DBs and both layers against each other (no content hashing); a report, or JSON. */
import { type AuditProgress, type AuditReport, hashingThreads } from '../../audit/index.ts';
import { availableParallelism } from 'node:os';
import { compareFindings, hasErrors, type Finding } from '../../findings/index.ts';
import type { StoreLayout } from '../../store/index.ts';
import { EXIT, type CliIo, type Command, interruptedExitCode } from '../command.ts';
import { formatFindingsReport } from '../findings-report.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';
import { quantity } from '../output.ts';
import { noUpperDbFindings } from './no-upper-db.ts';
import { ProgressBar, type ProgressState } from '../progress-bar.ts';
import { threadsOption } from './verify.ts';

const PHASE_LABEL: Record<AuditProgress['phase'], string> = {
  'upper-db': 'reading upper DB',
  layers: 'listing the upper layer',
  'db-integrity': "checking the upper DB's indexes",
  'lower-db': 'reading lower DB and store dir',
  xattrs: 'reading overlay xattrs',
  duplicates: 'measuring duplicates',
  'hash-duplicates': 'hashing duplicates',
  decide: 'deciding',
};

/** The progress line of an audit phase (pure). */
export function auditProgressState(progress: AuditProgress, elapsedMs: number): ProgressState {
  const unit = progress.phase === 'upper-db' || progress.phase === 'lower-db' ? 'rows' : progress.phase === 'layers' ? 'entries' : 'paths';
  return {
    label: `audit: ${PHASE_LABEL[progress.phase]}`,
    done: progress.done,
    total: progress.total,
    unit,
    ...(progress.bytes > 0 ? { bytes: progress.bytes, bytesPerSecond: (progress.bytes / Math.max(elapsedMs, 1)) * 1000 } : {}),
  };
}

/** Where an audit looked, for the report header and the JSON. */
export function auditSources(layout: StoreLayout): Record<string, string | undefined> {
  return {
    mergedStoreDir: layout.mergedStoreDir,
    upperLayer: layout.upperLayer,
    upperDb: layout.upperDb,
    lowerStoreDir: layout.lower.realStoreDir,
    lowerDb: layout.lower.db,
  };
}

/** The human report of an audit; `findings` are the report's and the command's own (no upper DB). */
export function formatAuditReport(
  io: CliIo,
  layout: StoreLayout,
  report: Pick<AuditReport, 'partial' | 'interruptedIn' | 'stats'>,
  findings: readonly Finding[],
): string {
  const s = report.stats;
  return formatFindingsReport(io, {
    title: 'overlay-warden audit',
    subject: layout.mergedStoreDir,
    details: [`upper layer ${layout.upperLayer}, DB ${layout.upperDb}`, `lower store ${layout.lower.realStoreDir}, DB ${layout.lower.db ?? '(none)'}`],
    findings,
    partial: report.partial ? `interrupted while ${PHASE_LABEL[report.interruptedIn ?? 'decide']}; only what was read by then is reported` : undefined,
    summary: `registrations: ${s.upperRegistrations} upper, ${s.lowerRegistrations} lower; entries: ${s.upperEntries} upper, ${s.lowerEntries} lower; ${quantity(s.duplicates, 'duplicate')}; in ${s.seconds.toFixed(1)} s`,
  });
}

export const auditCommand: Command = {
  name: 'audit',
  summary: 'check both DBs and both layers against each other: dangling, broken closures, duplicates, masked, strays, diverged (fast, no content hashing)',
  usage: '[--hash-duplicates] [--threads N] [--json]',
  options: {
    'hash-duplicates': { type: 'boolean', default: false },
    'no-references': { type: 'boolean', default: false },
    threads: { type: 'string' },
  },
  optionHelp: [
    ['--hash-duplicates', 'also hash both copies of each duplicate (in the worker pool) and say whether they are the same'],
    ['--no-references', "do not compare the references both DBs record (skips reading the lower DB's Refs)"],
    ['--threads N', 'worker threads for --hash-duplicates (default: pool.size, auto = 2 per core)'],
  ],
  async run({ io, json, loadConfig, signal, values }) {
    const threadsGiven = threadsOption(values);
    const config = await loadConfig();
    const threads = hashingThreads(threadsGiven ?? config.pool.size, availableParallelism());
    const hash = values['hash-duplicates'] === true;
    // Loaded here, not at start-up: every other command would pay for the readers and the pool.
    const [{ runAudit }, { WorkerPool }] = await Promise.all([import('../../audit/index.ts'), import('../../pool/index.ts')]);
    const absentDb = noUpperDbFindings(config.layout);
    const pool = hash ? new WorkerPool({ maxThreads: threads }) : undefined;
    const bar = new ProgressBar(io);
    const started = Date.now();
    let report: AuditReport;
    try {
      report = await runAudit({
        layout: config.layout,
        signal,
        hashDuplicates: hash,
        compareReferences: values['no-references'] !== true,
        ...(pool === undefined ? {} : { pool }),
        onProgress: (progress) => bar.update(auditProgressState(progress, Date.now() - started)),
      });
    } catch (error) {
      // run-cli prints the error and picks the exit code.
      bar.clear();
      throw error;
    } finally {
      await pool?.close();
    }
    bar.clear();
    const findings = [...report.findings, ...absentDb].sort(compareFindings);
    const exitCode = report.partial ? interruptedExitCode(signal) : hasErrors(findings) ? EXIT.findings : EXIT.ok;
    if (json) {
      const result = { partial: report.partial, interruptedIn: report.interruptedIn ?? null, stats: report.stats, sources: auditSources(config.layout) };
      printEnvelope(io, resultEnvelope('audit', exitCode, findings, result));
    } else io.stdout.write(formatAuditReport(io, config.layout, report, findings));
    return exitCode;
  },
};
