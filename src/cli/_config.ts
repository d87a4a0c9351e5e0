import {
  type Config,
  ConfigError,
  type ConfigProblem,
  defaultConfig,
  defaultConfigFile,
  loadConfig,
  type LoadedConfig,
} from "../config/mod.ts";
import { checkServices } from "../executor/mod.ts";
import { resolve } from "node:path";
import { createLogger, stdoutSink, syslogSink } from "../log/mod.ts";
import type { Logger } from "../model/mod.ts";
import {
  derivePermissions,
  grantsHold,
  type Holds,
  howToApply,
  type MissingGrant,
  missingGrants,
  processHolds,
  readPackagedPermissions,
} from "../permissions/mod.ts";

/** The `--config` option every config-reading command shares. */
export const CONFIG_OPTION = { config: { type: "string", short: "c" } } as const;

/**
 * Loads `--config FILE`; without it, /etc/edge-agent/config.json when it exists, else the
 * built-in default. Throws ConfigError.
 */
export async function loadFromArgs(values: Record<string, unknown>): Promise<LoadedConfig> {
  const path = typeof values.config === "string" ? values.config : defaultConfigFile();
  return path !== null ? await loadConfig(path) : { config: defaultConfig(), warnings: [] };
}

/**
 * The daemon's own check, at start and for a reload: every recovery command's executable exists,
 * and this process holds every permission the config needs (its flags were derived from the
 * config it started with, or when the package was built). Throws ConfigError naming each key,
 * the flag it needs and how to apply it.
 */
export function checkHeldByDaemon(config: Config, holds: Holds = processHolds): void {
  const problems = executableProblems(config);
  if (problems.length === 0) problems.push(...grantProblems(config, holds, howToApply()));
  if (problems.length) throw new ConfigError(config.source ?? "(built-in default)", problems);
}

/** Loads a config file for a reload, with the same checks as at start. */
export async function reloadConfig(path: string): Promise<LoadedConfig> {
  const loaded = await loadConfig(path);
  checkHeldByDaemon(loaded.config);
  return loaded;
}

/**
 * `check-config`'s view of the daemon: the executables exist, and the permissions the installed
 * package was built with (its permissions file) cover the config. Without a package (the
 * daemon's flags are derived when it starts), the derivation itself must succeed.
 * Returns the problems and a line saying what was compared.
 */
export async function daemonProblems(
  config: Config,
): Promise<{ problems: ConfigProblem[]; summary: string }> {
  const problems = executableProblems(config);
  const packaged = await readPackagedPermissions();
  if (packaged === null) {
    try {
      derivePermissions(config, { notifySocket: null });
    } catch (e) {
      if (problems.length === 0) problems.push({ path: "", message: (e as Error).message });
    }
    return { problems, summary: "derived from this config when the agent starts" };
  }
  const { path, permissions } = packaged;
  problems.push(
    ...grantProblems(config, grantsHold(permissions.daemon), howToApply(path), permissions.self),
  );
  return {
    problems,
    summary: problems.length
      ? `the installed agent's (${path}) lack what this config needs`
      : `the installed agent's (${path}) cover this config`,
  };
}

function executableProblems(config: Config): ConfigProblem[] {
  return checkServices(config.Services, { mayRun: () => true }).problems;
}

function grantProblems(
  config: Config,
  holds: Holds,
  apply: string,
  self?: string,
): ConfigProblem[] {
  let missing: MissingGrant[];
  try {
    const needed = derivePermissions(config, {
      lenient: true,
      notifySocket: null, // sd_notify failing is the notifier's warning, not a config problem
      ...(self ? { self } : {}),
    });
    missing = missingGrants(needed, holds);
  } catch (e) {
    return [{ path: "", message: (e as Error).message }];
  }
  const byKey = new Map<string, string[]>();
  for (const m of missing) {
    const colon = m.reason.indexOf(": ");
    const key = colon > 0 && /^[A-Z][\w.[\]]*$/.test(m.reason.slice(0, colon))
      ? m.reason.slice(0, colon)
      : "";
    const flag = `--allow-${m.kind}${m.value ? `=${m.value}` : ""} (${m.reason})`;
    byKey.set(key, [...byKey.get(key) ?? [], flag]);
  }
  return [...byKey].map(([path, flags]) => ({
    path,
    message: `needs ${flags.join(", ")}, which this agent does not hold; ${apply}`,
  }));
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
