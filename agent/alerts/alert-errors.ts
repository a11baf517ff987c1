/**
 * Errors of the alert sinks: `ALERT_SINK_HTTP` (the receiver answered with an error status; evidence `status`),
 * `ALERT_SINK_UNREACHABLE` (no answer: refused, DNS, timeout), `ALERT_SINK_COMMAND` (the command failed, timed out or
 * could not start; evidence `exitCode`, `timedOut`). Messages never hold a secret or a URL's credentials.
 */
import { WardenError } from '../errors/index.ts';

export type AlertSinkErrorCode = 'ALERT_SINK_HTTP' | 'ALERT_SINK_UNREACHABLE' | 'ALERT_SINK_COMMAND';

export class AlertSinkError extends WardenError<AlertSinkErrorCode> {}

/** A URL fit for logs and `status`: its user and password replaced by `***`, its query dropped (it may carry a token). Pure. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username !== '' || u.password !== '') {
      u.username = '***';
      u.password = '';
    }
    u.search = u.search === '' ? '' : '?***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}
