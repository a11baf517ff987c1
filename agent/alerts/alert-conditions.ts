/**
 * Which alerts each agent event makes active, pure: findings, drift, watcher-health and remount events become
 * condition updates for the lifecycle (alert-lifecycle.ts), each owning one scope of alerts.
 */
import type { FindingsEvent } from '../agent-status.ts';
import type { Finding, FindingId } from '../findings/index.ts';
import type { RemountEvent } from '../remount/index.ts';
import type { DriftEvent, WatcherHealthEvent } from '../watch/index.ts';
import type { AlertName } from './alert-kinds.ts';

/** One active alert condition: its kind, the labels that tell it apart from others of its kind, and what it says. */
export interface AlertCondition {
  readonly name: AlertName;
  /** Labels beyond `alertname`, `severity` and the static ones (bounded values only: no store paths). */
  readonly labels: Readonly<Record<string, string>>;
  readonly summary: string;
  /** The facts behind it, one short text (store paths, finding ids, errors). */
  readonly evidence: string;
}

/**
 * What an event says about the alerts of one scope: `replace` (these are all the scope's active alerts now: the
 * others resolve) or `add` (these fire or stay firing; the scope's others are untouched: drift accumulates until
 * accepted).
 */
export interface ConditionUpdate {
  readonly scope: string;
  readonly mode: 'replace' | 'add';
  readonly conditions: readonly AlertCondition[];
}

/** The scope of drift alerts, which `baseline --accept` and the hold time resolve. */
export const DRIFT_SCOPE = 'drift';

/** The scope of a sink's own failing alert. */
export const sinkScope = (sink: string): string => `sink:${sink}`;

/** Store paths listed in an evidence text; the rest are counted. */
const PATHS_LISTED = 10;

