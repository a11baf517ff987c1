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

  it('hooks of other services count, and survive detaching from an agent (a reload)', async () => {
    const metrics = new AgentMetrics();
    metrics.alertDelivery('alertmanager', 'failed');
    metrics.alertDelivery('alertmanager', 'failed');
    metrics.bytesHashed(1024);
    metrics.workCompleted('scrub', new Date(5000));
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
