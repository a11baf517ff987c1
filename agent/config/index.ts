export { loadConfig, DEFAULT_CONFIG_FILE, type Config, type ConfigFlags, type ConfigSources } from './load-config.ts';
export { ConfigError, describeProblem, type ConfigProblem, type ConfigErrorCode } from './config-error.ts';
export { configSchema, type ConfigInput, type ConfigSettings, type StoreSettings } from './config-schema.ts';
export { assertTrustedFile, untrustedReason, TrustError } from './trusted-file.ts';
export { parseAmount, resolveAmount, formatBytes, type Amount } from './byte-size.ts';
export { packageRoot } from './package-root.ts';
export { configJsonSchema } from './config-json-schema.ts';
export { unbuiltSettings, type UnbuiltSetting } from './not-built-yet.ts';
