/** What the agent's `status` answers, over the control socket and (later) HTTP: plain data, built by agent.ts. */
import type { CheckOutcome } from './checks/index.ts';
import type { Finding } from './findings/index.ts';
import type { Remounter } from './remount/index.ts';
import type { DriftEvent, DriftEventType, LowerDaemonStatus, WatcherHealth } from './watch/index.ts';

/**
 * Sections of `status` that services around the agent add with `Agent.extendStatus` (each owns its section's type):
 * `alerts` (alert state and sinks), `schedule` (scheduled audit and scrub), `layers` (filesystem and disk facts), `http`.
 */
export interface AgentStatusSections {
  readonly alerts?: unknown;
  readonly schedule?: unknown;
  readonly layers?: unknown;
  readonly http?: unknown;
}

export interface AgentStatus extends AgentStatusSections {
  readonly startedAt: string;
  readonly mergedStoreDir: string;
  readonly mountValid: boolean;
  readonly lastCheck: { readonly at: string; readonly errors: number; readonly warnings: number; readonly findings: readonly Finding[] } | undefined;
  readonly drift: Readonly<Record<DriftEventType, number>>;
  readonly lastEvents: readonly DriftEvent[];
  /** Each watcher and whether it sees its target now (`down`: which, since when, why); empty until they start. */
  readonly watchers: readonly WatcherHealth[];
  readonly remount: ReturnType<Remounter['status']>;
  /** A daemon lower store: its socket, up or down since when, the last error, protocol and Nix version; else undefined. */
  readonly lowerDaemon?: LowerDaemonStatus | undefined;
}

/**
 * A complete set of findings from one run of one source (`check`: a mount check, whatever its reason; `audit`, `scrub`:
 * scheduled work). The full set each time, so a consumer can tell a finding that cleared from one not yet looked at.
 */
export interface FindingsEvent {
  readonly source: 'check' | 'audit' | 'scrub';
  readonly at: string;
  readonly findings: readonly Finding[];
  /** A mount check's outcome per check (ok, duration), for metrics; absent for other sources. */
  readonly checks?: readonly CheckOutcome[];
}
