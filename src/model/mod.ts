/**
 * Plain data types shared by every stage: metrics and notifications (collectd), actions (rules,
 * remote commands), results, result codes and the logger contract; and durable file writes.
 * @module
 */
export * from "./metric.ts";
export * from "./action.ts";
export * from "./result.ts";
export * from "./codes.ts";
export * from "./logger.ts";
export * from "./lifecycle.ts";
export * from "./rule_event.ts";
export * from "./run_record.ts";
export * from "./counters.ts";
export * from "./durable_file.ts";
export * from "./line_log.ts";
export * from "./denied.ts";
