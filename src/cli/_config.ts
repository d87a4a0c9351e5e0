import { type Config, defaultConfig, loadConfig, type LoadedConfig } from "../config/mod.ts";
import { createLogger, stdoutSink, syslogSink } from "../log/mod.ts";
import type { Logger } from "../model/mod.ts";

/** The `--config` option every config-reading command shares. */
export const CONFIG_OPTION = { config: { type: "string", short: "c" } } as const;

/** Loads `--config FILE`, or the built-in default when absent. Throws ConfigError. */
export function loadFromArgs(values: Record<string, unknown>): Promise<LoadedConfig> {
  const path = values.config;
  if (typeof path === "string") return loadConfig(path);
  return Promise.resolve({ config: defaultConfig(), warnings: [] });
}

/** The logger a config asks for (LogDevice, LogLevel, LogFormat). */
export function loggerFor(config: Config): Logger {
  const sink = config.LogDevice === "syslog"
    ? syslogSink({
      onError: (e) => console.error(`edge-agent: cannot write to syslog (/dev/log): ${e.message}`),
    })
    : stdoutSink(config.LogFormat);
  return createLogger({ level: config.LogLevel, sink });
}
