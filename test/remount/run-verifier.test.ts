import assert from 'node:assert/strict';
import { runVerifier, RemountError, type RemountRequest } from '../../agent/remount/index.ts';

const REQUESTS: readonly RemountRequest[] = [{ source: 'manual', by: 'test' }];

describe('runVerifier', () => {
  it('passes the requests in and the verification through', async () => {
    let given: readonly RemountRequest[] | undefined;
    const result = await runVerifier(async (requests) => ((given = requests), { fresh: true, findings: [] }), REQUESTS, {
      timeoutMs: 1000,
      signal: new AbortController().signal,
    });
    assert.deepEqual(result, { fresh: true, findings: [] });
    assert.equal(given, REQUESTS);
  });

  it('stops waiting for a verifier that ignores its signal, and aborts that signal', async () => {
    let seen: AbortSignal | undefined;
    const result = await runVerifier((_requests, signal) => ((seen = signal), new Promise(() => {})), REQUESTS, {
      timeoutMs: 50,
      signal: new AbortController().signal,
    });
    assert.ok(result instanceof RemountError && result.code === 'REMOUNT_VERIFY_FAILED');
    assert.equal(seen?.aborted, true);
  });

  it('turns a throw into REMOUNT_VERIFY_FAILED and hands an abort on to the verifier', async () => {
    const thrown = await runVerifier(async () => Promise.reject(new Error('no mountinfo')), REQUESTS, {
      timeoutMs: 1000,
      signal: new AbortController().signal,
    });
    assert.ok(thrown instanceof RemountError && /no mountinfo/.test(thrown.message));
    const stop = new AbortController();
    const aborted = runVerifier(
      (_requests, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted by caller')))),
      REQUESTS,
      { timeoutMs: 10_000, signal: stop.signal },
    );
    stop.abort();
    const result = await aborted;
    assert.ok(result instanceof RemountError && /aborted by caller/.test(result.message));
  });
});
