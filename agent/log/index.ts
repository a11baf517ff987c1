export { createLogger, type Logger, type LoggerOptions, type LogLevel, type LogFormat } from './logger.ts';
