import { dirname } from "node:path";
import { includeDirsFor } from "../collectd_conf/mod.ts";
import {
  BINARY_CANDIDATES,
  CONFIG_CANDIDATES,
  DEFAULT_PID_FILES,
  PS_CANDIDATES,
  SYSTEMCTL_CANDIDATES,
} from "../collectd_conf/replace/mod.ts";
import type { Config } from "../config/mod.ts";
import { KILL_HELPERS } from "../executor/mod.ts";
import { grant, type Permissions } from "./grants.ts";

/** `Services.collectd`, as the schema outputs it. */
type CollectdSettings = Config["Services"][string];

/**
 * Files of collectd's configuration the agent reads besides collectd.conf itself, each with the
 * reason: the folder holding collectd.conf (the replacement syncs it after the atomic rename).
 * The include folders the policy reads are granted beside it, in {@linkcode collectdGrants}.
 */
export function collectdConfReads(conf: string): { path: string; reason: string }[] {
  return [{
    path: dirname(conf),
    reason: "Services.collectd: collectd.conf's folder (synced after the atomic rename)",
  }];
}

/**
 * What collectd.conf replacement (send-config) touches, and nothing else: the file, its `.new`
 * and `.orig` beside it and their folder; the collectd binary (checks a new file, and starts
 * collectd by default); collectd's pid file; ps (is a pid alive: /proc needs --allow-all);
 * systemctl (is collectd a systemd unit, its MainPID, the default restart there); kill (the
 * default stop by pid).
 */
export function collectdGrants(
  p: Permissions,
  collectd: CollectdSettings,
  abs: (path: string) => string,
): void {
  const why = "Services.collectd: collectd.conf replacement";
  const confs = collectd.ConfigPath ? [abs(collectd.ConfigPath)] : [...CONFIG_CANDIDATES];
  const confKey = collectd.ConfigPath ? "Services.collectd.ConfigPath" : why;
  for (const conf of confs) {
    for (const f of [conf, `${conf}.new`, `${conf}.orig`]) {
      grant(p, "read", f, confKey);
      grant(p, "write", f, confKey);
    }
    for (const r of collectdConfReads(conf)) grant(p, "read", r.path, r.reason);
  }
  // The collectd.conf policy (src/collectd_conf/) reads the files a new config includes.
  for (const dir of includeDirsFor(confs, collectd.IncludeDirs)) {
    grant(p, "read", dir, "Services.collectd.IncludeDirs: files a new collectd.conf may include");
  }
  const binaries = collectd.CommandPath ? [abs(collectd.CommandPath)] : [...BINARY_CANDIDATES];
  const binKey = collectd.CommandPath ? "Services.collectd.CommandPath" : why;
  for (const bin of binaries) {
    grant(p, "run", bin, `${binKey}: check a new file (-t/-T), start collectd by default`);
    grant(p, "read", bin, `${binKey}: which collectd binary exists`);
  }
  const pidFiles = collectd.PIDPath ? [abs(collectd.PIDPath)] : [...DEFAULT_PID_FILES];
  const pidKey = collectd.PIDPath ? "Services.collectd.PIDPath" : why;
  for (const f of pidFiles) grant(p, "read", f, `${pidKey}: collectd's pid file`);
  for (const ps of PS_CANDIDATES) {
    grant(p, "run", ps, `${why}: is collectd's pid alive (ps -o stat=; /proc needs --allow-all)`);
  }
  for (const systemctl of SYSTEMCTL_CANDIDATES) {
    const what = "is collectd a systemd unit, its MainPID, the default restart there";
    grant(p, "run", systemctl, `${why}: ${what}`);
    grant(p, "read", systemctl, `${why}: which systemctl exists`);
  }
  for (const kill of KILL_HELPERS) {
    grant(p, "run", kill, `${why}: stop collectd by its pid (the default without systemd)`);
  }
}
