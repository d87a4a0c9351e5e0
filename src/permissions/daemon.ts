import { dirname, isAbsolute, resolve } from "node:path";
import { DEFAULT_TYPES_DB_PATHS } from "../collectd/mod.ts";
import { type Config, DEFAULT_CONFIG_FILE } from "../config/mod.ts";
import { parseEndpoint, SYSTEM_CA_BUNDLES } from "../mqtt/mod.ts";
import { STATUS_SOCKET } from "../status/mod.ts";
import { collectdGrants } from "./_collectd.ts";
import { serviceGrants } from "./_services.ts";
import { emptyPermissions, grant, PermissionDerivationError, type Permissions } from "./grants.ts";

/** The types.db the package installs for hosts without collectd (see packaging/). */
export const PACKAGED_TYPES_DB = "/usr/share/edge-agent/types.db";

/** Name of the syslog sender's own datagram socket, inside StateDir (see src/log/syslog.ts). */
export const SYSLOG_BIND_NAME = "syslog.sock";

/** Name of the agent's own end of the sd_notify datagram socket, inside StateDir. */
export const NOTIFY_BIND_NAME = "notify.sock";

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
   * for none. Abstract (`@name`) sockets cannot be granted by a flag (see docs/packaging.md).
   */
  notifySocket?: string | null;
  /**
   * Grant nothing to run for a command that cannot be resolved, only read access to where it was
   * looked for: the agent then reports it itself ("does not exist", "not found in PATH").
   */
  lenient?: boolean;
  /**
   * `here` (default): the executables must exist on this machine. `elsewhere`: a package built
   * for other hosts; an absolute executable missing here is granted as named (with a warning).
   */
  target?: "here" | "elsewhere";
  /** Whether `path` is an executable file. Default: stat. */
  isExecutable?: (path: string) => boolean;
  /** Told what the operator should know about the derivation (e.g. a missing executable). */
  onWarning?: (message: string) => void;
}

/**
 * The least permissions the agent (`run`, and its rule-host child) needs for `config`, each with
 * the config key it is granted for. Pure apart from stat-ing executables.
 */
