/** How a drift event reads in the agent's log: `eventLevel`, `describeDrift`, and its facts as fields, bounded. */
import type { LogLine } from '../log/index.ts';
import type { DriftEvent } from '../watch/index.ts';
import { describeDrift, eventLevel } from './drift-decisions.ts';

/** Lists longer than this are logged as their count and their first this-many items. */
const MAX_LOGGED_ITEMS = 10;

/**
 * `value` when it is not a list; a list longer than MAX_LOGGED_ITEMS becomes `{ count, first }`, and so do the
 * lists inside its items (such as the referrers of each broken closure): a log line stays bounded however many
 * paths an event carries, while the full lists stay in the event (and in `status`). Pure.
 */
export function boundedForLog(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  const items = value
    .slice(0, MAX_LOGGED_ITEMS)
    .map((item: unknown) =>
      typeof item === 'object' && item !== null && !Array.isArray(item)
        ? Object.fromEntries(Object.entries(item).map(([key, inner]) => [key, boundedForLog(inner)]))
        : boundedForLog(item),
    );
  return value.length > MAX_LOGGED_ITEMS ? { count: value.length, first: items } : items;
}

/**
 * The one log line for `event`, however many paths it carries: its `event` field is the type, the other fields are
 * the event's own, bounded (see boundedForLog); the message says the counts. Pure.
 */
export function driftLogLine(event: DriftEvent): LogLine {
  const { type, ...rest } = event;
  const fields: Record<string, unknown> = { event: type };
  for (const [key, value] of Object.entries(rest)) fields[key] = boundedForLog(value);
  return { level: eventLevel(event), message: describeDrift(event), fields };
}
