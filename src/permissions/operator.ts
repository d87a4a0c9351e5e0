import type { Config } from "../config/mod.ts";
import { emptyPermissions, grant, type Permissions } from "./grants.ts";

/**
 * The subcommands an operator runs beside the daemon (`agent <name> …`). They start with the
 * operator permissions below, never with the daemon's; everything else (`run`, the rule host)
 * starts with the daemon's. scripts/_flags.sh keeps the same list (a test compares them).
 */
export const OPERATOR_COMMANDS = [
  "check-config",
  "maintenance",
  "send-command",
  "send-config",
  "status",
  "test-rule",
] as const;

/** Options of {@linkcode operatorPermissions}. */
export interface OperatorOptions {
  /** The program's own executable (the rule-host child of check-config and test-rule). */
  self?: string;
}

/**
 * What the operator commands need, beside the daemon (like collectdctl beside collectd):
 * reading any file the operator names (`send-config PATH`, `test-rule FILE`, `--replay FILE`,
 * `check-config --config FILE`), connecting to any broker (`--host H`), writing only StateDir
 * (`maintenance`; `status` connects to the agent's socket there, which needs write access to
 * it), and running only themselves (the sandboxed rule host). They never run a recovery
 * command: `send-command` asks the agent to.
 */
export function operatorPermissions(config: Config, options: OperatorOptions = {}): Permissions {
  const p = emptyPermissions();
  p.unrestricted.push(
    { kind: "read", reason: "files the operator names: send-config PATH, test-rule FILE, …" },
    { kind: "net", reason: "the broker the operator names: send-command/send-config --host" },
  );
  grant(
    p,
    "write",
    config.StateDir,
    "StateDir: maintenance on/off writes maintenance.json; status connects to status.sock",
  );
  grant(p, "run", options.self ?? Deno.execPath(), "the sandboxed rule host of test-rule");
  grant(p, "sys", "hostname", "the host name ({host} in topics)");
  p.fixed.push(
    { value: "--unstable-worker-options", reason: "rule workers with permissions: none" },
    { value: "--unstable-net", reason: "Deno.listenDatagram" },
    { value: "--allow-env", reason: "npm:mqtt's dependencies enumerate the environment" },
    { value: "--no-prompt", reason: "a missing permission fails instead of asking" },
  );
  return p;
}
