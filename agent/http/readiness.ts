/** What `/readyz` answers (pure): ready when the last mount check passed and no remount is failing. */
import type { AgentStatus } from '../agent-status.ts';
import { isRemountFailing } from '../remount/index.ts';

export interface Readiness {
  readonly ready: boolean;
  /** Why not, one sentence each; empty when ready. */
  readonly reasons: readonly string[];
}

/** The readiness of an agent from its status: not before the first mount check, not with one that found errors, not while a remount fails. */
export function readinessOf(status: Pick<AgentStatus, 'lastCheck' | 'mountValid' | 'remount'>): Readiness {
  const reasons: string[] = [];
  if (status.lastCheck === undefined) reasons.push('the mount has not been checked yet');
  else if (!status.mountValid) reasons.push(`the last mount check (${status.lastCheck.at}) found ${status.lastCheck.errors} error(s)`);
  if (isRemountFailing(status.remount)) {
    const error = status.remount.pending?.lastError;
    reasons.push(`a remount is failing${error == null ? '' : ` (${error.code} at ${error.at})`}`);
  }
  return { ready: reasons.length === 0, reasons };
}
