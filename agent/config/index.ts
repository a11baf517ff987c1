export { loadConfig, DEFAULT_CONFIG_FILE, MAX_REPORTED_PROBLEMS, type Config, type ConfigFlags, type ConfigSources } from './load-config.ts';
export { CONFIG_MAX_BYTES, CONFIG_MAX_ALIAS_COUNT } from './config-file.ts';
export { checkTokenFile, readTokenFile, checkSecretFile, readSecretFile, WEBHOOK_SECRET, TOKEN_FILE_MAX_BYTES, type SecretFileRole } from './token-file.ts';
export { ConfigError, describeProblem, type ConfigProblem, type ConfigErrorCode } from './config-error.ts';
export { configSchema, type ConfigInput, type ConfigSettings, type StoreSettings, type ScheduleSettings } from './config-schema.ts';
export { parseAmount, resolveAmount, formatBytes, type Amount } from './byte-size.ts';
export { packageRoot } from './package-root.ts';
export { configJsonSchema } from './config-json-schema.ts';
export { parseDuration, formatDuration, DURATION_WORDS } from './duration.ts';
