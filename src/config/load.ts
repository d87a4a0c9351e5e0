import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError, formatPath, problemsFromZod } from "./errors.ts";
import { findJsonProblems, locateJsonError } from "./_json_error.ts";
import { ConfigSchema, type ParsedConfig } from "./schema.ts";

/**
 * A validated config with defaults applied and every path absolute (relative paths in a file
 * are relative to that file's folder; in the built-in default, to the working directory).
 * `RulesDir` is set whichever of its two names the file used.
 */
export type Config = Omit<ParsedConfig, "RulesDir" | "LocalMonitorConfigDir"> & {
  RulesDir: string;
  /** The file it came from, or null for the built-in default. */
  source: string | null;
};

/** A usable config plus what the operator should be told about it. */
export interface LoadedConfig {
  config: Config;
  warnings: string[];
}

/** Effects of loading, passed in so tests need no files. */
export interface LoadConfigOptions {
  readTextFile?: (path: string) => Promise<string>;
  /** File mode bits (e.g. 0o644), or null where the platform has none. */
  mode?: (path: string) => Promise<number | null>;
}

/** Reads, parses and validates a config file. Throws {@linkcode ConfigError} on any problem. */
export async function loadConfig(
  path: string,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  const read = options.readTextFile ?? Deno.readTextFile;
  const mode = options.mode ?? (async (p: string) => (await Deno.stat(p)).mode);
  const file = resolve(path);
  let text: string;
  try {
    text = await read(file);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new ConfigError(file, [{ path: "", message: `cannot read the file: ${why}` }], {
      cause: e,
    });
  }
  const loaded = parseConfig(text, file);
  if (holdsSecret(loaded.config)) {
    const m = await mode(file).catch(() => null);
    if (m !== null && (m & 0o077) !== 0) {
      loaded.warnings.push(
        `${file} holds a secret (Password or Secret) and is readable by group/other (mode ${
          (m & 0o777).toString(8).padStart(3, "0")
        }): run chmod 600 ${file}`,
      );
    }
  }
  return loaded;
}

/** Parses config text (pure). `file` names it in errors and anchors its relative paths. */
export function parseConfig(text: string, file: string): LoadedConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const at = locateJsonError(text);
    const message = at
      ? `invalid JSON at line ${at.line}, column ${at.column}: ${at.message}`
      : `invalid JSON: ${(e as Error).message}`;
    throw new ConfigError(file, [{ path: "", message }], { cause: e });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: "", message: "expected a JSON object" }]);
  }
  // What JSON.parse lets through silently: a key given twice (last wins), a 50 MB string.
  const lint = findJsonProblems(text);
  if (lint.length > 0) {
    throw new ConfigError(
      file,
      lint.map((p) => ({
        path: formatPath(p.path),
        message: `line ${p.line}, column ${p.column}: ${p.message}`,
      })),
    );
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(file, problemsFromZod(parsed.error));
  return { config: finish(parsed.data, dirname(file), file), warnings: [] };
}

/** The built-in default: local-only, listener on 127.0.0.1:25826, rules in ./rules. */
export function defaultConfig(cwd: string = Deno.cwd()): Config {
  return finish(ConfigSchema.parse({}), cwd, null);
}

function finish(parsed: ParsedConfig, base: string, source: string | null): Config {
  const abs = (p: string) => isAbsolute(p) ? p : resolve(base, p);
  const { RulesDir, LocalMonitorConfigDir, ...rest } = parsed;
  return {
    ...rest,
    RulesDir: abs(RulesDir ?? LocalMonitorConfigDir ?? "rules"),
    StateDir: abs(rest.StateDir),
    Listen: rest.Listen.map((l) => l.AuthFile ? { ...l, AuthFile: abs(l.AuthFile) } : l),
    ...(rest.TypesDB ? { TypesDB: rest.TypesDB.map(abs) } : {}),
    Services: collectdPathsAbsolute(rest.Services, abs),
    source,
  };
}

/** `Services.collectd`'s ConfigPath, CommandPath and PIDPath made absolute. */
function collectdPathsAbsolute(
  services: ParsedConfig["Services"],
  abs: (p: string) => string,
): ParsedConfig["Services"] {
  const c = services.collectd;
  if (!c) return services;
  const paths = {
    ...(c.ConfigPath ? { ConfigPath: abs(c.ConfigPath) } : {}),
    ...(c.CommandPath ? { CommandPath: abs(c.CommandPath) } : {}),
    ...(c.PIDPath ? { PIDPath: abs(c.PIDPath) } : {}),
  };
  return { ...services, collectd: { ...c, ...paths } };
}

function holdsSecret(c: Config): boolean {
  return c.Password !== undefined || c.SignAs !== undefined ||
    c.CommandSenders.length > 0 ||
    [...c.NotifyServers, ...c.Telemetry.CollectdServers].some((s) => s.Password !== undefined);
}

/** Whether the config names a broker (otherwise the agent runs local-only, a normal mode). */
export function hasBroker(c: Config): boolean {
  return c.Host !== undefined;
}

/** A copy safe to print: every secret replaced by "********". */
export function redacted(c: Config): Config {
  return JSON.parse(
    JSON.stringify(c),
    (k, v) =>
      (k === "Password" || k === "Secret" || k === "Key") && typeof v === "string" ? "********" : v,
  );
}
