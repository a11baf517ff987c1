/**
 * The alert lifecycle, pure: conditions fire alerts, alerts stay firing (re-sent on an interval) and resolve when
 * their condition clears; identical alerts (same name and labels) are one. Each sink's delivery is tracked per alert
 * version, so a sink that was down gets what it missed, and a restart re-sends nothing already delivered.
 */
import { createHash } from 'node:crypto';
import { ALERT_KINDS, type AlertName } from './alert-kinds.ts';
import type { AlertCondition, ConditionUpdate } from './alert-conditions.ts';

/** One alert as the agent keeps it (and persists it). */
export interface AlertRecord {
  /** Hash of the labels: Alertmanager's idea of "the same alert". */
  readonly fingerprint: string;
  readonly name: AlertName;
  /** Every label: alertname, severity, the static ones, the condition's. */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: { readonly summary: string; readonly evidence: string; readonly hint: string; readonly runbook: string };
  readonly scope: string;
  readonly startsAt: string;
  /** When its condition was last reported (drift hold time counts from here). */
  readonly lastSeenAt: string;
  /** Set once resolved. */
  readonly endsAt?: string;
  /** Bumped when it fires or resolves: each sink must see each version once. */
  readonly version: number;
  /** Per sink: the version delivered and when. */
  readonly delivered: Readonly<Record<string, { readonly version: number; readonly at: string }>>;
}

/** The whole alert state: records by fingerprint. */
export interface AlertState {
  readonly alerts: Readonly<Record<string, AlertRecord>>;
}

export const EMPTY_ALERT_STATE: AlertState = Object.freeze({ alerts: Object.freeze({}) });

/** What the lifecycle needs to know beyond the conditions. */
export interface LifecycleContext {
  /** Labels on every alert (e.g. `store`, `instance`). */
  readonly staticLabels: Readonly<Record<string, string>>;
  /** README URL prefix for runbook anchors (`https://…/README.md`); the anchor alone when empty. */
  readonly runbookBase: string;
}

export const isFiring = (alert: AlertRecord): boolean => alert.endsAt === undefined;

