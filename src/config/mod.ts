/**
 * config.json: the zod schema (config types come only from here), loading with operator-facing
 * errors, the built-in default.
 * @module
 */
export { ConfigSchema } from "./schema.ts";
export { mqttKeys } from "./_schema_mqtt.ts";
export type { ConfigInput, ParsedConfig } from "./schema.ts";
export { defaultConfig, hasBroker, loadConfig, parseConfig, redacted } from "./load.ts";
export type { Config, LoadConfigOptions, LoadedConfig } from "./load.ts";
export { DEFAULT_CONFIG_FILE, defaultConfigFile } from "./default_file.ts";
export { installedConfig, PACKAGE_PATHS } from "./installed.ts";
export type { InstalledConfig } from "./installed.ts";
export { ConfigError } from "./errors.ts";
export type { ConfigProblem } from "./errors.ts";
