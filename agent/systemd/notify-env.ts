/** What systemd's environment asks of the agent (pure): where to send notifications, and how often the watchdog wants a ping. */
import { SystemdError } from './systemd-errors.ts';

/** The service manager's requests, read once at start-up. */
export interface NotifyEnv {
  /** NOTIFY_SOCKET as given: an absolute path, or `@name` for an abstract socket. */
  readonly socket: string;
  /**
   * How often to send WATCHDOG=1, in ms: half of WATCHDOG_USEC (as sd_watchdog_enabled's callers are told to), or
   * undefined when systemd set no watchdog, or set it for another process (WATCHDOG_PID is not ours).
   */
  readonly watchdogPingMs: number | undefined;
}

/** The variables systemd sets for a Type=notify service; removed from the environment children inherit. */
export const NOTIFY_ENV_VARS = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'] as const;

/** WATCHDOG_USEC as systemd writes it: a positive decimal integer of microseconds. */
const USEC = /^[1-9][0-9]*$/;

/**
 * Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from `env` for the process `pid`. Undefined when NOTIFY_SOCKET
 * is unset or empty (not started by systemd as Type=notify): nothing is sent then. Differs from sd_notify in being
 * loud: where libsystemd silently ignores a malformed value, this throws.
 * @throws SystemdError SYSTEMD_BAD_ENV naming the variable and its value when NOTIFY_SOCKET is neither an absolute
 *   path nor `@name`, WATCHDOG_USEC is not a positive integer, or WATCHDOG_PID is not a positive integer.
 */
export function parseNotifyEnv(env: Readonly<Record<string, string | undefined>>, pid: number): NotifyEnv | undefined {
  const socket = env['NOTIFY_SOCKET'];
  if (socket === undefined || socket === '') return undefined;
  if (!(socket.startsWith('/') || (socket.startsWith('@') && socket.length > 1))) {
    throw bad('NOTIFY_SOCKET', socket, 'an absolute path or @name of a unix datagram socket');
  }
  return { socket, watchdogPingMs: watchdogPingMsOf(env, pid) };
}

function watchdogPingMsOf(env: Readonly<Record<string, string | undefined>>, pid: number): number | undefined {
  const usec = env['WATCHDOG_USEC'];
  if (usec === undefined || usec === '') return undefined;
  if (!USEC.test(usec)) throw bad('WATCHDOG_USEC', usec, 'a positive number of microseconds');
  const watchdogPid = env['WATCHDOG_PID'];
  if (watchdogPid !== undefined && watchdogPid !== '') {
    if (!USEC.test(watchdogPid)) throw bad('WATCHDOG_PID', watchdogPid, 'a process id');
    // systemd armed the watchdog for another process (a wrapper that exec'd us would have the same pid).
    if (Number(watchdogPid) !== pid) return undefined;
  }
  // Half the timeout, as systemd's documentation asks; at least 1 ms so a tiny value cannot spin.
  return Math.max(1, Math.floor(Number(usec) / 2000));
}

const bad = (name: string, value: string, expected: string): SystemdError =>
  new SystemdError('SYSTEMD_BAD_ENV', `${name} is set to ${JSON.stringify(value)}, not ${expected}`, {
    evidence: { variable: name, value, expected },
    hint: `this variable is set by systemd for a Type=notify service; unset it when something other than systemd starts the agent`,
  });
