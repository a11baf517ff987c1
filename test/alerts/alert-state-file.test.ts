/** The alert state file: saved atomically with mode 0600, read back whole; a corrupt one is refused (the service starts afresh). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alertStateFileOf, applyUpdate, EMPTY_ALERT_STATE, loadAlertState, saveAlertState } from '../../agent/alerts/index.ts';
import { isWardenError } from '../../agent/errors/index.ts';

describe('alerts: state file', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-alert-state-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips the state; absent is empty', () => {
    const file = alertStateFileOf(dir);
    assert.deepEqual(loadAlertState(file), EMPTY_ALERT_STATE);
    const { state } = applyUpdate(
      EMPTY_ALERT_STATE,
      { scope: 'drift', mode: 'add', conditions: [{ name: 'OverlayWardenLowerStoreDrifted', labels: { change: 'grew' }, summary: 's', evidence: 'e' }] },
      new Date(0),
      { staticLabels: {}, runbookBase: '' },
    );
    saveAlertState(file, state);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadAlertState(file), state);
  });

  it('refuses a file that is not JSON, or not of this shape, with STATE_CORRUPT', () => {
    const file = alertStateFileOf(dir);
    for (const text of ['{', '{"format":1,"alerts":{"x":{"name":"NoSuchAlert"}}}', '{"format":2,"alerts":{}}']) {
      fs.writeFileSync(file, text, { mode: 0o600 });
      assert.throws(
        () => loadAlertState(file),
        (e: unknown) => isWardenError(e, 'STATE_CORRUPT'),
      );
    }
  });
});
