/**
 * The collectd.conf policy: which plugins a new config may load, and where the few global and
 * plugin options that name files may point. Pure: it judges item trees (includes resolved).
 * @module
 */
import { dirname, isAbsolute, posix } from "node:path";
import type { Located } from "./include.ts";
import type { ConfItem } from "./parse.ts";
import { canonicalPlugin, READ_ONLY_PLUGINS, RISKY_PLUGINS } from "./plugins.ts";

/** Options of {@linkcode checkPolicy}. */
export interface PolicyOptions {
  /** `Services.collectd.AllowedPlugins`: allowed on top of the default, risky ones included. */
  allowedPlugins: readonly string[];
  /** The current collectd.conf's items (includes resolved), or null when it cannot be read. */
  current: Located[] | null;
  /** `Services.collectd.IncludeDirs` (TypesDB files may be there too). */
  includeDirs: readonly string[];
  /** `Services.collectd.PIDPath`, when set. */
  pidPath?: string | undefined;
}

/** Where collectd keeps its own types.db (a new config may always name files there). */
const TYPES_DB_DIRS = ["/usr/share/collectd"];
/** collectd's default pid file folders. */
const PID_DIRS = ["/var/run", "/run"];
/** collectd's default BaseDir (PKGLOCALSTATEDIR); a new config may move it only below. */
const BASE_DIR = "/var/lib/collectd";
/** Where logfile/log_logstash may write besides what the current config uses. */
const LOG_DIRS = ["/var/log"];

/**
 * The plugins a config loads, each with the first place that loads it: every `LoadPlugin`
 * (option or block), and every `<Plugin x>` when `AutoLoadPlugin` is on anywhere in it.
 */
export function pluginsLoaded(items: Located[]): Map<string, Located> {
  const loaded = new Map<string, Located>();
  const autoLoad = items.some(({ item }) =>
    item.key.toLowerCase() === "autoloadplugin" &&
    item.values.some((v) =>
      v.type === "boolean" ? v.value : v.type === "string" && /^(true|yes|on)$/i.test(v.value)
    )
  );
  for (const at of items) {
    const key = at.item.key.toLowerCase();
    const names = key === "loadplugin"
      ? strings(at.item)
      : key === "plugin" && autoLoad
      ? strings(at.item).slice(0, 1)
      : [];
    for (const name of names.map(canonicalPlugin)) if (!loaded.has(name)) loaded.set(name, at);
  }
  return loaded;
}

function strings(item: ConfItem): string[] {
  return item.values.flatMap((v) => v.type === "string" ? [v.value] : []);
}

const where = (at: Located) => `${at.file} line ${at.item.line}`;

/** Why the config is refused (one reason, the first found), or null when it is allowed. */
export function checkPolicy(items: Located[], options: PolicyOptions): string | null {
  const explicit = new Set(options.allowedPlugins.map(canonicalPlugin));
  const current = options.current === null ? new Map() : pluginsLoaded(options.current);
  for (const [name, at] of pluginsLoaded(items)) {
    if (explicit.has(name)) continue;
    const risk = RISKY_PLUGINS.get(name);
    if (risk !== undefined) {
      return `plugin "${name}" (loaded at ${where(at)}) ${risk}: such plugins are allowed ` +
        `only by name in Services.collectd.AllowedPlugins`;
    }
    if (READ_ONLY_PLUGINS.has(name) || current.has(name)) continue;
    return `plugin "${name}" (loaded at ${where(at)}) is neither in the default read-only set ` +
      `nor loaded by the current collectd.conf; add it to Services.collectd.AllowedPlugins`;
  }
  return checkFileOptions(items, options);
}

/** PluginDir, BaseDir, TypesDB, PIDFile, logfile's File: options naming files collectd uses. */
function checkFileOptions(items: Located[], options: PolicyOptions): string | null {
  const cur = options.current ?? [];
  const globals = (list: Located[], key: string) =>
    list.filter(({ item }) => item.key.toLowerCase() === key.toLowerCase());
  const curValues = (key: string) =>
    new Set(globals(cur, key).flatMap(({ item }) => strings(item)));

  const pluginDirs = curValues("PluginDir");
  for (const at of globals(items, "PluginDir")) {
    for (const dir of strings(at.item)) {
      if (!pluginDirs.has(dir)) {
        return `PluginDir "${dir}" (${where(at)}): collectd would load plugins (code) from ` +
          `there; only the current collectd.conf's PluginDir is accepted`;
      }
    }
  }

  const baseDirs = curValues("BaseDir");
  for (const at of globals(items, "BaseDir")) {
    for (const dir of strings(at.item)) {
      const path = posix.resolve("/", dir);
      if (baseDirs.has(dir) || path === BASE_DIR || within(path, [BASE_DIR])) continue;
      return `BaseDir "${dir}" (${where(at)}) is created and written by collectd as root: it ` +
        `must be under ${BASE_DIR} or the current collectd.conf's BaseDir`;
    }
  }

  const typesDbs = curValues("TypesDB");
  for (const at of globals(items, "TypesDB")) {
    for (const file of strings(at.item)) {
      const path = posix.resolve("/", file);
      if (typesDbs.has(file) || within(path, [...TYPES_DB_DIRS, ...options.includeDirs])) continue;
      return `TypesDB "${file}" (${where(at)}) is read by collectd as root: it must be ` +
        `under ${[...TYPES_DB_DIRS, ...options.includeDirs].join(", ")} or already in the ` +
        `current collectd.conf`;
    }
  }

  const pidFiles = curValues("PIDFile");
  const pidDirs = [
    ...PID_DIRS,
    ...[...pidFiles, options.pidPath ?? ""].filter((f) => isAbsolute(f)).map((f) => dirname(f)),
  ];
  for (const at of globals(items, "PIDFile")) {
    for (const file of strings(at.item)) {
      const path = posix.normalize(file);
      if (
        pidFiles.has(file) || (isAbsolute(path) && path.endsWith(".pid") && within(path, pidDirs))
      ) {
        continue;
      }
      return `PIDFile "${file}" (${where(at)}) is overwritten by collectd as root: it must ` +
        `be a *.pid file under ${pidDirs.join(", ")} or the current collectd.conf's PIDFile`;
    }
  }

  const logFiles = new Set(cur.flatMap(logFilesOf).map((f) => f.file));
  for (const at of items) {
    for (const { file, line } of logFilesOf(at)) {
      if (/^(stdout|stderr)$/i.test(file) || logFiles.has(file)) continue;
      if (isAbsolute(file) && within(posix.normalize(file), LOG_DIRS)) continue;
      return `log File "${file}" (${at.file} line ${line}) is appended to by collectd as root: ` +
        `it must be STDOUT, STDERR, under ${LOG_DIRS.join(", ")} or a File the current ` +
        `collectd.conf logs to`;
    }
  }
  return null;
}

/** The `File` options of `<Plugin logfile>` / `<Plugin log_logstash>` blocks. */
function logFilesOf({ item }: Located): { file: string; line: number }[] {
  if (item.key.toLowerCase() !== "plugin") return [];
  const plugin = item.values[0];
  if (plugin?.type !== "string" || !/^(logfile|log_logstash)$/i.test(plugin.value)) return [];
  return item.children.filter((c) => c.key.toLowerCase() === "file")
    .flatMap((c) => strings(c).map((file) => ({ file, line: c.line })));
}

function within(path: string, dirs: readonly string[]): boolean {
  return dirs.some((d) => {
    const dir = d.replace(/(.)\/$/, "$1");
    return dir === "/" || path.startsWith(`${dir}/`);
  });
}