/** The labels of a condition's alert, sorted by key. Pure. */
export function labelsOf(condition: AlertCondition, context: LifecycleContext): Record<string, string> {
  const labels: Record<string, string> = {
    ...context.staticLabels,
    ...condition.labels,
    alertname: condition.name,
    severity: ALERT_KINDS[condition.name].severity,
  };
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A stable hash of sorted labels (16 hex digits). Pure. */
export function fingerprintOf(labels: Readonly<Record<string, string>>): string {
  const text = Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** What changed in one step, for logs. */
export interface LifecycleChange {
  readonly kind: 'fired' | 'resolved';
  readonly alert: AlertRecord;
}

export interface LifecycleStep {
  readonly state: AlertState;
  readonly changes: readonly LifecycleChange[];
}

/**
 * Applies a condition update at `now`: each condition fires its alert (a new one, or one resolved before: a new
 * startsAt) or keeps it firing (summary and evidence refreshed, no new version: nothing to re-deliver at once);
 * with mode `replace`, the scope's firing alerts not among the conditions resolve. Pure.
 */
export function applyUpdate(state: AlertState, update: ConditionUpdate, now: Date, context: LifecycleContext): LifecycleStep {
  const at = now.toISOString();
  const alerts: Record<string, AlertRecord> = { ...state.alerts };
  const changes: LifecycleChange[] = [];
  const seen = new Set<string>();
  for (const condition of update.conditions) {
    const labels = labelsOf(condition, context);
    const fingerprint = fingerprintOf(labels);
    seen.add(fingerprint);
    const kind = ALERT_KINDS[condition.name];
    const runbook = `${context.runbookBase}${kind.runbook}`;
    const annotations = { summary: condition.summary, evidence: condition.evidence, hint: kind.hint, runbook };
    const prior = alerts[fingerprint];
    if (prior !== undefined && isFiring(prior)) {
      alerts[fingerprint] = { ...prior, annotations, lastSeenAt: at };
      continue;
    }
    const fired: AlertRecord = {
      fingerprint,
      name: condition.name,
      labels,
      annotations,
      scope: update.scope,
      startsAt: at,
      lastSeenAt: at,
      version: (prior?.version ?? 0) + 1,
      delivered: prior?.delivered ?? {},
    };
    alerts[fingerprint] = fired;
    changes.push({ kind: 'fired', alert: fired });
  }
  if (update.mode === 'replace') {
    for (const alert of Object.values(alerts)) {
      if (alert.scope === update.scope && isFiring(alert) && !seen.has(alert.fingerprint)) changes.push(resolveInto(alerts, alert, at));
    }
  }
  return { state: { alerts }, changes };
}

function resolveInto(alerts: Record<string, AlertRecord>, alert: AlertRecord, at: string): LifecycleChange {
  const resolved: AlertRecord = { ...alert, endsAt: at, version: alert.version + 1 };
  alerts[alert.fingerprint] = resolved;
  return { kind: 'resolved', alert: resolved };
}

/** Resolves every firing alert of `scope` (drift, when the operator accepts the lower store). Pure. */
export function resolveScope(state: AlertState, scope: string, now: Date): LifecycleStep {
  return resolveWhere(state, (alert) => alert.scope === scope, now);
}

/** Resolves the firing alerts of `scope` whose condition was last seen `holdMs` or more before `now`. Pure. */
export function expireScope(state: AlertState, scope: string, holdMs: number, now: Date): LifecycleStep {
  return resolveWhere(state, (alert) => alert.scope === scope && now.getTime() - Date.parse(alert.lastSeenAt) >= holdMs, now);
}

function resolveWhere(state: AlertState, match: (alert: AlertRecord) => boolean, now: Date): LifecycleStep {
  const alerts: Record<string, AlertRecord> = { ...state.alerts };
  const changes: LifecycleChange[] = [];
  for (const alert of Object.values(state.alerts)) if (isFiring(alert) && match(alert)) changes.push(resolveInto(alerts, alert, now.toISOString()));
  return changes.length === 0 ? { state, changes } : { state: { alerts }, changes };
}

/**
 * The alerts `sink` should be sent now: each whose current version it has not had, and each firing one it last got
 * `resendMs` or more ago (Alertmanager resolves an alert not re-sent within its resolve_timeout). Oldest first. Pure.
 */
export function dueFor(state: AlertState, sink: string, now: Date, resendMs: number): AlertRecord[] {
  return Object.values(state.alerts)
    .filter((alert) => {
      const got = alert.delivered[sink];
      if (got === undefined) return true;
      if (got.version !== alert.version) return true;
      return isFiring(alert) && now.getTime() - Date.parse(got.at) >= resendMs;
    })
    .sort((a, b) => (a.startsAt < b.startsAt ? -1 : a.startsAt > b.startsAt ? 1 : 0));
}

/** Records that `sink` got these versions of these alerts at `now`. Pure. */
export function markDelivered(state: AlertState, sink: string, sent: readonly Pick<AlertRecord, 'fingerprint' | 'version'>[], now: Date): AlertState {
  const alerts: Record<string, AlertRecord> = { ...state.alerts };
  for (const { fingerprint, version } of sent) {
    const alert = alerts[fingerprint];
    if (alert === undefined) continue;
    alerts[fingerprint] = { ...alert, delivered: { ...alert.delivered, [sink]: { version, at: now.toISOString() } } };
  }
  return { alerts };
}

/**
 * Drops resolved alerts every sink in `sinks` has had in their resolved version, and any resolved `retainMs` or
 * more ago (a sink gone from the configuration, or one down that long: keeping them would grow without end). Pure.
 */
export function prune(state: AlertState, sinks: readonly string[], now: Date, retainMs: number): AlertState {
  const alerts: Record<string, AlertRecord> = {};
  let dropped = false;
  for (const alert of Object.values(state.alerts)) {
    const done =
      alert.endsAt !== undefined &&
      (sinks.every((sink) => alert.delivered[sink]?.version === alert.version) || now.getTime() - Date.parse(alert.endsAt) >= retainMs);
    if (done) dropped = true;
    else alerts[alert.fingerprint] = alert;
  }
  return dropped ? { alerts } : state;
}

/** The firing alerts, for `status`. Pure. */
export function firingAlerts(state: AlertState): AlertRecord[] {
  return Object.values(state.alerts).filter(isFiring);
}
