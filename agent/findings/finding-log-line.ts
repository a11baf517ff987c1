/** How a finding reads in the agent's log: at its severity's level, prefixed by its id, with the hint when it has one. */
import type { LogLevel, LogLine } from '../log/index.ts';
import type { Finding, Severity } from './finding.ts';

const LEVEL_OF: Readonly<Record<Severity, LogLevel>> = { error: 'error', warning: 'warn', info: 'info' };

/** The log line for `finding`; its `finding` field is the id alert rules key on. Pure. */
export function findingLogLine(finding: Finding): LogLine {
  return {
    level: LEVEL_OF[finding.severity],
    message: `${finding.id}: ${finding.message}`,
    fields: { finding: finding.id, ...(finding.hint === undefined ? {} : { hint: finding.hint }) },
  };
}
