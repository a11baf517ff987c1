/** systemd notifications: the environment systemd sets, what is sent when, and the watchdog withheld from a stuck agent. */
import assert from 'node:assert/strict';
import { isWardenError } from '../../agent/errors/index.ts';
import { earnsWatchdogPing, NO_NOTIFY_PROGRESS, parseNotifyEnv, planNotification, SystemdNotifier, type NotifyProgress } from '../../agent/systemd/index.ts';
import { waitFor } from '../support/wait-for.ts';

const READY = { ready: true, reasons: [] };
const notReady = (...reasons: string[]) => ({ ready: false, reasons });

describe('systemd: the environment of a Type=notify service', () => {
  it('is absent without NOTIFY_SOCKET (or with it empty)', () => {
    assert.equal(parseNotifyEnv({}, 42), undefined);
    assert.equal(parseNotifyEnv({ NOTIFY_SOCKET: '', WATCHDOG_USEC: '30000000' }, 42), undefined);
  });

  it('takes a path or an abstract socket, and pings at half of WATCHDOG_USEC', () => {
    assert.deepEqual(parseNotifyEnv({ NOTIFY_SOCKET: '/run/systemd/notify' }, 42), { socket: '/run/systemd/notify', watchdogPingMs: undefined });
    assert.deepEqual(parseNotifyEnv({ NOTIFY_SOCKET: '@sd-notify', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), {
      socket: '@sd-notify',
      watchdogPingMs: 15_000,
    });
    assert.equal(parseNotifyEnv({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '1' }, 42)?.watchdogPingMs, 1, 'never 0 (a spinning timer)');
  });

  it('leaves the watchdog alone when WATCHDOG_PID names another process', () => {
    assert.equal(parseNotifyEnv({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42)?.watchdogPingMs, undefined);
  });

  it('refuses malformed values with SYSTEMD_BAD_ENV naming the variable and the value', () => {
    const cases: [Record<string, string>, string][] = [
      [{ NOTIFY_SOCKET: 'run/notify' }, 'NOTIFY_SOCKET'],
      [{ NOTIFY_SOCKET: '@' }, 'NOTIFY_SOCKET'],
      [{ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '30s' }, 'WATCHDOG_USEC'],
      [{ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '0' }, 'WATCHDOG_USEC'],
      [{ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '100', WATCHDOG_PID: '-1' }, 'WATCHDOG_PID'],
    ];
    for (const [env, variable] of cases) {
      assert.throws(
        () => parseNotifyEnv(env, 42),
        (e: unknown) => isWardenError(e, 'SYSTEMD_BAD_ENV') && e.evidence['variable'] === variable && e.evidence['value'] === env[variable],
        JSON.stringify(env),
      );
    }
  });
});

describe('systemd: what is sent as readiness changes', () => {
  it('says why the agent is not ready, then READY=1 once the mount check passes, then only status changes', () => {
    let progress: NotifyProgress = NO_NOTIFY_PROGRESS;
    const sent: (readonly string[])[] = [];
    for (const readiness of [
      notReady('the mount has not been checked yet'),
      notReady('the last mount check found 1 error(s)'),
      READY,
      READY,
      notReady('a remount is failing'),
      READY,
    ]) {
      const step = planNotification(progress, readiness, '/nix/store');
      progress = step.progress;
      sent.push(step.assignments);
    }
    assert.deepEqual(sent, [
      ['STATUS=/nix/store not ready: the mount has not been checked yet'],
      ['STATUS=/nix/store not ready: the last mount check found 1 error(s)'],
      ['READY=1', 'STATUS=watching /nix/store: the mount is valid'],
      [],
      // No way back from ready in systemd: the trouble shows in the status line (and the alerts).
      ['STATUS=/nix/store not ready: a remount is failing'],
      ['STATUS=watching /nix/store: the mount is valid'],
    ]);
  });

  it('earns a watchdog ping unless the queue has been stuck longer than the limit', () => {
    assert.equal(earnsWatchdogPing({ pendingSinceMs: undefined }, 1_000_000, 1000), true);
    assert.equal(earnsWatchdogPing({ pendingSinceMs: 999_000 }, 1_000_000, 1000), true);
    assert.equal(earnsWatchdogPing({ pendingSinceMs: 998_999 }, 1_000_000, 1000), false);
  });
});

describe('systemd: the notifier', () => {
  it('sends in order, reports a failed send once per run of failures, and ends with STOPPING=1', async () => {
    const sent: string[] = [];
    const errors: string[] = [];
    let fail = false;
    const notifier = new SystemdNotifier(
      { socket: '/run/notify', watchdogPingMs: undefined },
      {
        send: async (socket, assignments) => {
          assert.equal(socket, '/run/notify');
          if (fail) throw new Error('no such socket');
          sent.push(assignments.join(' '));
        },
        onError: (error) => errors.push(error.code),
      },
    );
    void notifier.readiness(notReady('the mount has not been checked yet'), '/nix/store');
    await notifier.readiness(READY, '/nix/store');
    fail = true;
    void notifier.readiness(notReady('a remount is failing'), '/nix/store');
    await notifier.readiness(READY, '/nix/store');
    fail = false;
    await notifier.stopping();
    await notifier.readiness(notReady('late'), '/nix/store');
    assert.deepEqual(sent, [
      'STATUS=/nix/store not ready: the mount has not been checked yet',
      'READY=1 STATUS=watching /nix/store: the mount is valid',
      'STOPPING=1 STATUS=stopping',
    ]);
    assert.deepEqual(errors, ['SYSTEMD_NOTIFY_FAILED']);
  });

  it('pings the watchdog while the queue moves and withholds it once the queue is stuck past the limit', async () => {
    let clock = 0;
    let ticks = 0;
    const pings: number[] = [];
    const notifier = new SystemdNotifier(
      { socket: '/run/notify', watchdogPingMs: 5 },
      {
        send: async (_socket, assignments) => {
          if (assignments.includes('WATCHDOG=1')) pings.push(clock);
        },
        now: () => (ticks++, clock),
        stallLimitMs: 1000,
      },
    );
    try {
      let moving = true;
      let release: () => void = () => undefined;
      notifier.attach(
        () => undefined,
        () => (moving ? Promise.resolve() : new Promise<void>((resolve) => (release = resolve))),
      );
      await waitFor(() => pings.length >= 3, 'pings while the queue moves');
      moving = false;
      // Let the stuck probe start (it is pending from now on), then move past the limit.
      const before = ticks;
      await waitFor(() => ticks >= before + 2, 'a tick with the stuck probe');
      clock = 1001;
      const withheldFrom = pings.length;
      const at = ticks;
      await waitFor(() => ticks >= at + 5, 'ticks past the limit');
      assert.ok(pings.length <= withheldFrom + 1, `no ping past the limit (${pings.length - withheldFrom} more)`);
      assert.ok(pings.every((t) => t === 0 || t === 1001) && pings.filter((t) => t === 1001).length <= 1);
      release();
      await waitFor(() => pings.some((t) => t === 1001) && pings.length > withheldFrom + 1, 'pings again once the queue moves');
    } finally {
      await notifier.stopping();
    }
  });
});
