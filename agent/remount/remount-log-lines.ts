/** How the remounter's events read in the agent's log: a level, one line for people, and fields whose `remount` names the event. */
import type { LogLine } from '../log/index.ts';
import type { RemountEvent } from './remount-events.ts';
import type { RemountNeeded } from './remount-needed.ts';
import { describeRemountRequest, type RemountRequest } from './remount-request.ts';

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/**
 * The line for one remount event. Failures are errors (a run that gave up leaves the flag set), a view still not
 * fresh after a remount warns, a request is debug (the agent logs its own line when it asks), the rest is info.
 * A failed attempt carries the end of the command's stderr (500 characters), never all of it.
 */
export function remountLogLine(event: RemountEvent): LogLine {
  switch (event.type) {
    case 'remount-requested':
      return {
        level: 'debug',
        message: `remount ${event.coalesced ? 'request joined the scheduled run' : 'scheduled'}: ${describeRemountRequest(event.request)}`,
        fields: { remount: event.type, ticket: event.ticket, coalesced: event.coalesced },
      };
    case 'remount-started':
      return {
        level: 'info',
        message: `remount run ${event.run}, attempt ${event.attempt}: ${event.argv.join(' ')} (answers ${count(event.requests, 'request')})`,
        fields: { remount: event.type, run: event.run, attempt: event.attempt, requests: event.requests },
      };
    case 'remount-succeeded':
      return {
        level: 'info',
        message: `remount command exited 0 in ${event.report.durationMs} ms; checking the view`,
        fields: { remount: event.type, run: event.run, attempt: event.attempt },
      };
    case 'remount-failed':
      return {
        level: 'error',
        message: `remount attempt ${event.attempt} failed: ${event.error.message}${event.retryInMs === undefined ? '' : `; retrying in ${event.retryInMs} ms`}`,
        fields: {
          remount: event.type,
          run: event.run,
          attempt: event.attempt,
          retryInMs: event.retryInMs,
          code: event.error.code,
          hint: event.error.hint,
          stderr: event.report?.stderr.text.slice(-500),
        },
      };
    case 'remount-verified':
      return event.fresh
        ? {
            level: 'info',
            message: 'remount verified: the mount check and the probe find the view fresh',
            fields: { remount: event.type, run: event.run, fresh: true },
          }
        : {
            level: 'warn',
            message: 'after the remount the view is still not fresh',
            fields: { remount: event.type, run: event.run, fresh: false, errors: event.findings.filter((f) => f.severity === 'error').map((f) => f.id) },
          };
    case 'remount-gave-up':
      return {
        level: 'error',
        message: `remount gave up after ${count(event.attempts, 'attempt')}: ${event.error.message}; the flag stays set and the agent keeps watching`,
        fields: { remount: event.type, run: event.run, attempts: event.attempts, requests: event.requests, code: event.error.code, hint: event.error.hint },
      };
  }
}

/** The line the agent logs when it asks for a remount (the remounter's `remount-requested` event follows, at debug). */
export function remountRequestLogLine(request: RemountRequest): LogLine {
  return { level: 'info', message: `remount requested: ${describeRemountRequest(request)}`, fields: {} };
}

/** The line for a flag a previous run left, found at start (the remount it asks for is already scheduled). */
export function restoredRemountLogLine(flag: RemountNeeded): LogLine {
  return {
    level: 'warn',
    message: 'a remount flagged before the last stop is still pending: remounting',
    fields: { since: flag.firstFlaggedAt, requests: flag.requests, reasons: flag.reasons.length },
  };
}
