/** The scrub's state file and pass arithmetic: saved crash-safe, read back exactly, a corrupt file refused with STATE_CORRUPT. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { finding } from '../../agent/findings/index.ts';
import {
  advancePass,
  chunkLimitsFor,
  CHUNK_BYTES,
  CHUNK_PATHS,
  freshScrubState,
  loadScrubState,
  passEtaMs,
  saveScrubState,
  scrubStateFileOf,
  SCRUB_FINDINGS_KEPT,
  toLowerLayer,
  type ScrubPass,
} from '../../agent/schedule/index.ts';
import { StateFileError } from '../../agent/state/index.ts';

const PASS: ScrubPass = {
  startedAt: '2026-12-06T10:00:00.000Z',
  layers: 'both',
  layer: 'upper',
  afterId: 0,
  pathsDone: 0,
  pathsTotal: 100,
  bytes: 0,
  activeMs: 0,
  findings: [],
  findingsDropped: 0,
};

describe('scrub state', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-scrub-state-'));
    fs.chmodSync(dir, 0o700);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('saves and loads a state with a pass under way and a completed one; absent file: undefined', () => {
    const file = scrubStateFileOf(dir);
    assert.equal(loadScrubState(file), undefined);
    const corrupt = finding('store.corrupt', 'error', 'x', { path: '/nix/store/x' }, 'h');
    const state = {
      ...freshScrubState(new Date('2026-12-01T00:00:00Z')),
      pass: { ...PASS, afterId: 42, pathsDone: 10, findings: [corrupt] },
      lastCompleted: { at: '2026-12-05T00:00:00.000Z', startedAt: '2026-12-04T00:00:00.000Z', paths: 90, bytes: 12345, findings: 0 },
    };
    saveScrubState(file, state);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadScrubState(file), state);
    saveScrubState(file, { ...state, pass: undefined });
    assert.equal(loadScrubState(file)?.pass, undefined);
  });

  it('a file that is not JSON, or not the shape, is STATE_CORRUPT (the caller starts afresh)', () => {
    const file = scrubStateFileOf(dir);
    for (const text of [
      '{not json',
      '{"version":2,"firstSeenAt":"2026-12-01T00:00:00Z"}',
      '{"version":1,"firstSeenAt":"x"}',
      '{"version":1,"firstSeenAt":"2026-12-01T00:00:00Z","pass":{"afterId":-1}}',
    ]) {
      fs.writeFileSync(file, text);
      assert.throws(
        () => loadScrubState(file),
        (e: unknown) => e instanceof StateFileError && e.code === 'STATE_CORRUPT',
        text,
      );
    }
  });

  it('advancePass moves the cursor and adds up; findings beyond SCRUB_FINDINGS_KEPT are counted, not kept', () => {
    const f = finding('store.corrupt', 'error', 'x', {}, 'h');
    let pass = advancePass(PASS, { lastId: 7, paths: 7, bytes: 700, ms: 100, findings: [f] });
    assert.deepEqual([pass.afterId, pass.pathsDone, pass.bytes, pass.activeMs, pass.findings.length], [7, 7, 700, 100, 1]);
    assert.equal(passEtaMs(pass), ((100 - 7) * 100) / 7);
    pass = advancePass(pass, { lastId: 9, paths: 2, bytes: 1, ms: 1, findings: Array.from({ length: SCRUB_FINDINGS_KEPT + 5 }, () => f) });
    assert.equal(pass.findings.length, SCRUB_FINDINGS_KEPT);
    assert.equal(pass.findingsDropped, 6);
    assert.deepEqual([toLowerLayer(pass).layer, toLowerLayer(pass).afterId, toLowerLayer(pass).pathsDone], ['lower', 0, 9]);
    assert.equal(passEtaMs(PASS), undefined);
  });

  it('chunks hold about two seconds of the read budget (at least a byte), or CHUNK_BYTES without one', () => {
    assert.deepEqual(chunkLimitsFor(undefined), { paths: CHUNK_PATHS, bytes: CHUNK_BYTES });
    assert.deepEqual(chunkLimitsFor(50e6), { paths: CHUNK_PATHS, bytes: 100e6 });
    assert.deepEqual(chunkLimitsFor(1e9), { paths: CHUNK_PATHS, bytes: CHUNK_BYTES });
    assert.deepEqual(chunkLimitsFor(0.1), { paths: CHUNK_PATHS, bytes: 1 });
  });
});
