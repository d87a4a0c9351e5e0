/**
 * collectd.conf as the agent reads it before collectd may: collectd's grammar, its `Include`,
 * and the policy a replacement must pass (plugins, include folders, file options). A refused
 * text never reaches collectd, not even `collectd -T` (which runs exec programs and Python).
 * And the replacement itself (`{task_id, config}` over MQTT): vet, check, swap, restart,
 * confirm by a new pid and fresh metrics, roll back; its journal survives an agent restart.
 * @module
 */
export { type ConfFs, denoFs } from "./_fs.ts";
export { type ConfItem, type ConfValue, parseCollectdConf, type ParseResult } from "./parse.ts";
export {
  type IncludeOptions,
  type IncludeProblem,
  type IncludeResult,
  type Located,
  resolveIncludes,
} from "./include.ts";
export { checkPolicy, pluginsLoaded, type PolicyOptions } from "./policy.ts";
export { canonicalPlugin, READ_ONLY_PLUGINS, RISKY_PLUGINS } from "./plugins.ts";
export { includeDirsFor, type Verdict, vetCollectdConf, type VetOptions } from "./vet.ts";
export {
  type CheckConfig,
  type CheckOutcome,
  type Clock,
  type CollectdServiceSettings,
  type ConfigReplacer,
  type ConfigReplacerOptions,
  createConfigReplacer,
  type Exec,
  type ExecOutcome,
  type MetricsSeen,
  type ReplaceTask,
  resultRecord,
  type RunLike,
} from "./replace.ts";
export { createMetricsProbe } from "./probe.ts";
export {
  BINARY_CANDIDATES,
  CONFIG_CANDIDATES,
  DEFAULT_PID_FILES,
  PS_CANDIDATES,
  SYSTEMCTL_CANDIDATES,
} from "./_replace_paths.ts";
