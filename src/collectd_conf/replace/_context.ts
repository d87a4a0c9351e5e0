import type { Config } from "../../config/mod.ts";
import {
  Code,
  codeText,
  type CommandResult,
  type Counters,
  type Logger,
  resultTimestamp,
} from "../../model/mod.ts";
import type { CheckConfig } from "./_collectd.ts";
import { type Clock, errText, hex, type Restarter } from "./_restart.ts";
import type { Journal, JournalStore } from "./_journal.ts";

/** `Services.collectd` as config.json gives it. */
export type CollectdServiceSettings = Config["Services"][string];

/** What every step of one replacement works with (built once per replacer). */
export interface ReplaceContext {
  log: Logger;
  clock: Clock;
  journal: JournalStore;
  /** `Services.collectd` now (it follows config reloads); undefined: not configured. */
  settings(): CollectdServiceSettings | undefined;
  /** How collectd runs on this host, decided per replacement. */
  restarter: Restarter;
  /** `collectd -t|-T` for `binary` (or the checker given in the options). */
  checker(binary: string): CheckConfig;
  /** Milliseconds one restart-and-confirm may take (ReplaceTimeout). */
  timeoutMs(): number;
  /** The final result (counted, logged), without touching the journal. */
  finish(j: Pick<Journal, "task_id" | "timestamp">, code: number, message: string): CommandResult;
  /** The final result, recorded durably in the journal, which is then cleared. */
  done(j: Journal, code: number, message: string): Promise<CommandResult>;
}

/** The parts of a {@linkcode ReplaceContext} a replacer is made of. */
export interface ContextParts {
  log: Logger;
  clock: Clock;
  journal: JournalStore;
  counters: Counters;
  settings(): CollectdServiceSettings | undefined;
  restarter: Restarter;
  checker(binary: string): CheckConfig;
  timeoutMs(): number;
}

/** Adds `finish` and `done` (results counted by code, logged, journalled) to the parts. */
export function replaceContext(parts: ContextParts): ReplaceContext {
  const { log, clock, journal, counters } = parts;

  function finish(
    j: Pick<Journal, "task_id" | "timestamp">,
    code: number,
    message: string,
  ): CommandResult {
    const result: CommandResult = {
      task_id: j.task_id,
      timestamp: resultTimestamp(clock.now()),
      message,
      code,
    };
    counters.counter(
      "edge_agent_config_replace_total",
      "collectd.conf replacements by result code",
      { code: hex(code) },
    ).inc();
    const fields = { task_id: j.task_id, code: codeText(code), message };
    if (code === Code.OK) log.info("collectd.conf replaced", fields);
    else log.error("collectd.conf replacement failed", fields);
    return result;
  }

  async function done(j: Journal, code: number, message: string): Promise<CommandResult> {
    const result = finish(j, code, message);
    try {
      await journal.write({ ...j, phase: "done", result });
      await journal.clear();
    } catch (e) {
      log.error("cannot update the replacement journal", { error: errText(e) });
    }
    return result;
  }

  return { ...parts, finish, done };
}

/** The task a journal's collectd commands run for (to label the run, e.g. in the audit log). */
export function taskOf(j: Journal): { task_id: Journal["task_id"]; sender?: string } {
  return j.sender === undefined ? { task_id: j.task_id } : { task_id: j.task_id, sender: j.sender };
}