function listPaths(paths: readonly string[]): string {
  const more = paths.length > PATHS_LISTED ? ` … and ${paths.length - PATHS_LISTED} more` : '';
  return `${paths.slice(0, PATHS_LISTED).join(' ')}${more}`;
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

const drifted = (change: string, summary: string, evidence: string): AlertCondition => ({
  name: 'OverlayWardenLowerStoreDrifted',
  labels: { change },
  summary,
  evidence,
});

/**
 * The drift alerts of a drift event (scope DRIFT_SCOPE, mode add): any change of the lower store or its DB, and
 * upper closures a shrink broke. Upper-layer and mount events raise none here (a mount change shows in the next
 * mount check's findings; a direct upper delete in the remount alerts).
 */
export function conditionsOfDrift(event: DriftEvent): ConditionUpdate | undefined {
  const conditions: AlertCondition[] = [];
  const when = event.source === 'startup' ? ' while the agent was down' : '';
  switch (event.type) {
    case 'lower-grew':
      conditions.push(drifted('grew', `the lower store grew by ${count(event.paths.length, 'path')}${when}`, listPaths(event.paths)));
      break;
    case 'lower-shrank': {
      conditions.push(drifted('shrank', `the lower store lost ${count(event.paths.length, 'path')}${when}`, listPaths(event.paths)));
      const broken = event.brokenUpperClosures ?? [];
      if (broken.length > 0) {
        const referrers = [...new Set(broken.flatMap((b) => b.referrers))];
        conditions.push({
          name: 'OverlayWardenUpperClosuresBroken',
          labels: { source: 'drift' },
          summary: `${count(broken.length, 'vanished lower path')} break upper-store closures (${count(referrers.length, 'upper referrer')})${pivotNote(broken)}`,
          evidence: `vanished: ${listPaths(broken.map((b) => b.path))}; referrers: ${listPaths(referrers)}`,
        });
      }
      break;
    }
    case 'lower-path-modified':
      conditions.push(drifted('path-modified', `a lower store path was modified (${event.detail})${when}`, event.path));
      break;
    case 'lower-db-replaced':
      conditions.push(
        drifted('db-replaced', `the lower store DB ${event.change === 'replaced' ? 'was replaced' : event.change}${when}`, dbEvidence(event.after)),
      );
      break;
    case 'lower-db-modified':
      conditions.push(drifted('db-modified', `the lower store DB was modified${when}`, dbEvidence(event.after)));
      break;
    case 'lower-daemon-modified':
      conditions.push(
        drifted(
          'daemon-modified',
          `the lower nix-daemon's valid paths changed${when}`,
          `${event.after.socket}: ${event.before.validPaths} → ${count(event.after.validPaths, 'valid path')}`,
        ),
      );
      break;
    default:
      return undefined;
  }
  return { scope: DRIFT_SCOPE, mode: 'add', conditions };
}

/**
 * What `pivot` would have saved: every vanished path the upper DB registers is one it copies up before the lower
 * store loses it (an unregistered one it cannot: Nix would not know the copy). Pure.
 */
export function pivotNote(broken: readonly { readonly registeredInUpper: boolean }[]): string {
  const preventable = broken.filter((b) => b.registeredInUpper).length;
  if (preventable === 0) return '';
  const what = preventable === broken.length ? 'prevented this' : `kept ${preventable} of them`;
  return `; \`overlay-warden pivot\` run before the lower GC or update would have ${what}`;
}

function dbEvidence(identity: { readonly file: string; readonly content?: string } | null): string {
  return identity === null ? 'the DB file is gone' : `${identity.file}${identity.content === undefined ? '' : ` (${identity.content})`}`;
}

const ids = (findings: readonly Finding[]): string => [...new Set(findings.map((f) => f.id))].join(', ');
const messages = (findings: readonly Finding[]): string =>
  findings
    .slice(0, 5)
    .map((f) => `${f.id}: ${f.message}`)
    .join(' | ');

const LOW_SPACE: readonly FindingId[] = ['layer.upper-low-space', 'layer.upper-low-inodes'];
const CORRUPT: readonly FindingId[] = ['store.corrupt', 'store.db-corrupt'];

/**
 * The alerts of one complete set of findings (scope `findings:SOURCE`, mode replace, so a finding gone resolves its
 * alert): a mount check's errors (mount invalid) and low upper space or inodes; an audit's broken closures; an
 * audit's or scrub's corrupt paths.
 */
export function conditionsOfFindings(event: FindingsEvent): ConditionUpdate {
  const conditions: AlertCondition[] = [];
  const { findings, source } = event;
  const errors = findings.filter((f) => f.severity === 'error' && !LOW_SPACE.includes(f.id));
  if (source === 'check' && errors.length > 0) {
    conditions.push({
      name: 'OverlayWardenMountInvalid',
      labels: {},
      summary: `the mount check found ${count(errors.length, 'error')}: ${ids(errors)}`,
      evidence: messages(errors),
    });
  }
  for (const id of LOW_SPACE) {
    const low = findings.filter((f) => f.id === id);
    if (low.length > 0) {
      const resource = id === 'layer.upper-low-space' ? 'space' : 'inodes';
      conditions.push({ name: 'OverlayWardenUpperLayerLow', labels: { resource }, summary: `the upper layer is low on ${resource}`, evidence: messages(low) });
    }
  }
  const broken = findings.filter((f) => f.id === 'store.broken-closure');
  if (broken.length > 0) {
    conditions.push({
      name: 'OverlayWardenUpperClosuresBroken',
      labels: { source },
      summary: `the ${source} found ${count(broken.length, 'broken upper closure')}`,
      evidence: messages(broken),
    });
  }
  const corrupt = findings.filter((f) => CORRUPT.includes(f.id));
  if (corrupt.length > 0) {
    conditions.push({
      name: 'OverlayWardenStoreCorrupt',
      labels: { source },
      summary: `the ${source} found ${count(corrupt.length, 'corrupt store path or DB')}`,
      evidence: messages(corrupt),
    });
  }
  return { scope: `findings:${source}`, mode: 'replace', conditions };
}

/**
 * A watcher down fires its alert; up resolves it (scope `watcher:NAME`). The lower daemon's is its own kind,
 * LowerDaemonUnavailable: Nix itself cannot read lower metadata then, which is more than a change going unseen.
 */
export function conditionsOfHealth(event: WatcherHealthEvent): ConditionUpdate {
  const detail = event.type === 'watcher-down' && event.detail !== undefined ? ` (${event.detail})` : '';
  const conditions: AlertCondition[] =
    event.type === 'watcher-down' && event.watcher === 'lower-daemon'
      ? [
          {
            name: 'OverlayWardenLowerDaemonUnavailable',
            labels: {},
            summary: 'the nix-daemon serving the lower store is unavailable: Nix cannot query lower paths, and their changes go unseen',
            evidence: `${event.target}${detail}`,
          },
        ]
      : event.type === 'watcher-down'
        ? [
            {
              name: 'OverlayWardenWatcherFailing',
              labels: { watcher: event.watcher },
              summary: `the ${event.watcher} watcher is down (${event.reason}): changes there go unseen`,
              evidence: `${event.target}${detail}`,
            },
          ]
        : [];
  return { scope: `watcher:${event.watcher}`, mode: 'replace', conditions };
}

/**
 * Remount outcomes: a failed attempt or a run that gave up fires RemountFailing (scope `remount`); a remount whose
 * check still finds the view stale fires StaleViewNotRepaired (scope `stale-view`); a remount verified fresh resolves
 * both. Requests and starts change nothing.
 */
export function conditionsOfRemount(event: RemountEvent): ConditionUpdate[] {
  switch (event.type) {
    case 'remount-failed':
    case 'remount-gave-up': {
      const gaveUp = event.type === 'remount-gave-up';
      const summary = gaveUp ? `the remount gave up after ${count(event.attempts, 'attempt')}` : `remount attempt ${event.attempt} failed`;
      const failing: AlertCondition = { name: 'OverlayWardenRemountFailing', labels: {}, summary, evidence: `${event.error.code}: ${event.error.message}` };
      const updates: ConditionUpdate[] = [{ scope: 'remount', mode: 'replace', conditions: [failing] }];
      if (gaveUp) {
        updates.push({
          scope: 'stale-view',
          mode: 'replace',
          conditions: [
            { name: 'OverlayWardenStaleViewNotRepaired', labels: {}, summary: 'a stale view was flagged and the remount gave up', evidence: failing.evidence },
          ],
        });
      }
      return updates;
    }
    case 'remount-verified':
      if (event.fresh)
        return [
          { scope: 'remount', mode: 'replace', conditions: [] },
          { scope: 'stale-view', mode: 'replace', conditions: [] },
        ];
      return [
        {
          scope: 'stale-view',
          mode: 'replace',
          conditions: [
            {
              name: 'OverlayWardenStaleViewNotRepaired',
              labels: {},
              summary: 'the view is still stale after a remount',
              evidence: messages(event.findings) || 'the probe still finds stale paths',
            },
          ],
        },
      ];
    default:
      return [];
  }
}

/** A sink failing `failures` deliveries in a row fires its alert; a delivery resolves it. */
export function conditionsOfSink(sink: string, failing: boolean, failures: number, lastError: string | undefined): ConditionUpdate {
  const conditions: AlertCondition[] = failing
    ? [
        {
          name: 'OverlayWardenSinkFailing',
          labels: { sink },
          summary: `alert sink ${sink} failed ${count(failures, 'delivery')} in a row`,
          evidence: lastError ?? '',
        },
      ]
    : [];
  return { scope: sinkScope(sink), mode: 'replace', conditions };
}
