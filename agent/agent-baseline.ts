/** The agent's lower-store baseline in its state dir: read at start (a bad one starts afresh), saved after changes (a failure is logged). */
import { baselineFileOf, loadBaseline, saveBaseline, type LowerBaseline } from './baseline/index.ts';
import { WardenError } from './errors/index.ts';
import type { Logger } from './log/index.ts';

/**
 * The baseline a previous run saved in `stateDir`, or undefined when there is none or it cannot be used (a WardenError,
 * logged: the agent starts afresh with a new one). Throws any other error.
 */
export function loadAgentBaseline(stateDir: string, lowerRealStoreDir: string, log: Logger): LowerBaseline | undefined {
  try {
    return loadBaseline(baselineFileOf(stateDir), lowerRealStoreDir);
  } catch (error) {
    if (!(error instanceof WardenError)) throw error;
    log.error(`${error.message}; starting afresh with a new baseline`, { code: error.code, hint: error.hint });
    return undefined;
  }
}

/** Saves `baseline` in `stateDir`; a failure is logged with its code and hint, never thrown (the next change saves again). */
export function saveAgentBaseline(stateDir: string, baseline: LowerBaseline, log: Logger): void {
  try {
    saveBaseline(baselineFileOf(stateDir), baseline);
  } catch (error) {
    const e = error as WardenError;
    log.error(e.message, { code: e.code, hint: e.hint });
  }
}
