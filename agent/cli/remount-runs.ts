/**
 * The remount runs the commands share: through the running agent (serialised with its own remounts, checked
 * afterwards), or here without one; `remount`, `dedupe` and `pivot` use them.
 */
import type { Config } from '../config/index.ts';
import { ControlError, requestControl, socketAnswers } from '../control/index.ts';
import { backoffDelay, mountCheckVerifier, Remounter, type RemountOutcome, type RemountSettings } from '../remount/index.ts';
import type { CliIo } from './command.ts';

/**
 * How long to wait for the agent's answer: every attempt may run its full
 * timeout plus the kill grace, the check after each as long again, plus the
 * backoffs and the coalescing window, plus a minute of slack. Pure.
 */
export function remountWaitMs(settings: RemountSettings): number {
  let backoffMs = 0;
  for (let attempt = 1; attempt < settings.attempts; attempt++) backoffMs += backoffDelay(attempt, settings.backoffSeconds * 1000);
  return Math.round(settings.attempts * (2 * settings.timeoutSeconds + 10) * 1000 + backoffMs + 60_000 + settings.coalesceMs);
}

/**
 * Asks the agent on `config.control.socket` to remount; resolves with its answer's result (the outcome, or the
 * queued acknowledgement when not `wait`). `by` names the requester in the agent's log.
 * @throws ControlError CONTROL_HANDLER_FAILED when the agent refuses, and requestControl's errors.
 */
export async function askAgentToRemount(
  config: Config,
  by: string,
  options: { readonly wait: boolean; readonly timeoutMs: number; readonly signal: AbortSignal },
): Promise<unknown> {
  const response = await requestControl(
    config.control.socket,
    { action: 'remount', source: 'manual', by, wait: options.wait },
    { timeoutMs: options.timeoutMs, signal: options.signal },
  );
  if (!response.ok) {
    throw new ControlError('CONTROL_HANDLER_FAILED', `the agent refused to remount: ${response.error.message}`, {
      evidence: { code: response.error.code, ...response.error.evidence },
      ...(response.error.hint === undefined ? {} : { hint: response.error.hint }),
    });
  }
  return response.result;
}

/**
 * One remount run here, without an agent (retries, timeout, the mount check afterwards), as `remount --direct` and
 * `pivot` without an agent do it. A flag an agent left (crash) is answered by the same run, and cleared when it ends
 * fresh. Closing on `signal` cancels it.
 */
export async function remountHere(config: Config, env: CliIo['env'], by: string, signal: AbortSignal): Promise<RemountOutcome> {
  const remounter = new Remounter({
    mergedStoreDir: config.layout.mergedStoreDir,
    stateDir: config.stateDir,
    // No other requests to wait for: start at once.
    settings: { ...config.remount, coalesceMs: 0 },
    verifyAfterRemount: mountCheckVerifier(config, env),
  });
  const onAbort = (): void => void remounter.close();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    remounter.start();
    return await remounter.request({ source: 'manual', by });
  } finally {
    signal.removeEventListener('abort', onAbort);
    await remounter.close();
  }
}

/**
 * One remount for a command that changed the upper layer (dedupe): through the agent when one answers, else here
 * (remountHere). `by` names the requester in the agent's log.
 * @throws ControlError CONTROL_HANDLER_FAILED when the agent refuses.
 */
export async function remountOnce(config: Config, env: CliIo['env'], signal: AbortSignal, by: string): Promise<RemountOutcome> {
  if (await socketAnswers(config.control.socket)) {
    return (await askAgentToRemount(config, by, { wait: true, timeoutMs: remountWaitMs(config.remount), signal })) as RemountOutcome;
  }
  return remountHere(config, env, by, signal);
}
