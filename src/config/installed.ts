import { isAbsolute } from "node:path";
import { ConfigError, type ConfigProblem } from "./errors.ts";
import { parseConfig } from "./load.ts";

/** Where a package puts what a config names, by the Filesystem Hierarchy Standard. */
export const PACKAGE_PATHS = {
  config: "/etc/edge-agent/config.json",
  rules: "/etc/edge-agent/rules",
  state: "/var/lib/edge-agent",
} as const;

/** The config text a package installs, and what was changed on the way, for the builder. */
export interface InstalledConfig {
  /** The text to install: the operator's own bytes when nothing had to change. */
  text: string;
  /** One line per change (a relative folder mapped to its FHS location). */
  notes: string[];
}

/**
 * Turns a fleet's config file into the one a package installs as
 * {@linkcode PACKAGE_PATHS.config}. Relative paths would resolve under /etc/edge-agent, where
 * nothing but the config and the rules is installed, so: a relative (or absent) `StateDir`
 * becomes /var/lib/edge-agent and a relative (or absent) `RulesDir` /etc/edge-agent/rules (where
 * the package installs the rules), each with a note; any other relative path is refused
 * (ConfigError naming each key). Validates the file first (ConfigError naming `file`).
 */
export function installedConfig(text: string, file: string): InstalledConfig {
  parseConfig(text, file); // schema problems are reported against the operator's own file
  const raw = JSON.parse(text) as Record<string, unknown>;
  const notes: string[] = [];
  let changed = false;
  const relative = (v: unknown): v is string => typeof v === "string" && !isAbsolute(v);

  const state = raw.StateDir;
  if (state === undefined || relative(state)) {
    raw.StateDir = PACKAGE_PATHS.state;
    changed = true;
    notes.push(
      `StateDir ${
        state === undefined ? 'is not set (default "state")' : `"${state}" is relative`
      }` +
        `: the package uses ${PACKAGE_PATHS.state}`,
    );
  }
  if (typeof raw.StateDir === "string" && !raw.StateDir.startsWith(PACKAGE_PATHS.state)) {
    notes.push(
      `StateDir is ${raw.StateDir}: the unit's StateDirectory and dpkg --purge handle only ` +
        PACKAGE_PATHS.state,
    );
  }
  const rulesKey = raw.RulesDir === undefined && raw.LocalMonitorConfigDir !== undefined
    ? "LocalMonitorConfigDir"
    : "RulesDir";
  const rules = raw[rulesKey];
  if (rules === undefined || relative(rules)) {
    raw[rulesKey] = PACKAGE_PATHS.rules;
    changed = true;
    notes.push(
      `${rulesKey} ${rules === undefined ? "is not set" : `"${rules}" is relative`}: the ` +
        `package installs the rules (--rules) in ${PACKAGE_PATHS.rules} and uses that`,
    );
  } else if (rules !== PACKAGE_PATHS.rules && rules !== `${PACKAGE_PATHS.rules}/`) {
    notes.push(
      `${rulesKey} is ${rules}: the package installs the rules of --rules in ` +
        `${PACKAGE_PATHS.rules}, which this config does not use`,
    );
  }

  const problems: ConfigProblem[] = [];
  const refuse = (path: string, value: unknown) => {
    if (!relative(value)) return;
    problems.push({
      path,
      message: `"${value}" is relative: in a package it would resolve under /etc/edge-agent, ` +
        "where the package installs nothing but config.json and the rules; give the absolute " +
        "path the file has on the hosts",
    });
  };
  for (const [i, t] of asArray(raw.TypesDB).entries()) refuse(`TypesDB[${i}]`, t);
  for (const [i, l] of asArray(raw.Listen).entries()) {
    refuse(`Listen[${i}].AuthFile`, field(l, "AuthFile"));
  }
  for (const key of ["CAFile", "CertFile", "KeyFile"]) refuse(key, raw[key]);
  const collectd = field(field(raw, "Services"), "collectd");
  for (const key of ["ConfigPath", "CommandPath", "PIDPath"]) {
    refuse(`Services.collectd.${key}`, field(collectd, key));
  }
  if (problems.length) throw new ConfigError(file, problems);
  return { text: changed ? JSON.stringify(raw, null, 2) + "\n" : text, notes };
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function field(v: unknown, key: string): unknown {
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined;
}
