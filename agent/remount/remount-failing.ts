/** Whether a remount is failing: what `/readyz` refuses on and `overlay_warden_remount_failing` reports (pure). */
import type { RemounterStatus } from './remounter.ts';

/**
 * True while a remount is needed (the persisted flag is set) and an attempt for it has failed: the flag keeps its
 * last error until a run remounts, so this holds across retries, give-ups and restarts of the agent.
 */
export function isRemountFailing(status: Pick<RemounterStatus, 'pending'>): boolean {
  return status.pending !== undefined && status.pending.lastError !== null;
}
