/** The `schedule:` section: defaults, human durations, `off` switches, and one clear problem per bad value. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../../agent/config/index.ts';

const STORE = 'local-overlay://?lower-store=%2Flower&upper-layer=/upper';

describe('config: the schedule section (scheduled audit and scrub)', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ow-config-schedule-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const load = (schedule: string): Config => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, `store: {url: "${STORE}"}\n${schedule}`);
    return loadConfig({ flags: { config: file }, env: {}, trustAnyFile: true });
  };
  const problemsOf = (schedule: string): ConfigError => {
    try {
      load(schedule);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error;
    }
    assert.fail('expected a ConfigError');
  };

  it('defaults: audit 10 s after the lower store settles (at most 5 min after the first change) and daily; a daily upper scrub at 50 MB/s on 1 thread', () => {
    assert.deepEqual(load('').schedule, {
      audit: { afterDrift: 10_000, maxDelay: 300_000, every: 86_400_000 },
      scrub: { every: 86_400_000, maxReadMBps: 50, threads: 1, layers: 'upper' },
    });
  });

  it('takes human durations, "off" switches, both layers and an unlimited read rate', () => {
    const schedule = load(
      'schedule:\n  audit:\n    afterDrift: 2s\n    maxDelay: 1m\n    every: "off"\n  scrub: {every: 24h, maxReadMBps: "off", threads: 2, layers: both}\n',
    ).schedule;
    assert.deepEqual(schedule, {
      audit: { afterDrift: 2000, maxDelay: 60_000, every: 'off' },
      scrub: { every: 86_400_000, maxReadMBps: 'off', threads: 2, layers: 'both' },
    });
    assert.equal(load('schedule: {audit: {afterDrift: "off"}}\n').schedule.audit.afterDrift, 'off');
    assert.equal(load('schedule: {audit: {afterDrift: 0s}}\n').schedule.audit.afterDrift, 0);
  });

  it('a bad value is one problem naming the key, what it takes and what it got', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['schedule: {scrub: {every: 24}}\n', 'schedule.scrub.every', /duration such as 10s.*or "off"/],
      ['schedule: {scrub: {every: "24 hours"}}\n', 'schedule.scrub.every', /duration such as 10s/],
      ['schedule: {audit: {every: 0s}}\n', 'schedule.audit.every', /from 1s to 365d.*got "0s"/],
      ['schedule: {scrub: {every: 400d}}\n', 'schedule.scrub.every', /from 1s to 365d.*got "400d"/],
      ['schedule: {audit: {afterDrift: soon}}\n', 'schedule.audit.afterDrift', /duration such as 10s.*got "soon"/],
      ['schedule: {audit: {maxDelay: "off"}}\n', 'schedule.audit.maxDelay', /duration such as 10s.*got "off"/],
      ['schedule: {scrub: {maxReadMBps: 0}}\n', 'schedule.scrub.maxReadMBps', /MB\/s above 0/],
      ['schedule: {scrub: {maxReadMBps: "50MB"}}\n', 'schedule.scrub.maxReadMBps', /MB\/s/],
      ['schedule: {scrub: {threads: 0}}\n', 'schedule.scrub.threads', /./],
      ['schedule: {scrub: {layers: lower}}\n', 'schedule.scrub.layers', /upper.*both/],
      ['schedule: {scrub: {evry: 1h}}\n', 'schedule.scrub.evry', /no such setting/],
    ];
    for (const [yaml, key, expected] of cases) {
      const error = problemsOf(yaml);
      assert.equal(error.code, 'CONFIG_INVALID', yaml);
      assert.equal(error.problems.length, 1, `${yaml}: ${error.message}`);
      assert.ok(error.problems[0]!.key.startsWith(key), `${yaml}: ${error.problems[0]!.key}`);
      assert.match(error.message, expected, yaml);
      assert.match(error.message, new RegExp(key.replace(/\./g, '\\.')), yaml);
    }
  });
});
