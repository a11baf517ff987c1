/** The `schedule` section of status as rows of the text report (pure): the audit and scrub lines people read. */
import { formatBytes, formatDuration } from '../config/index.ts';
import type { ScheduleStatus } from '../schedule/index.ts';

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Rows `audit` and `scrub` (and `scrub pool` while it has threads) for `overlay-warden status`. */
export function scheduleRows(status: ScheduleStatus): Array<readonly [string, string]> {
  const { audit, scrub, pool } = status;
  const auditParts: string[] = [];
  if (audit.state === 'running') auditParts.push('running now');
  else if (audit.state === 'pending') auditParts.push(`lower store changed at ${audit.pendingSince ?? '?'}, audit due ${audit.nextAt ?? '?'}`);
  else auditParts.push(audit.nextAt === undefined ? 'not scheduled' : `next ${audit.nextAt}`);
  if (audit.last !== undefined)
    auditParts.push(
      audit.last.error === undefined
        ? `last ${audit.last.at} (${audit.last.reason}): ${plural(audit.last.findings, 'finding')}, ${plural(audit.last.errors, 'error')}`
        : `last ${audit.last.at} failed: ${audit.last.error}`,
    );
  const scrubParts: string[] = [];
  const budget = `${scrub.maxReadMBps === 'off' ? 'no read limit' : `≤ ${scrub.maxReadMBps} MB/s`}, ${plural(scrub.threads, 'thread')}`;
  if (scrub.state === 'off') scrubParts.push('off');
  else if (scrub.pass !== undefined) {
    const p = scrub.pass;
    const share = p.pathsTotal === 0 ? 100 : Math.min(100, Math.floor((100 * p.pathsDone) / p.pathsTotal));
    scrubParts.push(
      `${scrub.state} (${budget}): ${p.pathsDone} of ${p.pathsTotal} paths (${share}%), ${formatBytes(p.bytes)}, ${plural(p.findings, 'finding')} so far, started ${p.startedAt}${p.eta === undefined ? '' : `, eta ${p.eta}`}`,
    );
  } else
    scrubParts.push(
      `${scrub.nextAt === undefined ? 'not scheduled' : `next ${scrub.nextAt}`} (every ${scrub.everyMs === 'off' ? 'off' : formatDuration(scrub.everyMs)}, ${scrub.layers}, ${budget})`,
    );
  if (scrub.lastCompleted !== undefined)
    scrubParts.push(`last completed ${scrub.lastCompleted.at}: ${scrub.lastCompleted.paths} paths, ${plural(scrub.lastCompleted.findings, 'finding')}`);
  if (scrub.lastError !== undefined) scrubParts.push(`retrying after: ${scrub.lastError}`);
  const rows: Array<readonly [string, string]> = [
    ['audit', auditParts.join('; ')],
    ['scrub', scrubParts.join('; ')],
  ];
  if (pool.threads > 0) rows.push(['scrub pool', `${plural(pool.threads, 'thread')}, ${pool.busy} busy, ${pool.queued} queued`]);
  return rows;
}
