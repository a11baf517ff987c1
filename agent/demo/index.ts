export { buildDemoStore, type DemoStore, type DemoLowerStore, type DemoUpperStore } from './store-builder.ts';
export { resolveDemoStoreOptions, type DemoStoreOptions, type DemoStoreProgress, type ResolvedDemoStoreOptions } from './demo-store-options.ts';
export { DemoStoreError, type DemoStoreErrorCode } from './demo-store-error.ts';
export { createNixDb, type NixDbWriter, type Registration } from './nix-db-writer.ts';
export { OBJECT_KINDS, type DemoContents, type ObjectKind } from './demo-graph.ts';
export { removeDemoDir } from './remove-demo-dir.ts';
export { runAgentTour, type AgentTourResult, type TourCheck } from './agent-tour.ts';
export { makeDemoMishaps, mishapCandidates, type DemoMishaps } from './demo-mishaps.ts';
export { judgeStep, describeExpectation, type StepExpectation, type ExpectedFinding, type StepOutcome, type StepVerdict } from './demo-judge.ts';
