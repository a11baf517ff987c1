/** How a drift event reads in the agent's log: `eventLevel`, `describeDrift`, and its facts as fields, bounded. */
import type { LogLine } from '../log/index.ts';
import type { DriftEvent } from '../watch/index.ts';
import { describeDrift, eventLevel } from './drift-decisions.ts';

/** Lists longer than this are logged as their count and their first this-many items. */
const MAX_LOGGED_ITEMS = 10;

/**
 * The log line for `event`: its `event` field is the type, the other fields are the event's own, except that a list
 * longer than MAX_LOGGED_ITEMS becomes `{ count, first }` (never a million names in one line). Pure.
 */
export function driftLogLine(event: DriftEvent): LogLine {
  const { type, ...rest } = event as DriftEvent & Record<string, unknown>;
  const fields: Record<string, unknown> = { event: type };
  for (const [key, value] of Object.entries(rest)) {
    fields[key] = Array.isArray(value) && value.length > MAX_LOGGED_ITEMS ? { count: value.length, first: value.slice(0, MAX_LOGGED_ITEMS) } : value;
  }
  return { level: eventLevel(event), message: describeDrift(event), fields };
}
