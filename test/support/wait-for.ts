/** Waiting for a condition in tests: polled, with a generous limit that is a safety net, never what a test measures. */

/** The default limit for anything that reacts to a change (an agent, a watcher, a thread winding down). */
export const REACTION_TIMEOUT_MS = 30_000;

/**
 * Polls `probe` until it returns something other than undefined (or false) and resolves with it; rejects naming
 * `what` after `timeoutMs`. `describe` adds context to the timeout message (e.g. the agent's log).
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? REACTION_TIMEOUT_MS);
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${options.describe === undefined ? '' : `\n${options.describe()}`}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/**
 * `promise`, or a rejection naming `what` when it has not settled after `timeoutMs`: a safety net for an event
 * that must come, far above the time it takes. The timer is cleared either way.
 */
export async function withSafetyNet<T>(promise: Promise<T>, what: string, options: { timeoutMs?: number; describe?: () => string } = {}): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${what}${options.describe === undefined ? '' : `\n${options.describe()}`}`)),
      options.timeoutMs ?? REACTION_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
