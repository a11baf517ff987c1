/** One log line as data, so its wording can sit next to what it describes and be tested without a logger. */
import type { Logger, LogLevel } from './logger.ts';

/** What `logger[level](message, fields)` is called with. */
export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Writes `line` to `logger` at its level. */
export function writeLogLine(logger: Logger, line: LogLine): void {
  logger[line.level](line.message, line.fields);
}
