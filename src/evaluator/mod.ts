/**
 * The rule stage: loads the user's `*.ts` rule files (types stripped by an embedded
 * transpiler), runs them in a sandboxed child process (workers with no permissions) under a
 * time budget, and reports fired/cleared decisions.
 * @module
 */
export { createEvaluator } from "./evaluator.ts";
export type {
  BatchDone,
  EvaluateResult,
  Evaluator,
  EvaluatorOptions,
  RuleActivity,
} from "./evaluator.ts";
export {
  ERRORS_COUNTER,
  EVALUATIONS_COUNTER,
  FIRED_COUNTER,
  HANDLER_ERRORS_COUNTER,
  HANDLERS_GAUGE,
  HOST_RESTARTS_COUNTER,
  OVERRUNS_COUNTER,
  RULE_DROPS_COUNTER,
} from "./counters.ts";
export { defaultHostCommand, HOST_SUBCOMMAND, HOST_V8_FLAGS, runRuleHost } from "./_host_client.ts";
export type { HostCommand } from "./_host_client.ts";
export { releaseMemory } from "./_release_memory.ts";
export { formatProblem } from "./_sources.ts";
export type { RuleProblem } from "./_sources.ts";
export type { RuleLog } from "./_protocol.ts";
export { parseItem, parseMetric, parseNotification } from "./items.ts";
export { openRecorder, parseRecording, readRecording } from "./record.ts";
export type { Recorder, RecorderOptions } from "./record.ts";
export { checkRules } from "./check.ts";
export type { CheckRulesOptions, RulesCheck } from "./check.ts";
