/** How a stale-view probe's result reads in the agent's log: one line however many paths it found stale. */
import type { LogLine } from '../log/index.ts';
import type { ProbeReport } from '../probe/index.ts';
import { boundedForLog } from './drift-log-line.ts';

/**
 * The line for a probe that found stale paths (undefined when it found none): their count, a bounded sample of
 * their names, and how many were stale for each reason. One probe of 2,000 vanished paths is one line, not one per
 * path (nor one per remount request it makes: see decideOnProbe). Pure.
 */
export function probeLogLine(report: ProbeReport): LogLine | undefined {
  const stale = report.stale;
  if (stale.length === 0) return undefined;
  const reasons: Record<string, number> = {};
  for (const { verdict } of stale) if (verdict.state === 'stale') reasons[verdict.reason] = (reasons[verdict.reason] ?? 0) + 1;
  const where = stale.length === 1 ? stale[0]!.name : `${stale.length} of ${report.results.length} probed paths`;
  return {
    level: 'warn',
    message: `stale view confirmed by the probe at ${where}; remount requested`,
    fields: { stale: boundedForLog(stale.map((r) => r.name)), reasons },
  };
}
