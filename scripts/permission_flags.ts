/**
 * The least Deno permission flags a config needs, each with the reason it is granted. Used by
 * `scripts/agent` (development runs), `scripts/compile` (baked into the binary), `scripts/bundle`
 * and `scripts/package_deb` (the packaged launcher), so every run holds the same restrictions.
 *
 * ```sh
 * scripts/deno run --allow-read --allow-env scripts/permission_flags.ts --config FILE \
 *   [--as INSTALLED_PATH] [--self PATH] [--notify-socket PATH] [--lenient]
 *   [--format args|explain|json]
 * ```
 * `args` (default) prints one flag per line; `explain` prints each flag with its reasons.
 * `--as` derives for FILE's text as it will be installed (e.g. /etc/edge-agent/config.json), so
 * its relative paths resolve there (packages).
 * @module
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Config, defaultConfig, loadConfig, parseConfig } from "../src/config/mod.ts";
import { DEFAULT_TYPES_DB_PATHS } from "../src/collectd/types_db.ts";
import { includeDirsFor } from "../src/collectd_conf/mod.ts";
import { checkServices } from "../src/executor/services.ts";
import { KILL_HELPERS } from "../src/executor/mod.ts";
import {
  BINARY_CANDIDATES,
  CONFIG_CANDIDATES,
  DEFAULT_PID_FILE,
} from "../src/commands/_replace_paths.ts";
import { parseEndpoint } from "../src/mqtt/settings.ts";

/** One granted resource and why. */
export interface Grant {
  value: string;
  reason: string;
}

/** The derived permissions, by kind; `flags()` turns them into Deno command-line flags. */
export interface Permissions {
  run: Grant[];
  net: Grant[];
  read: Grant[];
  write: Grant[];
  /** Flags granted whole, with their reasons (env, sys, unstable features, no prompt). */
  fixed: Grant[];
}

/** The types.db the package installs for hosts without collectd (see packaging/). */
export const PACKAGED_TYPES_DB = "/usr/share/edge-agent/types.db";

/** Name of the syslog sender's own datagram socket, inside StateDir (see src/log/syslog.ts). */
export const SYSLOG_BIND_NAME = "syslog.sock";

/** Name of the agent's own end of the sd_notify datagram socket, inside StateDir. */
export const NOTIFY_BIND_NAME = "notify.sock";

/** The telemetry settings, read loosely so this file does not depend on that schema's shape. */
interface TelemetryKeys {
  Listen?: string;
  CollectdServers?: { Host: string; Port: number }[];
}

/** Options of {@linkcode derivePermissions}. */
export interface DeriveOptions {
  /**
   * The agent's own executable, as `Deno.execPath()` will report it where the agent runs: the
   * deno binary under `deno run` (a bundle or main.ts), the installed path of a compiled binary.
   * The rule engine spawns it again as the sandboxed rule-host child. Default: this Deno.
   */
  self?: string;
  /**
   * `$NOTIFY_SOCKET` the agent will be started with (systemd: `/run/systemd/notify`), or null
   * for none. Abstract (`@name`) sockets cannot be granted by a flag (see the README).
   */
  notifySocket?: string | null;
  /**
   * Grant nothing for a command that cannot be resolved instead of failing: the agent then
   * reports that command itself (scripts/agent, so `check-config` shows the agent's own message).
   */
  lenient?: boolean;
  /** Whether `path` is an executable file. Default: stat. */
  isExecutable?: (path: string) => boolean;
}

/** A config the flags cannot express (e.g. a path holding a comma). */
export class PermissionDerivationError extends Error {
  override name = "PermissionDerivationError";
}

