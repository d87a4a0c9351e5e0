import { type Executor, parseDuration } from "../executor/mod.ts";
import { Code, type CommandResult, type Logger, resultTimestamp } from "../model/mod.ts";
import type { OnMaintenanceMessage } from "./router.ts";

/**
 * The MQTT maintenance switch (`{task_id, maintenance: "on" | "off" | "status", for, reason}`,
 * after the router's checks): the executor's switch, the same file `agent maintenance` writes.
 * `on` suspends rule-triggered repairs for `for`, `off` ends it, `status` answers with it.
 */
export function maintenanceSwitch(
  maintenance: Executor["maintenance"],
  logger: Logger,
): OnMaintenanceMessage {
  return (msg, sender) => {
    const result = (message: string, code: number = Code.OK): Promise<CommandResult> =>
      Promise.resolve({ task_id: msg.task_id, timestamp: resultTimestamp(), message, code });
    const by = sender ?? "mqtt";
    if (msg.maintenance === "off") {
      return result(maintenance.off() ? "maintenance ended" : "maintenance was not on");
    }
    if (msg.maintenance === "on") {
      const ms = parseDuration(msg.for ?? "");
      if (!(ms > 0)) return result(`bad duration: ${msg.for}`, Code.INVALID_MESSAGE);
      const m = maintenance.on(ms, { by, ...(msg.reason ? { reason: msg.reason } : {}) });
      logger.warn("maintenance on: rule-triggered repairs are suspended", {
        until: new Date(m.until).toISOString(),
        by,
        reason: msg.reason,
      });
      return result(`maintenance on until ${new Date(m.until).toISOString()}`);
    }
    const m = maintenance.status();
    return result(m ? JSON.stringify(m) : "maintenance off");
  };
}
