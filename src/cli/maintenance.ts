import {
  endMaintenance,
  type Maintenance,
  maintenanceDuration,
  MaintenanceReasonSchema,
  readMaintenance,
  startMaintenance,
} from "../executor/mod.ts";
import { ExitCode } from "../model/mod.ts";
import type { CliCommand } from "./_command.ts";
import { CONFIG_OPTION, loadFromArgs } from "./_config.ts";

const USAGE = "agent maintenance on --for DURATION [--reason TEXT] | off | status " +
  "[--config FILE] [--json]";

/**
 * `agent maintenance on|off|status`: the maintenance switch (a file in StateDir that the running
 * agent reads on every rule-triggered run; no restart or signal needed).
 */
export const maintenanceCommand: CliCommand = {
  name: "maintenance",
  summary: "suspend rule-triggered recovery commands for a while (remote commands still run)",
  usage: USAGE,
  options: {
    ...CONFIG_OPTION,
    for: { type: "string" },
    reason: { type: "string" },
    json: { type: "boolean" },
  },
  async run({ values, positionals }, io) {
    const [action, ...extra] = positionals;
    if (!action || !["on", "off", "status"].includes(action) || extra.length) {
      io.stderr(`agent maintenance: expected on, off or status\nUsage: ${USAGE}\n`);
      return ExitCode.USAGE;
    }
    let forMs = NaN;
    if (action === "on") {
      if (typeof values.for !== "string") {
        io.stderr(
          "agent maintenance on: --for needs a duration such as 90s, 30m, 2h, 1d or 1h30m\n",
        );
        return ExitCode.USAGE;
      }
      try {
        forMs = maintenanceDuration(values.for);
      } catch (e) {
        io.stderr(`agent maintenance on: --for: ${(e as Error).message} (got "${values.for}")\n`);
        return ExitCode.USAGE;
      }
      const reason = MaintenanceReasonSchema.safeParse(values.reason ?? "");
      if (!reason.success) {
        io.stderr(
          `agent maintenance on: --reason: at most 256 characters, no control characters\n`,
        );
        return ExitCode.USAGE;
      }
    } else if (values.for !== undefined || values.reason !== undefined) {
      io.stderr(`agent maintenance ${action}: --for and --reason go with "on"\n`);
      return ExitCode.USAGE;
    }
    const stateDir = (await loadFromArgs(values)).config.StateDir;
    try {
      if (action === "on") {
        const reason = typeof values.reason === "string" ? values.reason : undefined;
        const m = startMaintenance(stateDir, forMs, {
          by: "cli",
          ...(reason !== undefined ? { reason } : {}),
        });
        io.stdout(describe(m, values.json === true));
      } else if (action === "off") {
        const was = endMaintenance(stateDir);
        io.stdout(
          values.json
            ? JSON.stringify({ maintenance: false, was_on: was }) + "\n"
            : was
            ? "maintenance: off (rule-triggered runs resume)\n"
            : "maintenance: was not on\n",
        );
      } else {
        // A file that cannot be read is not "off": say what could not be read, and why.
        let unreadable: unknown = null;
        const m = readMaintenance(stateDir, Date.now(), (why, error) => {
          if (error !== undefined) unreadable = error;
          else io.stderr(`warning: ${why}\n`);
        });
        if (unreadable !== null) throw unreadable;
        io.stdout(describe(m, values.json === true));
      }
    } catch (e) {
      io.stderr(`agent maintenance ${action}: cannot use ${stateDir}: ${(e as Error).message}\n`);
      return ExitCode.RUNTIME;
    }
    return ExitCode.OK;
  },
};

function describe(m: Maintenance | null, json: boolean): string {
  if (json) {
    return JSON.stringify(
      m
        ? {
          maintenance: true,
          since: new Date(m.since).toISOString(),
          until: new Date(m.until).toISOString(),
          ...(m.reason !== undefined ? { reason: m.reason } : {}),
          ...(m.by !== undefined ? { by: m.by } : {}),
        }
        : { maintenance: false },
    ) + "\n";
  }
  if (!m) return "maintenance: off\n";
  const left = Math.max(0, Math.round((m.until - Date.now()) / 60_000));
  return `maintenance: on until ${new Date(m.until).toISOString()} (${left} min left)` +
    (m.reason ? `, reason: ${m.reason}` : "") + (m.by ? `, by ${m.by}` : "") +
    "; rule-triggered runs are suppressed, remote commands still run\n";
}