/** Derives the least permissions `config` needs (pure apart from stat-ing executables). */
export function derivePermissions(config: Config, options: DeriveOptions = {}): Permissions {
  const p: Permissions = { run: [], net: [], read: [], write: [], fixed: [] };
  const add = (kind: keyof Permissions, value: string, reason: string) => {
    if (value.includes(",")) {
      throw new PermissionDerivationError(
        `Cannot grant ${kind} access to "${value}" (${reason}): Deno's permission flags are ` +
          `comma-separated, so the path must not contain a comma`,
      );
    }
    const have = p[kind].find((g) => g.value === value);
    if (have) {
      if (!have.reason.split("; ").includes(reason)) have.reason += `; ${reason}`;
    } else p[kind].push({ value, reason });
  };
  const base = config.source ? dirname(config.source) : Deno.cwd();
  const abs = (path: string) => isAbsolute(path) ? path : resolve(base, path);

  // run: the recovery commands, resolved exactly as the executor resolves them.
  const checked = checkServices(config.Services, {
    mayRun: () => true,
    ...(options.isExecutable ? { isExecutable: options.isExecutable } : {}),
  });
  if (checked.problems.length && !options.lenient) {
    throw new PermissionDerivationError(
      "Cannot derive --allow-run from Services:\n" +
        checked.problems.map((x) => `  - ${x.path}: ${x.message}`).join("\n"),
    );
  }
  for (const [service, commands] of checked.services) {
    for (const [name, command] of commands) {
      add("run", command.argv[0]!, `recovery command ${service}/${name}`);
    }
  }
  if (checked.services.size > 0) {
    for (const kill of KILL_HELPERS) {
      add("run", kill, "signal a timed-out command's whole process group (executor)");
    }
  }
  const collectd = config.Services.collectd;
  if (collectd) {
    // collectd.conf replacement (send-config): the file, its .new and .orig beside it, the
    // collectd binary that checks a new file, the pid file, and /proc/<pid>/stat.
    const why = "collectd.conf replacement (Services.collectd)";
    for (const conf of collectd.ConfigPath ? [abs(collectd.ConfigPath)] : CONFIG_CANDIDATES) {
      for (const f of [conf, `${conf}.new`, `${conf}.orig`]) {
        add("read", f, why);
        add("write", f, why);
      }
    }
    for (const bin of collectd.CommandPath ? [abs(collectd.CommandPath)] : BINARY_CANDIDATES) {
      add("run", bin, `${why}: check a new file with collectd -t/-T`);
    }
    const pidFiles = collectd.PIDPath
      ? [abs(collectd.PIDPath)]
      : [DEFAULT_PID_FILE, DEFAULT_PID_FILE.replace(/^\/var\/run\//, "/run/")];
    for (const f of pidFiles) add("read", f, `${why}: collectd's pid file`);
    add("read", "/proc", `${why}: whether collectd's pid is alive (/proc/<pid>/stat)`);
    // The collectd.conf policy (src/collectd_conf/) reads the files a new config includes.
    const configs = collectd.ConfigPath ? [abs(collectd.ConfigPath)] : [...CONFIG_CANDIDATES];
    for (const dir of includeDirsFor(configs, collectd.IncludeDirs)) {
      add("read", dir, `${why}: files a new collectd.conf includes (IncludeDirs)`);
    }
  }
  const self = options.self ?? Deno.execPath();
  add("run", self, "the agent's own executable, spawned as the sandboxed rule-host child");

  // net: collectd listeners, brokers, collectd notification servers.
  for (const l of config.Listen) add("net", hostPort(l.Host, l.Port), "collectd listener");
  for (const n of config.NotifyServers) {
    add("net", hostPort(n.Host, n.Port), "collectd notification server");
  }
  const telemetry = (config as { Telemetry?: TelemetryKeys }).Telemetry;
  if (telemetry?.Listen) add("net", telemetry.Listen, "Telemetry.Listen: /metrics and /healthz");
  for (const t of telemetry?.CollectdServers ?? []) {
    add("net", hostPort(t.Host, t.Port), "Telemetry.CollectdServers");
  }
  const udpTargets = [...config.NotifyServers, ...(telemetry?.CollectdServers ?? [])];
  if (udpTargets.some((t) => !t.Host.includes(":"))) {
    add("net", "0.0.0.0:0", "the ephemeral UDP port notifications/telemetry are sent from");
  }
  if (udpTargets.some((t) => t.Host.includes(":"))) {
    add("net", "[::]:0", "the ephemeral UDP port notifications/telemetry are sent from (IPv6)");
  }
  if (config.Host !== undefined) {
    for (const h of [config.Host].flat()) {
      const { host, port } = parseEndpoint(h, config.Secure);
      add("net", hostPort(host, port), "MQTT broker");
    }
  }

  // read/write: config, rules, types.db, TLS and auth files, state.
  if (config.source) add("read", config.source, "the config file (read again on SIGHUP)");
  add("read", config.RulesDir, "rule files");
  const typesDb = config.TypesDB ?? [...DEFAULT_TYPES_DB_PATHS, PACKAGED_TYPES_DB];
  for (const t of typesDb) add("read", t, "types.db");
  for (const l of config.Listen) {
    if (l.AuthFile) add("read", l.AuthFile, "collectd AuthFile (Sign/Encrypt)");
  }
  const tlsFiles = config as Partial<Record<"CAFile" | "CertFile" | "KeyFile", string>>;
  for (const key of ["CAFile", "CertFile", "KeyFile"] as const) {
    const file = tlsFiles[key];
    if (file !== undefined) add("read", abs(file), `MQTT TLS ${key}`);
  }
  add("read", config.StateDir, "StateDir: audit log, spool, counters");
  add("write", config.StateDir, "StateDir: audit log, spool, counters");

  if (config.LogDevice === "syslog") {
    add("write", "/dev/log", "LogDevice syslog");
    add("net", "unix:/dev/log", "LogDevice syslog (unix datagram)");
    // Deno autobinds a datagram socket only with every permission: the sender binds a path.
    add(
      "net",
      `unix:${resolve(config.StateDir, SYSLOG_BIND_NAME)}`,
      "LogDevice syslog: own socket",
    );
  }
  const notify = options.notifySocket ?? null;
  if (notify !== null) {
    if (notify.startsWith("@")) {
      throw new PermissionDerivationError(
        `Cannot grant access to the abstract $NOTIFY_SOCKET "${notify}": Deno's --allow-net ` +
          `takes only absolute unix socket paths; use a path socket (systemd's default ` +
          `/run/systemd/notify)`,
      );
    }
    add("write", notify, "sd_notify (READY/WATCHDOG/STOPPING) to systemd");
    add("net", `unix:${notify}`, "sd_notify datagram to systemd");
    add("net", `unix:${resolve(config.StateDir, NOTIFY_BIND_NAME)}`, "sd_notify: own socket");
  }

  p.fixed.push(
    { value: "--unstable-worker-options", reason: "rule workers with permissions: none" },
    { value: "--unstable-net", reason: "Deno.listenDatagram (collectd UDP, unix datagrams)" },
    { value: "--allow-env", reason: "npm:mqtt's dependencies enumerate the environment" },
    { value: "--allow-sys=hostname", reason: "the host name ({host} in topics, results)" },
    { value: "--no-prompt", reason: "a missing permission fails instead of asking" },
  );
  return p;
}

/** The Deno command-line flags for `p`, in a stable order. */
export function permissionFlags(p: Permissions): string[] {
  const list = (kind: "run" | "net" | "read" | "write") =>
    p[kind].length ? [`--allow-${kind}=${p[kind].map((g) => g.value).join(",")}`] : [];
  return [
    ...p.fixed.map((g) => g.value),
    ...list("read"),
    ...list("write"),
    ...list("net"),
    ...list("run"),
  ];
}

/** One line per granted resource: `--allow-read  /etc/edge-agent/config.json  (reason)`. */
export function explain(p: Permissions): string {
  const lines: string[] = [];
  for (const kind of ["read", "write", "net", "run"] as const) {
    for (const g of p[kind]) lines.push(`--allow-${kind}  ${g.value}  (${g.reason})`);
  }
  for (const g of p.fixed) lines.push(`${g.value}  (${g.reason})`);
  return lines.join("\n");
}

function hostPort(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, "$1"); // "[::1]" as well as "::1"
  return bare.includes(":") ? `[${bare}]:${port}` : `${bare}:${port}`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      config: { type: "string", short: "c" },
      self: { type: "string" },
      "notify-socket": { type: "string" },
      lenient: { type: "boolean" },
      format: { type: "string", default: "args" },
      as: { type: "string" },
    },
  });
  try {
    const config = !values.config
      ? defaultConfig()
      : values.as
      ? parseConfig(await Deno.readTextFile(values.config), values.as).config
      : (await loadConfig(values.config)).config;
    const p = derivePermissions(config, {
      ...(values.self ? { self: resolve(values.self) } : {}),
      notifySocket: values["notify-socket"] || null,
      lenient: values.lenient === true,
    });
    const out = values.format === "explain"
      ? explain(p)
      : values.format === "json"
      ? JSON.stringify(p, null, 2)
      : permissionFlags(p).join("\n");
    console.log(out);
  } catch (e) {
    console.error(`permission_flags: ${(e as Error).message}`);
    Deno.exit(3);
  }
}
