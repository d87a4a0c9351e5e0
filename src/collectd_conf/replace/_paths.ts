import { dirname, isAbsolute, resolve } from "node:path";
import { deniedError, isDenied } from "../../model/mod.ts";

/** Where a distribution's collectd.conf usually lives, most likely first. */
export const CONFIG_CANDIDATES = [
  "/etc/collectd/collectd.conf",
  "/etc/collectd.conf",
  "/opt/collectd/etc/collectd.conf",
] as const;

/** Where the collectd binary usually lives. */
export const BINARY_CANDIDATES = ["/usr/sbin/collectd", "/opt/collectd/sbin/collectd"] as const;

/** collectd's compiled-in pid file. */
export const DEFAULT_PID_FILE = "/var/run/collectd.pid";

/** Where the default pid file is read (`/var/run` is a link to `/run` on current systems). */
export const DEFAULT_PID_FILES = [DEFAULT_PID_FILE, "/run/collectd.pid"] as const;

/** systemctl, asked whether collectd is a systemd unit and for its main pid. */
export const SYSTEMCTL_CANDIDATES = ["/usr/bin/systemctl", "/bin/systemctl"] as const;

/**
 * ps, asked whether a pid is alive and not a zombie (`ps -o stat= -p PID`): reading /proc needs
 * `--allow-all` in Deno, and `kill -0` also succeeds for a zombie nobody reaped.
 */
export const PS_CANDIDATES = ["/usr/bin/ps", "/bin/ps"] as const;

/** The files one replacement touches. */
export interface ReplacePaths {
  /** The live collectd.conf. */
  config: string;
  /** The new text, written next to it and checked before the swap. */
  next: string;
  /** The previous file, kept after a successful replacement. */
  backup: string;
  /** Whether `config` came from the usual locations rather than `ConfigPath`. */
  searched: boolean;
}

/**
 * The collectd.conf to replace: `ConfigPath`, else the first usual location that exists.
 * Returns null when neither is available.
 */
export function locateConfig(
  configured: string | undefined,
  exists: (path: string) => boolean = fileExists,
): ReplacePaths | null {
  const config = configured ?? CONFIG_CANDIDATES.find((p) => exists(p));
  if (config === undefined) return null;
  return {
    config,
    next: `${config}.new`,
    backup: `${config}.orig`,
    searched: configured === undefined,
  };
}

/** The collectd binary: `CommandPath`, else the first usual location there (default /usr/sbin). */
export function locateBinary(
  configured: string | undefined,
  exists: (path: string) => boolean = fileExists,
): string {
  return configured ?? BINARY_CANDIDATES.find((p) => exists(p)) ?? BINARY_CANDIDATES[0];
}

/**
 * The pid file a collectd running `configText` writes: `PIDPath` when set, else the config's
 * top-level `PIDFile` (relative to the config's folder), else collectd's default.
 */
export function pidFileFor(
  configText: string,
  configPath: string,
  configured: string | undefined,
): string {
  if (configured !== undefined) return configured;
  const named = topLevelOption(configText, "PIDFile");
  if (named === null) return DEFAULT_PID_FILE;
  return isAbsolute(named) ? named : resolve(dirname(configPath), named);
}

/**
 * The value of a top-level `Key value` line of a collectd config (keys are case-insensitive;
 * lines inside `<Block>`s and comments are skipped). The last occurrence wins, as in collectd.
 */
export function topLevelOption(text: string, key: string): string | null {
  let depth = 0;
  let found: string | null = null;
  const wanted = key.toLowerCase();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("</")) {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (line.startsWith("<")) {
      depth++;
      continue;
    }
    if (depth > 0 || line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s+(?:"((?:[^"\\]|\\.)*)"|([^\s#"]+))/.exec(line);
    if (m && m[1]!.toLowerCase() === wanted) {
      found = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!;
    }
  }
  return found;
}

/** Whether `path` is a file; a path the flags do not let the agent see is an error, not "no". */
export function fileExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    if (!isDenied(e)) throw e;
    throw deniedError(`tell whether ${path} exists`, "--allow-read", "Services.collectd", e);
  }
}
