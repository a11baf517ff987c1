/** What starting an agent takes, what it emits, and the services that run around it (types only). */
import type { Agent } from './agent.ts';
import type { FindingsEvent } from './agent-status.ts';
import type { Config } from './config/index.ts';
import type { Logger } from './log/index.ts';
import type { RemountEvent } from './remount/index.ts';
import type { DriftEvent, WatcherHealthEvent } from './watch/index.ts';

export interface AgentOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** The environment Nix defaults come from (NIX_STORE_DIR…). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Start the control socket (default true; tests of the agent core may turn it off). */
  readonly control?: boolean;
  /** Services around the agent (HTTP, alerts, scheduled work), started before it so they see its start-up events. */
  readonly services?: readonly AgentServiceStarter[];
}

/** A service around a running agent: it subscribes to the agent's events and may extend its status. */
export interface AgentService {
  /** Stops the service; called before the agent itself stops. Never rejects. */
  close(): Promise<void>;
}

/** Starts a service for `agent` (not yet started); rejects when it cannot start (the agent then does not start). */
export type AgentServiceStarter = (agent: Agent, options: AgentOptions) => Promise<AgentService>;

/** What the agent emits, for the demo, tests, metrics and alert sinks: every drift, watcher-health, remount and findings event. */
export interface AgentEventMap {
  drift: [DriftEvent];
  health: [WatcherHealthEvent];
  remount: [RemountEvent];
  findings: [FindingsEvent];
  baseline: [BaselineAcceptedEvent];
}

/** The operator accepted the lower store as it is now (`overlay-warden baseline --accept`): drift alerts resolve. */
export interface BaselineAcceptedEvent {
  readonly type: 'baseline-accepted';
  readonly at: string;
  /** Who asked (the CLI says `overlay-warden baseline --accept (uid N)`). */
  readonly by: string;
  /** Store paths in the accepted baseline. */
  readonly paths: number;
}
