/**
 * The rule stage's counters: their names (what `/metrics`, `/healthz`, the MQTT status and the
 * own figures sent to collectd show; read elsewhere only through these constants) and their
 * registration.
 * @module
 */
import type { Counter, Counters, Gauge } from "../model/mod.ts";

/** Handler calls made by the rule stage. */
export const EVALUATIONS_COUNTER = "edge_agent_rules_evaluations_total";
/** Handler calls that threw. */
export const ERRORS_COUNTER = "edge_agent_rules_errors_total";
/** `fired` events of rule handlers. */
export const FIRED_COUNTER = "edge_agent_rules_fired_total";
/** Restarts of the rule host (budget overruns, crashes). */
export const HOST_RESTARTS_COUNTER = "edge_agent_rules_host_restarts_total";
/** Packets the rule stage could not evaluate (queue full or rule host down). */
export const RULE_DROPS_COUNTER = "edge_agent_rules_dropped_packets_total";
/** Rule handlers running (a gauge). */
export const HANDLERS_GAUGE = "edge_agent_rules_handlers";
/** Handler calls that threw, per `handler`. */
export const HANDLER_ERRORS_COUNTER = "edge_agent_rules_handler_errors_total";
/** Budget overruns and crashes, per `handler`. */
export const OVERRUNS_COUNTER = "edge_agent_rules_overruns_total";

/** The rule stage's counters, registered in one registry. */
export interface RuleCounters {
  evaluations: Counter;
  errors: Counter;
  fired: Counter;
  restarts: Counter;
  dropped: Counter;
  handlers: Gauge;
  /** The errors counter of one handler (registered on first use). */
  handlerErrors(handler: string): Counter;
  /** The overruns counter of one handler (registered on first use). */
  overruns(handler: string): Counter;
}

/** Registers the rule stage's counters in `counters`. */
export function ruleCounters(counters: Counters): RuleCounters {
  return {
    evaluations: counters.counter(EVALUATIONS_COUNTER, "Handler calls made by the rule stage"),
    errors: counters.counter(ERRORS_COUNTER, "Handler calls that threw"),
    fired: counters.counter(FIRED_COUNTER, "fired events of rule handlers"),
    restarts: counters.counter(
      HOST_RESTARTS_COUNTER,
      "Restarts of the rule host (budget overruns, crashes)",
    ),
    dropped: counters.counter(
      RULE_DROPS_COUNTER,
      "Packets not evaluated (queue full or rule host down)",
    ),
    handlers: counters.gauge(HANDLERS_GAUGE, "Rule handlers running"),
    handlerErrors: (handler) =>
      counters.counter(HANDLER_ERRORS_COUNTER, "Handler calls that threw, per handler", {
        handler,
      }),
    overruns: (handler) =>
      counters.counter(OVERRUNS_COUNTER, "Budget overruns and crashes, per handler", { handler }),
  };
}
