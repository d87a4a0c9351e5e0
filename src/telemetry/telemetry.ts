import { PACKETS_COUNTER, VALUES_COUNTER } from "../collectd/mod.ts";
import type { Config } from "../config/mod.ts";
import { EVALUATIONS_COUNTER, HANDLERS_GAUGE, RULE_DROPS_COUNTER } from "../evaluator/mod.ts";
import type { Counters, Logger, Stage } from "../model/mod.ts";
import { createCollectdReport } from "./collectd_report.ts";
import {
  activityCheck,
  combineChecks,
  type HealthCheck,
  type HealthReport,
  quietCheck,
  stallCheck,
  totalOf,
} from "./health.ts";
import { registerProcessGauges } from "./process_gauges.ts";
import { createTelemetryServer } from "./server.ts";
import { summarize } from "./status.ts";

/**
 * Fails while the rule stage drops packets (rule host down, queue full), or while values arrive
 * but no handler is called although handlers are loaded.
 */
function ruleWorkersCheck(counters: Counters, windowMs: number): HealthCheck {
  const drops = quietCheck(() => totalOf(counters, RULE_DROPS_COUNTER), {
    windowMs,
    what: "packets dropped by the rule stage (rule host down or queue full): last",
  });
  const stall = stallCheck(
    () => totalOf(counters, VALUES_COUNTER),
    () => totalOf(counters, EVALUATIONS_COUNTER),
    { windowMs, what: "rule evaluations", active: () => totalOf(counters, HANDLERS_GAUGE) > 0 },
  );
  return () => {
    const d = drops();
    return d.ok ? stall() : d;
  };
}

/** Options of {@linkcode createTelemetry}. */
export interface TelemetryOptions {
  /** The registry every stage registers in. */
  counters: Counters;
  logger: Logger;
  /** The `host` of the own value lists (the agent's host name). */
  hostName: string;
  /**
   * Health checks added to (or, same name, replacing) the built-in ones: "listener receiving"
   * (packets within `HealthWindow`) and "rule workers up" (values arrive but no handler call for
   * `HealthWindow` while handlers are loaded).
   */
  checks?: Record<string, HealthCheck>;
}

/** The agent's self-monitoring. */
export interface Telemetry extends Stage {
  /** Every check now (what `/healthz` answers). */
  health(): HealthReport;
  /** A compact summary of every figure (for the MQTT status message); refreshes RSS first. */
  status(): Record<string, number>;
  /** Bound address of the HTTP endpoint (after start; undefined when `Telemetry.Listen` is unset). */
  readonly addr: Deno.NetAddr | undefined;
}

/**
 * Builds the telemetry stage from `config.Telemetry`: process gauges in `counters`, the health
 * checks, the `/metrics` + `/healthz` endpoint when `Listen` is set, and the own-figures report
 * when `CollectdServers` is not empty. `start` rejects when the endpoint cannot bind.
 */
export function createTelemetry(
  settings: Config["Telemetry"],
  options: TelemetryOptions,
): Telemetry {
  const { counters, logger } = options;
  const refresh = registerProcessGauges(counters);
  const health = combineChecks({
    "listener receiving": activityCheck(() => totalOf(counters, PACKETS_COUNTER), {
      windowMs: settings.HealthWindow * 1000,
      what: "collectd packets",
    }),
    "rule workers up": ruleWorkersCheck(counters, settings.HealthWindow * 1000),
    ...options.checks,
  });
  const server = settings.Listen === undefined ? undefined : createTelemetryServer({
    listen: settings.Listen,
    counters,
    health,
    logger: logger.child("telemetry"),
    beforeScrape: refresh,
  });
  const report = settings.CollectdServers.length === 0 ? undefined : createCollectdReport({
    servers: settings.CollectdServers,
    counters,
    logger: logger.child("telemetry"),
    hostName: options.hostName,
    intervalS: settings.CollectdInterval,
    beforeReport: refresh,
  });
  return {
    health,
    status() {
      refresh();
      return summarize(counters.snapshot());
    },
    get addr() {
      return server?.addr;
    },
    async start() {
      await server?.start();
      await report?.start();
    },
    async stop() {
      await report?.stop();
      await server?.stop();
    },
  };
}
