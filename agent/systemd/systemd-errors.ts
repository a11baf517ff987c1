/** The errors of the systemd notification part: a malformed environment from the service manager, a failed send. */
import { WardenError, type WardenErrorOptions } from '../errors/index.ts';

export type SystemdErrorCode = 'SYSTEMD_BAD_ENV' | 'SYSTEMD_NOTIFY_FAILED';

/**
 * SYSTEMD_BAD_ENV: NOTIFY_SOCKET, WATCHDOG_USEC or WATCHDOG_PID is set but not what systemd sets (sd_notify and
 * sd_watchdog_enabled would ignore such a value; the agent says so instead of going quiet).
 * SYSTEMD_NOTIFY_FAILED: `systemd-notify` could not be run or exited non-zero (the agent goes on; systemd may then
 * time the start out or, with WatchdogSec=, restart the agent).
 */
export class SystemdError extends WardenError<SystemdErrorCode> {
  constructor(code: SystemdErrorCode, message: string, options: WardenErrorOptions = {}) {
    super(code, message, options);
  }
}
