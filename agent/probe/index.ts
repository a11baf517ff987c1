/** The stale-view probe: does the merged store dir still serve what the layers hold? */
export { judgeView, expectedSource, sameState, type ObjectState, type PathView, type Verdict, type StaleReason, type ExpectedSource } from './view-verdict.ts';
export { probeStaleView, probeLayoutOf, type ProbeLayout, type ProbeOptions, type ProbeResult, type ProbeReport } from './stale-probe.ts';
