export { FINDING_IDS, type FindingId } from './finding-ids.ts';
export { SEVERITIES, finding, compareFindings, hasErrors, type Finding, type Severity } from './finding.ts';
export { findingLogLine } from './finding-log-line.ts';
export { CHECK_IDS, type CheckId } from './check-ids.ts';
