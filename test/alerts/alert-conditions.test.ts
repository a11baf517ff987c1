/** Which alerts each agent event makes active, with literal events. */
import assert from 'node:assert/strict';
import { conditionsOfDrift, conditionsOfFindings, conditionsOfHealth, conditionsOfRemount } from '../../agent/alerts/index.ts';
import { finding } from '../../agent/findings/index.ts';
import type { DriftEvent } from '../../agent/watch/index.ts';

const at = '2026-01-01T00:00:00.000Z';
const names = (update: { conditions: readonly { name: string; labels: Readonly<Record<string, string>> }[] } | undefined): string[] =>
  (update?.conditions ?? []).map(
    (c) =>
      `${c.name}${Object.entries(c.labels)
        .map(([k, v]) => ` ${k}=${v}`)
        .join('')}`,
  );

describe('alerts: conditions', () => {
  it('lower drift of each kind fires LowerStoreDrifted with its change; a shrink that breaks closures fires UpperClosuresBroken too', () => {
    const grew: DriftEvent = { type: 'lower-grew', source: 'watch', at, paths: ['/nix/store/a-x'] };
    assert.deepEqual(names(conditionsOfDrift(grew)), ['OverlayWardenLowerStoreDrifted change=grew']);
    assert.deepEqual(conditionsOfDrift(grew)?.mode, 'add');
    const shrank: DriftEvent = {
      type: 'lower-shrank',
      source: 'startup',
      at,
      paths: ['/nix/store/b-y'],
      brokenUpperClosures: [{ path: '/nix/store/b-y', registeredInUpper: false, referrers: ['/nix/store/c-z'] }],
    };
    const update = conditionsOfDrift(shrank)!;
    assert.deepEqual(names(update), ['OverlayWardenLowerStoreDrifted change=shrank', 'OverlayWardenUpperClosuresBroken source=drift']);
    assert.match(update.conditions[0]!.summary, /while the agent was down$/);
    assert.match(update.conditions[1]!.evidence, /vanished: \/nix\/store\/b-y; referrers: \/nix\/store\/c-z/);
    assert.equal(conditionsOfDrift({ type: 'upper-path-added', source: 'watch', at, path: '/nix/store/d-w' }), undefined);
  });

  it('a shrink that broke closures pivot could have kept says so: all of them, some of them, or nothing when none was registered', () => {
    const summaryOf = (registered: readonly boolean[]): string => {
      const brokenUpperClosures = registered.map((registeredInUpper, i) => ({ path: `/nix/store/b${i}-y`, registeredInUpper, referrers: ['/nix/store/c-z'] }));
      const event: DriftEvent = { type: 'lower-shrank', source: 'watch', at, paths: brokenUpperClosures.map((b) => b.path), brokenUpperClosures };
      return conditionsOfDrift(event)!.conditions[1]!.summary;
    };
    assert.match(
      summaryOf([true, true]),
      /^2 vanished lower paths break upper-store closures \(1 upper referrer\); `overlay-warden pivot` run before the lower GC or update would have prevented this$/,
    );
    assert.match(summaryOf([true, false]), /would have kept 1 of them$/);
    assert.doesNotMatch(summaryOf([false]), /pivot/);
  });

  it('evidence lists at most ten paths and counts the rest (labels never hold a store path)', () => {
    const paths = Array.from({ length: 25 }, (_, i) => `/nix/store/${i}-p`);
    const [c] = conditionsOfDrift({ type: 'lower-grew', source: 'watch', at, paths })!.conditions;
    assert.match(c!.evidence, / … and 15 more$/);
    assert.deepEqual(c!.labels, { change: 'grew' });
  });

  it('a check with errors is MountInvalid, low space and inodes are UpperLayerLow; a clean check clears its scope', () => {
    const findings = [
      finding('mount.not-overlay', 'error', 'not an overlay', {}),
      finding('layer.upper-low-space', 'warning', '1% free', {}),
      finding('layer.upper-low-inodes', 'error', '0 inodes', {}),
    ];
    const update = conditionsOfFindings({ source: 'check', at, findings });
    assert.deepEqual(names(update), ['OverlayWardenMountInvalid', 'OverlayWardenUpperLayerLow resource=space', 'OverlayWardenUpperLayerLow resource=inodes']);
    assert.deepEqual(conditionsOfFindings({ source: 'check', at, findings: [] }), { scope: 'findings:check', mode: 'replace', conditions: [] });
  });

  it('an audit or scrub: broken closures and corruption, in a scope of its own', () => {
    const findings = [finding('store.broken-closure', 'error', 'b', {}), finding('store.corrupt', 'error', 'c', {})];
    const update = conditionsOfFindings({ source: 'scrub', at, findings });
    assert.equal(update.scope, 'findings:scrub');
    assert.deepEqual(names(update), ['OverlayWardenUpperClosuresBroken source=scrub', 'OverlayWardenStoreCorrupt source=scrub']);
  });

  it('a watcher down fires, up clears', () => {
    const down = conditionsOfHealth({ type: 'watcher-down', watcher: 'lower-db', target: '/l/var/nix/db', at, reason: 'vanished', detail: undefined });
    assert.deepEqual(names(down), ['OverlayWardenWatcherFailing watcher=lower-db']);
    const up = conditionsOfHealth({ type: 'watcher-up', watcher: 'lower-db', target: '/l/var/nix/db', at, downSince: at, reason: 'vanished' });
    assert.deepEqual(up, { scope: 'watcher:lower-db', mode: 'replace', conditions: [] });
  });

  it('the lower daemon down fires LowerDaemonUnavailable with its error (not WatcherFailing), up clears it; its drift is daemon-modified', () => {
    const socket = '/run/snix/daemon.sock';
    const detail = 'DAEMON_CONNECT_FAILED: connect ECONNREFUSED';
    const down = conditionsOfHealth({ type: 'watcher-down', watcher: 'lower-daemon', target: socket, at, reason: 'unavailable', detail });
    assert.deepEqual(names(down), ['OverlayWardenLowerDaemonUnavailable']);
    assert.equal(down.scope, 'watcher:lower-daemon');
    assert.equal(down.conditions[0]!.evidence, `${socket} (${detail})`);
    const up = conditionsOfHealth({ type: 'watcher-up', watcher: 'lower-daemon', target: socket, at, downSince: at, reason: 'unavailable' });
    assert.deepEqual(up, { scope: 'watcher:lower-daemon', mode: 'replace', conditions: [] });
    const identity = { socket, protocol: '1.34', nixVersion: '2.8.0', validPaths: 5, digest: 'a'.repeat(64) };
    const drift = conditionsOfDrift({
      type: 'lower-daemon-modified',
      source: 'startup',
      at,
      before: identity,
      after: { ...identity, validPaths: 4, digest: 'b'.repeat(64) },
    })!;
    assert.deepEqual(names(drift), ['OverlayWardenLowerStoreDrifted change=daemon-modified']);
    assert.equal(drift.conditions[0]!.summary, "the lower nix-daemon's valid paths changed while the agent was down");
    assert.equal(drift.conditions[0]!.evidence, `${socket}: 5 → 4 valid paths`);
  });

  it('remount: a failure fires RemountFailing, giving up StaleViewNotRepaired too, a fresh remount clears both', () => {
    const error = { code: 'REMOUNT_COMMAND_FAILED', message: 'exit 1' };
    const gaveUp = conditionsOfRemount({ type: 'remount-gave-up', run: 1, attempts: 3, error, requests: 1 } as never);
    assert.deepEqual(gaveUp.map(names), [['OverlayWardenRemountFailing'], ['OverlayWardenStaleViewNotRepaired']]);
    const stale = conditionsOfRemount({ type: 'remount-verified', run: 2, attempt: 1, fresh: false, findings: [] });
    assert.deepEqual(stale.map(names), [['OverlayWardenStaleViewNotRepaired']]);
    const fresh = conditionsOfRemount({ type: 'remount-verified', run: 3, attempt: 1, fresh: true, findings: [] });
    assert.deepEqual(
      fresh.map((u) => [u.scope, u.conditions.length]),
      [
        ['remount', 0],
        ['stale-view', 0],
      ],
    );
  });
});
