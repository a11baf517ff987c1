export { createLogger, type Logger, type LoggerOptions, type LogLevel, type LogFormat } from './logger.ts';
export { writeLogLine, type LogLine } from './log-line.ts';
