/**
 * deploy/prometheus/: `promtool check rules` and `promtool test rules` pass; every metric the rules and the Grafana
 * dashboard's queries name is in the catalog; the dashboard's queries parse (promtool, as recording rules); each
 * rule's runbook links a README heading.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_METRICS, METRIC_SPECS } from '../../agent/metrics/index.ts';
import { requireCommand } from '../support/requirements.ts';

const DIR = new URL('../../deploy/prometheus/', import.meta.url).pathname;
const README = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Series names a catalog metric exposes (a histogram's _bucket, _sum, _count), the defaults, and Prometheus's own `up`. */
const KNOWN = new Set([
  'up',
  ...DEFAULT_METRICS.map((m) => m.name),
  ...METRIC_SPECS.flatMap((m) => (m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name])),
]);

/** The metric names a PromQL expression mentions (identifiers of the metric families used). */
const metricNames = (expr: string): string[] => [...expr.matchAll(/\b((?:overlay_warden|process|nodejs)_[a-z0-9_]+|up)\b(?!\s*\()/g)].map((m) => m[1]!);

const promtool = (...args: string[]): { status: number | null; out: string } => {
  const run = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8' });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
};

interface Rule {
  alert: string;
  expr: string;
  annotations: Record<string, string>;
}

describe('deploy/prometheus: alerting rules and the Grafana dashboard', function () {
  before(function () {
    requireCommand(this, 'promtool');
  });

  it('promtool check rules', () => {
    const run = promtool('check', 'rules', 'overlay-warden.rules.yml');
    assert.equal(run.status, 0, run.out);
  });

  it('promtool test rules: each alert fires when it should and not before', () => {
    const run = promtool('test', 'rules', 'overlay-warden.rules.test.yml');
    assert.equal(run.status, 0, run.out);
  });

  it('rules: the catalog names every metric used; summary, description and a runbook heading in the README', () => {
    const rules = (parse(fs.readFileSync(path.join(DIR, 'overlay-warden.rules.yml'), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap(
      (g) => g.rules,
    );
    assert.deepEqual(
      rules.map((r) => r.alert),
      [
        'OverlayWardenDown',
        'OverlayWardenMountInvalid',
        'OverlayWardenLowerStoreDrifted',
        'OverlayWardenBrokenClosures',
        'OverlayWardenRemountFailing',
        'OverlayWardenLowerDaemonUnavailable',
        'OverlayWardenUpperNearlyFull',
        'OverlayWardenScrubOverdue',
      ],
    );
    for (const rule of rules) {
      for (const name of metricNames(rule.expr)) assert.ok(KNOWN.has(name), `${rule.alert}: ${name} is not in the catalog`);
      assert.ok(rule.annotations['summary'] && rule.annotations['description'], `${rule.alert}: summary and description`);
      const anchor = /^README\.md#(runbook-[a-z-]+)$/.exec(rule.annotations['runbook'] ?? '')?.[1];
      assert.ok(anchor !== undefined, `${rule.alert}: runbook annotation README.md#runbook-…`);
      assert.ok(README.includes(`<a id="${anchor}"></a>`), `${rule.alert}: README has no anchor ${anchor}`);
    }
  });

  it('the dashboard: JSON whose every query parses and names only catalog metrics', () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(DIR, 'grafana-dashboard.json'), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ title: p.title, expr: t.expr })));
    assert.ok(exprs.length >= 10);
    const used = new Set<string>();
    for (const { title, expr } of exprs) {
      for (const name of metricNames(expr)) {
        assert.ok(KNOWN.has(name), `panel "${title}": ${name} is not in the catalog`);
        used.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    // The main metrics are on the dashboard.
    for (const name of [
      'overlay_warden_mount_valid',
      'overlay_warden_drift_events_total',
      'overlay_warden_remounts_total',
      'overlay_warden_upper_free_bytes',
    ]) {
      assert.ok(used.has(name), `the dashboard shows ${name}`);
    }
    // promtool parses each query, as a recording rule.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-dashboard-'));
    try {
      const file = path.join(tmp, 'dashboard-queries.yml');
      const rules = exprs.map((e, i) => `      - record: dashboard:panel_${i}\n        expr: ${JSON.stringify(e.expr)}`).join('\n');
      fs.writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
      const run = promtool('check', 'rules', file);
      assert.equal(run.status, 0, run.out);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
