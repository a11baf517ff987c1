/**
 * One event, one log line, however many paths it carries: a lower-store shrink of 2,000 paths (with the referrers
 * of each broken closure) and a probe that finds 2,000 stale paths each log one bounded line that says the count;
 * the full lists stay in the event.
 */
import assert from 'node:assert/strict';
import { boundedForLog, driftLogLine, probeLogLine } from '../../agent/decide/index.ts';
import type { ObjectState, ProbeReport, ProbeResult } from '../../agent/probe/index.ts';
import type { BrokenUpperClosure, LowerShrankEvent } from '../../agent/watch/index.ts';

const AT = '2025-03-01T12:00:00.000Z';
const name = (i: number): string => `${String(i).padStart(32, '0')}-pkg-${i}`;
const paths = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `/nix/store/${name(from + i)}`);

const PRESENT: ObjectState = { kind: 'present', type: 'directory', perm: 0o555, size: 0, mtimeNs: '0', nlink: 0 };
const ABSENT: ObjectState = { kind: 'absent' };
const staleResult = (i: number): ProbeResult => ({
  name: name(i),
  verdict: { state: 'stale', expected: 'none', reason: i % 2 === 0 ? 'deleted-object-served' : 'served-but-absent-from-layers' },
  view: { name: name(i), merged: PRESENT, upper: ABSENT, lower: ABSENT },
});
const freshResult = (i: number): ProbeResult => ({
  name: name(i),
  verdict: { state: 'fresh', expected: 'none' },
  view: { name: name(i), merged: ABSENT, upper: ABSENT, lower: ABSENT },
});
const report = (results: ProbeResult[]): ProbeReport => ({ results, stale: results.filter((r) => r.verdict.state === 'stale'), skipped: [] });

describe('decide: one event, one log line', () => {
  it('a shrink of 2,000 paths: one line saying 2000, with 10 paths and 10 closures of 10 referrers each; the event keeps all', () => {
    const closures: BrokenUpperClosure[] = paths(50).map((path, i) => ({ path, registeredInUpper: true, referrers: paths(30, 10_000 + 100 * i) }));
    const event: LowerShrankEvent = { type: 'lower-shrank', source: 'watch', at: AT, paths: paths(2000), brokenUpperClosures: closures };
    const line = driftLogLine(event);
    assert.equal(line.message, 'drift: the lower store lost 2000 paths; 50 upper registrations broken');
    assert.deepEqual(line.fields['paths'], { count: 2000, first: paths(10) });
    const logged = line.fields['brokenUpperClosures'] as { count: number; first: { path: string; referrers: unknown }[] };
    assert.equal(logged.count, 50);
    assert.deepEqual(
      logged.first.map((c) => c.referrers),
      closures.slice(0, 10).map((c) => ({ count: 30, first: c.referrers.slice(0, 10) })),
    );
    assert.ok(JSON.stringify(line).length < 10_000, `the line stays small: ${JSON.stringify(line).length} characters`);
    assert.equal(event.paths.length, 2000, 'the event itself is not cut');
  });

  it('boundedForLog: short lists and non-lists stay as they are, objects outside lists are not walked', () => {
    assert.deepEqual(boundedForLog(['a', 'b']), ['a', 'b']);
    assert.equal(boundedForLog('x'), 'x');
    assert.equal(boundedForLog(null), null);
    const view = { mountOptions: Array.from({ length: 12 }, (_, i) => `o${i}`) };
    assert.equal(boundedForLog(view), view);
  });

  it('a probe that finds 2,000 paths stale: one warning with the count, a sample and the reasons', () => {
    const line = probeLogLine(report([...Array.from({ length: 2000 }, (_, i) => staleResult(i)), freshResult(5000)]));
    assert.deepEqual(line, {
      level: 'warn',
      message: 'stale view confirmed by the probe at 2000 of 2001 probed paths; remount requested',
      fields: {
        stale: { count: 2000, first: Array.from({ length: 10 }, (_, i) => name(i)) },
        reasons: { 'deleted-object-served': 1000, 'served-but-absent-from-layers': 1000 },
      },
    });
  });

  it('a probe that finds one path stale names it; one that finds none logs nothing', () => {
    assert.deepEqual(probeLogLine(report([staleResult(7), freshResult(8)])), {
      level: 'warn',
      message: `stale view confirmed by the probe at ${name(7)}; remount requested`,
      fields: { stale: [name(7)], reasons: { 'served-but-absent-from-layers': 1 } },
    });
    assert.equal(probeLogLine(report([freshResult(1)])), undefined);
  });
});