export function derivePermissions(config: Config, options: DeriveOptions = {}): Permissions {
  const p = emptyPermissions();
  const base = config.source ? dirname(config.source) : Deno.cwd();
  const abs = (path: string) => isAbsolute(path) ? path : resolve(base, path);

  // run: the recovery commands (resolved exactly as the executor resolves them) and the kill
  // helpers; what collectd.conf replacement runs; the agent itself (the rule-host child).
  serviceGrants(p, config, {
    lenient: options.lenient === true,
    target: options.target ?? "here",
    ...(options.isExecutable ? { isExecutable: options.isExecutable } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
  if (config.Services.collectd) collectdGrants(p, config.Services.collectd, abs);
  const self = options.self ?? Deno.execPath();
  grant(p, "run", self, "the agent's own executable, spawned as the sandboxed rule-host child");

  // net: collectd listeners, brokers, notification servers, telemetry.
  for (const [i, l] of config.Listen.entries()) {
    grant(p, "net", hostPort(l.Host, l.Port), `Listen[${i}]: collectd listener`);
  }
  for (const [i, n] of config.NotifyServers.entries()) {
    grant(p, "net", hostPort(n.Host, n.Port), `NotifyServers[${i}]: collectd notifications`);
  }
  const telemetry = config.Telemetry;
  if (telemetry.Listen) grant(p, "net", telemetry.Listen, "Telemetry.Listen: /metrics, /healthz");
  for (const [i, t] of telemetry.CollectdServers.entries()) {
    grant(p, "net", hostPort(t.Host, t.Port), `Telemetry.CollectdServers[${i}]: own figures`);
  }
  const udpTargets = [...config.NotifyServers, ...telemetry.CollectdServers];
  const udpWhy = "NotifyServers, Telemetry.CollectdServers: the ephemeral UDP port sent from";
  if (udpTargets.some((t) => !t.Host.includes(":"))) grant(p, "net", "0.0.0.0:0", udpWhy);
  if (udpTargets.some((t) => t.Host.includes(":"))) grant(p, "net", "[::]:0", `${udpWhy} (IPv6)`);
  if (config.Host !== undefined) {
    for (const h of [config.Host].flat()) {
      const { host, port } = parseEndpoint(h, config.Secure);
      grant(p, "net", hostPort(host, port), "Host: MQTT broker");
    }
  }

  // read/write: config, rules, types.db, TLS and auth files, state.
  if (config.source) grant(p, "read", config.source, "the config file (read again on SIGHUP)");
  else grant(p, "read", DEFAULT_CONFIG_FILE, "the default config: is it there (used when it is)");
  grant(p, "read", config.RulesDir, "RulesDir: rule files");
  const typesDb = config.TypesDB ?? [...DEFAULT_TYPES_DB_PATHS, PACKAGED_TYPES_DB];
  for (const t of typesDb) grant(p, "read", t, "TypesDB: data-source names");
  for (const [i, l] of config.Listen.entries()) {
    if (l.AuthFile) grant(p, "read", l.AuthFile, `Listen[${i}].AuthFile: collectd users`);
  }
  for (const key of ["CAFile", "CertFile", "KeyFile"] as const) {
    const file = config[key];
    if (file !== undefined) grant(p, "read", abs(file), `${key}: MQTT TLS`);
  }
  if (config.Secure && config.CAFile === undefined) {
    for (const bundle of SYSTEM_CA_BUNDLES) {
      grant(p, "read", bundle, "Secure without CAFile: the system CA bundle");
    }
  }
  grant(p, "read", config.StateDir, "StateDir: audit log, spool, counters");
  grant(p, "write", config.StateDir, "StateDir: audit log, spool, counters");
  // A unix socket path inside the agent's own 0700 folder: no address, no port (docs/status.md).
  const status = `unix:${resolve(config.StateDir, STATUS_SOCKET)}`;
  grant(p, "net", status, "StateDir: the status socket `agent status` reads (root only)");

  if (config.LogDevice === "syslog") {
    grant(p, "write", "/dev/log", "LogDevice syslog");
    grant(p, "net", "unix:/dev/log", "LogDevice syslog (unix datagram)");
    // Deno autobinds a datagram socket only with every permission: the sender binds a path.
    const own = `unix:${resolve(config.StateDir, SYSLOG_BIND_NAME)}`;
    grant(p, "net", own, "LogDevice syslog: own socket");
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
    grant(p, "write", notify, "sd_notify (READY/WATCHDOG/STOPPING) to systemd");
    grant(p, "net", `unix:${notify}`, "sd_notify datagram to systemd");
    const own = `unix:${resolve(config.StateDir, NOTIFY_BIND_NAME)}`;
    grant(p, "net", own, "sd_notify: own socket");
  }

  grant(p, "sys", "hostname", "the host name ({host} in topics, results)");
  for (const [i, l] of config.Listen.entries()) {
    if (l.Interface !== undefined) {
      grant(p, "sys", "networkInterfaces", `Listen[${i}].Interface: the multicast interface`);
    }
  }
  p.fixed.push(
    { value: "--unstable-worker-options", reason: "rule workers with permissions: none" },
    { value: "--unstable-net", reason: "Deno.listenDatagram (collectd UDP, unix datagrams)" },
    {
      value: "--allow-env",
      reason: "npm:mqtt's dependencies enumerate the environment (and the intake reads " +
        "EDGE_AGENT_RMEM_DEFAULT, the receive buffer the launcher found)",
    },
    { value: "--no-prompt", reason: "a missing permission fails instead of asking" },
    {
      value: `--v8-flags=${AGENT_V8_FLAGS}`,
      reason: "memory: V8's young generation bounded (peak); gc() for one memory-reducing " +
        "collection once started (idle)",
    },
    {
      value: "--no-code-cache",
      reason: "start-up: checking and reading V8's code cache of the bundle took ~90 ms more " +
        "than compiling it",
    },
  );
  return p;
}

/**
 * V8 flags of the agent's own process: a 2 MiB semi-space (young generation ≤ 6 MiB) instead of
 * V8's up to 16 MiB, which the agent filled under a flood and never gave back: peak private
 * memory 104–114 MiB → 49–57 MiB at 100–300 k values/s, with no more CPU
 * (scripts/bench/footprint.ts). `gc()` exposed: the agent collects once when it has started
 * (start-up's garbage, ~15 MiB of heap pages, would otherwise stay until V8's memory reducer
 * runs, tens of seconds later).
 */
export const AGENT_V8_FLAGS = "--max-semi-space-size=2,--expose-gc";

/** `host:port` as Deno's --allow-net writes it (`[v6]:port`). */
export function hostPort(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, "$1"); // "[::1]" as well as "::1"
  return bare.includes(":") ? `[${bare}]:${port}` : `${bare}:${port}`;
}
