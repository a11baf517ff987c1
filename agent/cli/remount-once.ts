/** One remount for a command that changed the upper layer (dedupe): through the running agent when one answers, else here. */
import type { Config } from '../config/index.ts';
import { ControlError, requestControl, socketAnswers } from '../control/index.ts';
import { mountCheckVerifier, Remounter, type RemountOutcome } from '../remount/index.ts';
import { remountWaitMs } from './commands/remount.ts';

/**
 * Asks the agent on `config.control.socket` to remount (serialised with its own remounts, checked afterwards), or,
 * when none answers, remounts here as `remount --direct` does (retries, timeout, the mount check afterwards).
 * `by` names the requester in the agent's log.
 * @throws ControlError CONTROL_HANDLER_FAILED when the agent refuses.
 */
export async function remountOnce(config: Config, env: Readonly<Record<string, string | undefined>>, signal: AbortSignal, by: string): Promise<RemountOutcome> {
  if (await socketAnswers(config.control.socket)) {
    const response = await requestControl(
      config.control.socket,
      { action: 'remount', source: 'manual', by, wait: true },
      { timeoutMs: remountWaitMs(config.remount), signal },
    );
    if (!response.ok) {
      throw new ControlError('CONTROL_HANDLER_FAILED', `the agent refused to remount: ${response.error.message}`, {
        evidence: { code: response.error.code, ...response.error.evidence },
        ...(response.error.hint === undefined ? {} : { hint: response.error.hint }),
      });
    }
    return response.result as RemountOutcome;
  }
  const remounter = new Remounter({
    mergedStoreDir: config.layout.mergedStoreDir,
    stateDir: config.stateDir,
    settings: { ...config.remount, coalesceMs: 0 },
    verifyAfterRemount: mountCheckVerifier(config, env),
  });
  try {
    remounter.start();
    return await remounter.request({ source: 'manual', by });
  } finally {
    await remounter.close();
  }
}
