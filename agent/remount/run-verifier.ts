/** Runs the injected post-remount check with a time limit and cancellation; its failure comes back as a value. */
import { messageOf } from '../errors/index.ts';
import { RemountError } from './remount-errors.ts';
import type { RemountVerification, RemountVerifier } from './remount-events.ts';
import type { RemountRequest } from './remount-request.ts';

/**
 * Calls `verifier` on `requests` with a signal that aborts on `signal` or after `timeoutMs`,
 * and stops waiting at the timeout even if the verifier ignores its signal.
 * Resolves with the verification, or with RemountError REMOUNT_VERIFY_FAILED
 * (threw, or timed out). Never rejects; clears its timer and listener.
 */
export async function runVerifier(
  verifier: RemountVerifier,
  requests: readonly RemountRequest[],
  options: { readonly timeoutMs: number; readonly signal: AbortSignal },
): Promise<RemountVerification | RemountError> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal.reason);
  options.signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new RemountError('REMOUNT_VERIFY_FAILED', `the check after the remount did not finish within ${options.timeoutMs} ms`, {
        evidence: { timeoutMs: options.timeoutMs },
      });
      controller.abort(error);
      reject(error);
    }, options.timeoutMs);
  });
  try {
    if (options.signal.aborted) controller.abort(options.signal.reason);
    return await Promise.race([verifier(requests, controller.signal), timedOut]);
  } catch (cause) {
    if (cause instanceof RemountError) return cause;
    return new RemountError('REMOUNT_VERIFY_FAILED', `the check after the remount could not run: ${messageOf(cause)}`, { cause });
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onAbort);
  }
}
