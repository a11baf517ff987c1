/** Structured logging with winston: JSON lines for containers and journald, readable lines on a terminal. */
import winston from 'winston';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'auto' | 'json' | 'text';

/** The logging surface the rest of the agent depends on (winston's Logger satisfies it). */
export interface Logger {
  error(message: string, fields?: Record<string, unknown>): unknown;
  warn(message: string, fields?: Record<string, unknown>): unknown;
  info(message: string, fields?: Record<string, unknown>): unknown;
  debug(message: string, fields?: Record<string, unknown>): unknown;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Where lines go; stderr by default so stdout stays for command output. */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Creates a logger. `auto` picks text on a TTY and JSON otherwise (a container
 * or systemd journal), so the same binary is readable by people and parseable
 * by log pipelines without configuration.
 */
export function createLogger(options: LoggerOptions): winston.Logger {
  const stream = options.stream ?? process.stderr;
  const json = options.format === 'json' || (options.format === 'auto' && stream.isTTY !== true);
  const format = json
    ? winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json())
    : winston.format.combine(
        winston.format.timestamp({ format: 'HH:mm:ss' }),
        ...(stream.isTTY === true ? [winston.format.colorize({ level: true })] : []),
        winston.format.printf(({ timestamp, level, message, ...fields }) => {
          const rest = Object.keys(fields).length === 0 ? '' : ` ${JSON.stringify(fields)}`;
          return `${String(timestamp)} ${level} ${String(message)}${rest}`;
        }),
      );
  return winston.createLogger({ level: options.level, format, transports: [new winston.transports.Stream({ stream })] });
}
