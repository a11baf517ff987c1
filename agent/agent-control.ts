/** The actions the agent answers on its control socket: remount, dedupe, pivot, status, and the operator accepting the lower store. */
import type { BaselineAcceptedEvent } from './agent-options.ts';
import type { AgentStatus } from './agent-status.ts';
import { availableParallelism } from 'node:os';
import { hashingThreads } from './audit/index.ts';
import type { Config } from './config/index.ts';
import type { ControlHandler } from './control/index.ts';
import { pivotHandler } from './repair/index.ts';

/** What the handlers need of the agent (the Agent is one). */
export interface ControlledAgent {
  remountControl(): ControlHandler;
  dedupeControl(): ControlHandler;
  status(): AgentStatus;
  acceptBaseline(by: string): Promise<BaselineAcceptedEvent>;
}

/** Longest `by` kept from a `baseline-accept` request: it is logged and emitted, so a client cannot make it huge. */
const MAX_ACCEPTED_BY = 200;

/**
 * Action name → handler for `startControlServer`; `pivot` runs on the store `config` describes. A `baseline-accept`
 * without a string `by` is said to come from the control socket.
 */
export function agentControlHandlers(agent: ControlledAgent, config: Config): Readonly<Record<string, ControlHandler>> {
  return {
    remount: agent.remountControl(),
    dedupe: agent.dedupeControl(),
    status: () => agent.status(),
    'baseline-accept': (request) => agent.acceptBaseline(typeof request['by'] === 'string' ? request['by'].slice(0, MAX_ACCEPTED_BY) : 'control socket'),
    pivot: pivotHandler({
      layout: () => config.layout,
      threads: () => hashingThreads(config.pool.size, availableParallelism()),
      remount: agent.remountControl(),
    }),
  };
}
