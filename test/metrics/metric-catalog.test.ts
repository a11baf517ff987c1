/** The metric catalog: Prometheus naming conventions, and the README's table generated from it. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { AgentMetrics, countFindings, DEFAULT_METRICS, METRIC_SPECS, metricsTable } from '../../agent/metrics/index.ts';
import { FINDING_IDS, finding, type Finding, type FindingId } from '../../agent/findings/index.ts';

describe('metrics: the catalog', () => {
  it('names follow the conventions: prefix, snake case, _total exactly on counters, base units', () => {
    for (const m of METRIC_SPECS) {
      assert.match(m.name, /^overlay_warden_[a-z][a-z0-9_]*$/, m.name);
      assert.equal(m.name.endsWith('_total'), m.type === 'counter', `${m.name}: _total is for counters`);
      assert.doesNotMatch(m.name, /_(ms|milliseconds|kb|mb|minutes)(_|$)/, `${m.name}: base units`);
      for (const label of m.labels) assert.doesNotMatch(label, /path/, `${m.name}: no store path labels`);
    }
    assert.equal(new Set(METRIC_SPECS.map((m) => m.name)).size, METRIC_SPECS.length, 'names are unique');
  });

  it('the README holds the table generated from the catalog', () => {
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(metricsTable()), 'README.md: paste the output of metricsTable() under "Metrics"');
  });

  it('every metric of the catalog and the listed defaults is in the registry with its type', async () => {
    const types = typesIn(await new AgentMetrics().registry.metrics());
    for (const m of [...METRIC_SPECS, ...DEFAULT_METRICS]) assert.equal(types.get(m.name), m.type, m.name);
  });

  it('countFindings (pure): per id and severity', () => {
    const [a, b] = FINDING_IDS;
    const f = (id: FindingId, severity: 'error' | 'warning'): Finding => finding(id, severity, 'm', {});
    const counts = [...countFindings([f(a!, 'error'), f(a!, 'error'), f(a!, 'warning'), f(b!, 'warning')]).values()];
    assert.deepEqual(counts, [
      { id: a, severity: 'error', count: 2 },
      { id: a, severity: 'warning', count: 1 },
      { id: b, severity: 'warning', count: 1 },
    ]);
  });

  it('agent events: drift by type and source, remounts by outcome and reason, stale flags by source, checks and findings', async () => {
    const metrics = new AgentMetrics();
    const at = '2026-01-01T00:00:00.000Z';
    metrics.drift({ type: 'lower-grew', source: 'watch', at, paths: ['/nix/store/a'] });
    metrics.drift({ type: 'lower-grew', source: 'watch', at, paths: ['/nix/store/b'] });
    metrics.remount({ type: 'remount-requested', request: { source: 'manual', by: 'test' }, ticket: 1, coalesced: false });
    const error = { code: 'REMOUNT_COMMAND_FAILED', message: 'm' };
    metrics.remount({ type: 'remount-failed', run: 1, attempt: 1, error, retryInMs: 100, report: undefined });
    metrics.remount({ type: 'remount-gave-up', run: 1, attempts: 3, error, requests: 1 });
    metrics.remount({ type: 'remount-verified', run: 2, attempt: 1, fresh: true, findings: [] });
    const [id] = FINDING_IDS;
    metrics.findings({
      source: 'check',
      at,
      findings: [finding(id!, 'warning', 'm', {})],
      checks: [{ id: 'mount.ok', ok: false, durationMs: 3, findings: 1 }],
    });
    const text = await metrics.registry.metrics();
    assert.match(text, /^overlay_warden_drift_events_total\{type="lower-grew",source="watch"\} 2$/m);
    assert.match(text, /^overlay_warden_stale_flags_total\{source="manual"\} 1$/m);
    assert.match(text, /^overlay_warden_remounts_total\{outcome="failed",reason="REMOUNT_COMMAND_FAILED"\} 1$/m);
    assert.match(text, /^overlay_warden_remounts_total\{outcome="gave-up",reason="REMOUNT_COMMAND_FAILED"\} 1$/m);
    assert.match(text, /^overlay_warden_remounts_total\{outcome="remounted",reason="none"\} 1$/m);
    assert.match(text, /^overlay_warden_check_ok\{check="mount.ok"\} 0$/m);
    assert.match(text, /^overlay_warden_check_duration_seconds_count\{check="mount.ok"\} 1$/m);
    assert.match(text, /^overlay_warden_mount_valid 1$/m);
    assert.match(text, new RegExp(`^overlay_warden_findings\\{source="check",id="${id!.replace('.', '\\.')}",severity="warning"\\} 1$`, 'm'));
    // A new complete set replaces the old: the finding cleared.
    metrics.findings({ source: 'check', at, findings: [] });
    assert.doesNotMatch(await metrics.registry.metrics(), /^overlay_warden_findings\{/m);
  });

  it('the hooks of the schedule and alerts services count', async () => {
    const metrics = new AgentMetrics();
    metrics.alertDelivery('alertmanager', 'failed');
    metrics.alertDelivery('alertmanager', 'failed');
    metrics.bytesHashed(1024);
    metrics.scheduleObserver().completed('scrub', new Date(5000));
    const text = await metrics.registry.metrics();
    assert.match(text, /^overlay_warden_alert_deliveries_total\{sink="alertmanager",outcome="failed"\} 2$/m);
    assert.match(text, /^overlay_warden_hashed_bytes_total 1024$/m);
    assert.match(text, /^overlay_warden_last_completed_timestamp_seconds\{kind="scrub"\} 5$/m);
  });
});

/** `# TYPE name type` lines of an exposition. */
export function typesIn(exposition: string): Map<string, string> {
  return new Map([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}
