import assert from 'node:assert/strict';
import { runVerifier, RemountError } from '../../agent/remount/index.ts';

describe('runVerifier', () => {
  it('passes a verification through', async () => {
    assert.deepEqual(await runVerifier(async () => ({ fresh: true, findings: [] }), { timeoutMs: 1000, signal: new AbortController().signal }), { fresh: true, findings: [] });
  });

  it('stops waiting for a verifier that ignores its signal, and aborts that signal', async () => {
    let seen: AbortSignal | undefined;
    const result = await runVerifier((signal) => ((seen = signal), new Promise(() => {})), { timeoutMs: 50, signal: new AbortController().signal });
    assert.ok(result instanceof RemountError && result.code === 'REMOUNT_VERIFY_FAILED');
    assert.equal(seen?.aborted, true);
  });

  it('turns a throw into REMOUNT_VERIFY_FAILED and hands an abort on to the verifier', async () => {
    const thrown = await runVerifier(async () => Promise.reject(new Error('no mountinfo')), { timeoutMs: 1000, signal: new AbortController().signal });
    assert.ok(thrown instanceof RemountError && /no mountinfo/.test(thrown.message));
    const stop = new AbortController();
    const aborted = runVerifier((signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted by caller')))), { timeoutMs: 10_000, signal: stop.signal });
    stop.abort();
    const result = await aborted;
    assert.ok(result instanceof RemountError && /aborted by caller/.test(result.message));
  });
});
