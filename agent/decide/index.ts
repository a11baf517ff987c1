export { decideOnDrift, decideOnProbe, eventLevel, describeDrift, type AgentAction, type EventLevel, type DecisionLayout } from './drift-decisions.ts';
