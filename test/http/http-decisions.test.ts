/** The pure parts of the HTTP endpoints: the address, the bearer check, readiness. */
import assert from 'node:assert/strict';
import { checkBearer, formatListenAddress, parseListenAddress, readinessOf } from '../../agent/http/index.ts';
import { isWardenError } from '../../agent/errors/index.ts';

describe('http: listen addresses', () => {
  it('parses HOST:PORT, IPv6 in brackets, port 0', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:9873'), { host: '127.0.0.1', port: 9873 });
    assert.deepEqual(parseListenAddress('[::1]:80'), { host: '::1', port: 80 });
    assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
    assert.equal(formatListenAddress({ host: '::1', port: 80 }), '[::1]:80');
  });

  it('refuses anything else with HTTP_BAD_ADDRESS naming the setting and the value', () => {
    for (const bad of ['9873', '127.0.0.1', '127.0.0.1:65536', '::1:80', 'host:port', '']) {
      assert.throws(
        () => parseListenAddress(bad, '--listen'),
        (e: unknown) => isWardenError(e, 'HTTP_BAD_ADDRESS') && e.message.startsWith('--listen takes HOST:PORT') && e.evidence['--listen'] === bad,
        bad,
      );
    }
  });
});

describe('http: the bearer token check', () => {
  it('missing without a Bearer header, wrong for another token, ok for the token', () => {
    assert.equal(checkBearer(undefined, 'sesame'), 'missing');
    assert.equal(checkBearer('Basic c2VzYW1l', 'sesame'), 'missing');
    assert.equal(checkBearer('Bearer', 'sesame'), 'missing');
    assert.equal(checkBearer('Bearer sesam', 'sesame'), 'wrong');
    assert.equal(checkBearer('Bearer sesamesesame', 'sesame'), 'wrong');
    assert.equal(checkBearer('Bearer sesame', 'sesame'), 'ok');
    assert.equal(checkBearer('bearer sesame', 'sesame'), 'ok');
  });
});

describe('http: readiness', () => {
  const remount = { pending: undefined };
  const check = { at: 'T', errors: 0, warnings: 1, findings: [] };
  it('ready after a mount check without errors and no failing remount', () => {
    assert.deepEqual(readinessOf({ lastCheck: check, mountValid: true, remount } as never), { ready: true, reasons: [] });
  });
  it('not before the first check, not with errors, not while a remount fails', () => {
    assert.deepEqual(readinessOf({ lastCheck: undefined, mountValid: false, remount } as never).reasons, ['the mount has not been checked yet']);
    assert.deepEqual(readinessOf({ lastCheck: { ...check, errors: 2 }, mountValid: false, remount } as never).reasons, [
      'the last mount check (T) found 2 error(s)',
    ]);
    const failing = { pending: { lastError: { code: 'REMOUNT_COMMAND_FAILED', message: 'm', at: 'U' } } };
    assert.deepEqual(readinessOf({ lastCheck: check, mountValid: true, remount: failing } as never), {
      ready: false,
      reasons: ['a remount is failing (REMOUNT_COMMAND_FAILED at U)'],
    });
    // Needed but not failed yet (pending, no error): still ready.
    assert.equal(readinessOf({ lastCheck: check, mountValid: true, remount: { pending: { lastError: null } } } as never).ready, true);
  });
});
