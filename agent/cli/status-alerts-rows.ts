/** The `alerts` section of `status` as rows of the text report (pure): the firing alerts, and each sink's health. */
import type { AlertsStatus } from '../alerts/index.ts';

/**
 * `alerts`: `none firing` or `N firing: NAME (labels)…`; `alert sinks`: `none configured` or each sink `ok` /
 * `failing (N in a row, CODE, retry at T)` with its delivery and failure counts. Undefined section (no alerts
 * service): no rows.
 */
export function alertsStatusRows(section: unknown): Array<readonly [string, string]> {
  if (typeof section !== 'object' || section === null) return [];
  const { firing, sinks } = section as AlertsStatus;
  const alerts =
    firing.length === 0
      ? 'none firing'
      : `${firing.length} firing: ${firing
          .map((a) => {
            const own = Object.entries(a.labels).filter(([k]) => !['alertname', 'severity', 'store', 'instance'].includes(k));
            return own.length === 0 ? a.alertname : `${a.alertname} (${own.map(([k, v]) => `${k}=${v}`).join(', ')})`;
          })
          .join(', ')}`;
  const sinkText =
    sinks.length === 0
      ? 'none configured (alerts.alertmanager, alerts.webhooks, alerts.commands)'
      : sinks
          .map((s) => {
            const counts = `${s.deliveries} delivered, ${s.failures} failed`;
            if (s.state === 'ok') return `${s.name} ok (${counts})`;
            return `${s.name} failing (${s.consecutiveFailures} in a row, ${s.lastError?.code ?? '?'}, retry at ${s.nextRetryAt ?? '?'}; ${counts})`;
          })
          .join('; ');
  return [
    ['alerts', alerts],
    ['alert sinks', sinkText],
  ];
}
