import {
  type Config,
  ConfigError,
  defaultConfig,
  loadConfig,
  type LoadedConfig,
} from "../config/mod.ts";
import { checkServices } from "../executor/mod.ts";
import { resolve } from "node:path";
import { createLogger, stdoutSink, syslogSink } from "../log/mod.ts";
import type { Logger } from "../model/mod.ts";

/** The `--config` option every config-reading command shares. */
export const CONFIG_OPTION = { config: { type: "string", short: "c" } } as const;

/**
 * Loads `--config FILE`, or the built-in default when absent, and checks what the schema alone
 * cannot: every recovery command's executable exists and this process may run it. Throws
 * ConfigError.
 */
export async function loadFromArgs(values: Record<string, unknown>): Promise<LoadedConfig> {
  const path = values.config;
  const loaded = typeof path === "string"
    ? await loadConfig(path)
    : { config: defaultConfig(), warnings: [] };
  checkRunnable(loaded.config);
  return loaded;
}

/** Loads a config file for a reload, with the same checks as at start. */
export async function reloadConfig(path: string): Promise<LoadedConfig> {
  const loaded = await loadConfig(path);
  checkRunnable(loaded.config);
  return loaded;
}

function checkRunnable(config: Config): void {
  const { problems } = checkServices(config.Services);
  if (problems.length > 0) {
    throw new ConfigError(config.source ?? "(built-in default)", problems);
  }
}

/** The logger a config asks for (LogDevice, LogLevel, LogFormat). */
export function loggerFor(config: Config): Logger {
  const sink = config.LogDevice === "syslog"
    ? syslogSink({
      bindPath: resolve(config.StateDir, "syslog.sock"),
      onError: (e) => console.error(`edge-agent: cannot write to syslog (/dev/log): ${e.message}`),
    })
    : stdoutSink(config.LogFormat);
  return createLogger({ level: config.LogLevel, sink });
}
