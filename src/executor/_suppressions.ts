import { rateLimited } from "../log/mod.ts";
import type { Counters, Logger } from "../model/mod.ts";
import type { Clock } from "./clock.ts";

/**
 * Why a rule-triggered run did not start: held back (`cooldown`, `busy`, `maintenance`), given
 * up on (`max_runs`), its loop already `pending`, `verifying` or `escalated`, or the command is
 * not configured (`unknown_command`). The `reason` label of `edge_agent_executor_suppressed_total`.
 */
export type SuppressReason =
  | "cooldown"
  | "busy"
  | "maintenance"
  | "max_runs"
  | "pending"
  | "verifying"
  | "escalated"
  | "unknown_command";

/** The run a trigger asked for. */
export interface Asked {
  handler: string;
  service: string;
  command: string;
}

/** Counts a suppressed run; logs it unless `quiet` (see {@linkcode createSuppressions}). */
export type Suppress = (reason: SuppressReason, asked: Asked, quiet?: boolean) => void;

/** What {@linkcode createSuppressions} writes to. */
export interface SuppressionsOptions {
  log: Logger;
  counters: Counters;
  clock: Clock;
}

/**
 * Counts every suppressed rule-triggered run by service and reason, and logs it at most once a
 * minute per reason, service/command and handler (with how many were suppressed since): max runs
 * as an error (the repair is not working), maintenance as info, the rest as warnings.
 */
export function createSuppressions(options: SuppressionsOptions): Suppress {
  const { log, counters, clock } = options;
  const warn = rateLimited((key, more) => {
    const [reason, where, handler] = key.split("\u0000") as [string, string, string];
    const fields = { service_command: where, handler, reason, suppressed_since_last: more };
    if (reason === "max_runs") {
      log.error(
        `REPAIR IS NOT WORKING: ${where} reached its maximum rule-triggered runs per window; ` +
          "further triggers are suppressed",
        fields,
      );
    } else if (reason === "maintenance") {
      log.info(`rule-triggered repair by ${where} held back (maintenance in force)`, fields);
    } else log.warn(`rule-triggered run of ${where} suppressed (${reason})`, fields);
  }, { intervalMs: 60_000, now: () => clock.now() });

  return (reason, asked, quiet = false) => {
    counters.counter("edge_agent_executor_suppressed_total", "Rule-triggered runs suppressed", {
      service: asked.service,
      reason,
    }).inc();
    if (!quiet) warn(`${reason}\u0000${asked.service}/${asked.command}\u0000${asked.handler}`);
  };
}
