/**
 * The executor: the only place a `{ service, command }` name becomes a running process.
 * Allowlist from config (string form split without a shell, or explicit argv), bounded runs in
 * their own process group, restart-storm protection, the closed loop, the maintenance switch.
 * @module
 */
export { createExecutor } from "./executor.ts";
export type {
  Escalation,
  Executor,
  ExecutorActivity,
  ExecutorOptions,
  RunRequest,
} from "./executor.ts";
export type { RunningCommand } from "./_slots.ts";
export type { LoopView } from "./_rule_path.ts";
export { refusalMessage, splitCommandLine } from "./command_line.ts";
export type { SplitResult } from "./command_line.ts";
export { checkServices, CLEAN_ENV, COMMAND_DEFAULTS, compileServices } from "./services.ts";
export type {
  CheckServicesOptions,
  CompiledCommand,
  CompiledServices,
  ServiceProblem,
  ServicesConfig,
} from "./services.ts";
export { createProcessRunner } from "./runner.ts";
export { KILL_HELPERS } from "./_signal.ts";
export type { ProcessRunnerOptions, Runner, RunOutcome, RunSpec } from "./runner.ts";
export { type Clock, systemClock } from "./clock.ts";
export {
  endMaintenance,
  MAINTENANCE_FILE,
  maintenanceDuration,
  MaintenanceReasonSchema,
  MAX_MAINTENANCE_MS,
  parseDuration,
  readMaintenance,
  startMaintenance,
} from "./maintenance.ts";
export type { Maintenance, StartMaintenanceOptions } from "./maintenance.ts";
