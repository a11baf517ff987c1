/** How the CLI prints: counts with the right noun, and errors as the one envelope with --json. */
import assert from 'node:assert/strict';
import { printError, quantity } from '../../agent/cli/output.ts';
import { UsageError } from '../../agent/cli/usage-error.ts';
import { parseEnvelope } from '../support/json-output.ts';

describe('CLI output', () => {
  it('quantity: the singular for exactly one, the plural otherwise, irregular plurals given', () => {
    assert.equal(quantity(1, 'path'), '1 path');
    assert.equal(quantity(0, 'path'), '0 paths');
    assert.equal(quantity(2, 'path'), '2 paths');
    assert.equal(quantity(1, 'entry', 'entries'), '1 entry');
    assert.equal(quantity(5, 'entry', 'entries'), '5 entries');
  });

  it('printError: the message, code and hint on stderr; with --json the envelope on stdout with its command and exit code', () => {
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: {} };
    const error = new UsageError('USAGE_BAD_VALUE', '--threads takes a number', { evidence: { option: '--threads' }, hint: 'overlay-warden verify --help' });
    printError(io, true, error, { command: 'verify', exitCode: 2 });
    assert.equal(stderr, 'overlay-warden: --threads takes a number [USAGE_BAD_VALUE]\nhint: overlay-warden verify --help\n');
    assert.deepEqual(parseEnvelope(stdout, 'verify'), {
      command: 'verify',
      ok: false,
      exitCode: 2,
      findings: [],
      result: null,
      error: { code: 'USAGE_BAD_VALUE', message: '--threads takes a number', evidence: { option: '--threads' }, hint: 'overlay-warden verify --help' },
    });
    stdout = '';
    printError(io, true, new Error('boom'));
    assert.deepEqual(parseEnvelope(stdout).error, { code: 'INTERNAL', message: 'boom', evidence: {} });
    assert.deepEqual([parseEnvelope(stdout).command, parseEnvelope(stdout).exitCode], [null, 2]);
  });
});
